using Microsoft.EntityFrameworkCore;
using Retour.Core.Money;
using Retour.Core.Returns;
using Retour.Features.Returns;
using Retour.Infrastructure;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Refunds;

/// <summary>
/// Reconciliation and retries. A due refund (pending whose answer never came, or failed whose backoff is over) is leased
/// by moving its next_attempt_at under its concurrency token, so two workers never call for the same one; then the
/// provider is asked about the refund's key before any new call, which is what makes "paid, then crashed" safe.
/// </summary>
public sealed class RefundWorker(IServiceScopeFactory scopes, RefundIssuer issuer, RetourSettings settings, TimeProvider clock, ILogger<RefundWorker> log)
{
    public async Task<int> RunDueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        List<(Guid Id, Guid MerchantId)> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            due = (await db.Refunds.IgnoreQueryFilters().AsNoTracking()
                .Where(r => (r.Status == RefundStatus.Pending || r.Status == RefundStatus.Failed) && r.NextAttemptAt != null && r.NextAttemptAt <= now)
                .OrderBy(r => r.NextAttemptAt).Take(50).Select(r => new { r.Id, r.MerchantId }).ToListAsync(ct))
                .Select(r => (r.Id, r.MerchantId)).ToList();
        }
        var done = 0;
        foreach (var (id, merchantId) in due)
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(merchantId);
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            var refund = await db.Refunds.FirstOrDefaultAsync(r => r.Id == id, ct);
            if (refund is null || refund.NextAttemptAt is not { } at || at > now || refund.Status == RefundStatus.Issued) continue;
            refund.NextAttemptAt = now + settings.RefundLease;
            refund.UpdatedAt = clock.GetUtcNow();
            try { await db.SaveChangesAsync(ct); }
            catch (DbUpdateConcurrencyException) { continue; } // another worker leased it
            try
            {
                await issuer.ExecuteAsync(db, refund, Actor.System, clock.GetUtcNow(), ct, askFirst: true);
                done++;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                log.LogRetried(e, "Refund {Refund} could not be reconciled; its lease ends and it is tried again", id);
            }
        }
        return done;
    }
}

public sealed class RefundWorkerHost(RefundWorker worker, RetourSettings settings, ILogger<RefundWorkerHost> log) : PollingHost(settings, log)
{
    protected override string What => "Refund work";
    protected override TimeSpan Idle => TimeSpan.FromMilliseconds(500);
    protected override bool WaitAfterWork => true;
    protected override async Task<bool> RunOnceAsync(CancellationToken stop) => await worker.RunDueAsync(stop) > 0;
}

/// <summary>
/// Issues refunds when the policy's moment comes: approval (keep-it, through refund.due), first scan, arrival, inspection. It only plans the
/// refund (pending, due now) in the relay's unit of work; the worker calls the provider after that commits, so a
/// handler that is delivered twice can never pay twice. On inspection of an already refunded return, it resolves it.
/// </summary>
public sealed class RefundOnEvents(RefundIssuer issuer, TimeProvider clock) : IOutboxHandler
{
    public string Name => "refund_trigger";
    // Not return.approved: every approval would be claimed and read for nothing; keep-it approvals raise refund.due instead.
    public IReadOnlyCollection<string> Types { get; } = [ReturnTransitions.RefundDue, "return.in_transit", "return.delivered", "return.received", "return.inspected"];

    public async Task HandleAsync(OutboxMessage message, RetourDb db, IServiceProvider services, CancellationToken ct)
    {
        var evt = Json.Deserialize<ReturnEvent>(message.Payload);
        if (evt is null) return;
        var ret = await db.Returns.Include(r => r.Lines).FirstOrDefaultAsync(r => r.Id == evt.ReturnId, ct);
        if (ret is null) return;
        var now = clock.GetUtcNow();
        var trigger = ret.Method == ReturnMethod.Keep ? RefundTrigger.KeepIt : ret.Status switch
        {
            ReturnStatus.InTransit => RefundTrigger.FirstScan,
            ReturnStatus.Delivered or ReturnStatus.Received => RefundTrigger.Delivery,
            _ => RefundTrigger.Inspection,
        };
        var (refund, _, refusal) = await issuer.PlanAsync(db, ret, trigger, Actor.System, now, callerExecutes: false, ct);
        if (refusal is not null || refund is null) return; // not due yet: a later event will bring it
        if (refund.Status == RefundStatus.Issued) await RefundIssuer.AdvanceAsync(db, ret, Actor.System, now, ct);
    }
}
