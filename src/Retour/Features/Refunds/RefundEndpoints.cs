using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Money;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Refunds;

public sealed record ExchangeOrderDto(string Number, string OriginalOrder, System.Text.Json.JsonElement Lines, string NewTotal, string ReturnedValue,
    string Difference, string AmountDue, string Status);

public sealed record RefundDto(
    Guid Id, Guid ReturnId, string Rma, RefundStatus Status, RefundMethod Method, RefundTrigger Trigger, string Amount, string Currency,
    RefundEstimateDto Breakdown, string? ProviderReference, string ProviderKey, string? GiftCardCode, int Attempts, string? LastError, bool NeedsAttention,
    DateTimeOffset? NextAttemptAt, DateTimeOffset CreatedAt, DateTimeOffset? IssuedAt, ExchangeOrderDto? ExchangeOrder)
{
    public static RefundDto From(Refund r, ExchangeOrder? x = null) => new(r.Id, r.ReturnId, r.Rma, r.Status, r.Method, r.Trigger,
        Currencies.Format(r.Amount, r.Currency), r.Currency, RefundEstimateDto.From(Json.Deserialize<RefundBreakdown>(r.BreakdownJson)!),
        r.ProviderReference, r.ProviderKey, r.GiftCardCode, r.Attempts, r.LastError, r.NeedsAttention, r.NextAttemptAt, r.CreatedAt, r.IssuedAt,
        x is null ? null : new ExchangeOrderDto(x.Number, x.OriginalOrderNumber, Json.Deserialize<System.Text.Json.JsonElement>(x.LinesJson),
            Currencies.Format(x.NewTotal, x.Currency), Currencies.Format(x.ReturnedValue, x.Currency), Currencies.Format(x.Difference, x.Currency),
            Currencies.Format(x.AmountDue, x.Currency), x.Status));

    public static async Task<IReadOnlyList<RefundDto>> ForReturnAsync(RetourDb db, Guid returnId, CancellationToken ct)
    {
        var refunds = await db.Refunds.AsNoTracking().Where(r => r.ReturnId == returnId).OrderBy(r => r.CreatedAt).ToListAsync(ct);
        if (refunds.Count == 0) return [];
        var exchanges = await db.ExchangeOrders.AsNoTracking().Where(x => x.ReturnId == returnId).ToDictionaryAsync(x => x.RefundId, ct);
        return [.. refunds.Select(r => From(r, exchanges.GetValueOrDefault(r.Id)))];
    }
}

/// <summary>
/// POST /api/v1/returns/{id}/refunds issues what is due now (by the policy's refund moment), once: a second call, a retry
/// with the same Idempotency-Key, or a concurrent call all answer the one refund. GET /api/v1/refunds is support's list
/// (status=failed&amp;needs_attention=true: the refunds out of retries); POST /api/v1/refunds/{id}/retry tries again.
/// </summary>
public static class RefundEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/returns/{idOrRma}/refunds", Issue).RequireScope(Scopes.RefundsWrite).WithName("IssueRefund").WithTags("Refunds")
            .WithSummary("Issue the refund that is due now")
            .WithDescription("No body. 201 with the refund when this call made it (status issued, or pending when the provider's answer is still out, or failed), " +
                             "200 with the existing refund when one was made before. 409 refund_not_due explains when it will be due. Honours Idempotency-Key.");
        api.MapGet("/refunds", List).RequireScope(Scopes.RefundsRead).WithName("ListRefunds").WithTags("Refunds")
            .WithSummary("Refunds, newest first").WithDescription("status=pending|issued|failed (comma-separated); needs_attention=true for the support queue. Cursor paging.");
        api.MapGet("/refunds/{id:guid}", Get).RequireScope(Scopes.RefundsRead).WithName("GetRefund").WithTags("Refunds");
        api.MapPost("/refunds/{id:guid}/retry", Retry).RequireScope(Scopes.RefundsWrite).WithName("RetryRefund").WithTags("Refunds")
            .WithSummary("Try a failed refund again now").WithDescription("For failed refunds, and pending ones support wants asked about now. The provider is called with the same key, so it never pays twice.");
    }

    public static async Task<IResult> Issue(string idOrRma, HttpContext http, RetourDb db, RefundIssuer issuer, IdempotencyScope idem, TimeProvider clock, CancellationToken ct)
    {
        var ret = await ReadReturns.FindAsync(db.Returns, idOrRma, ct);
        if (ret is null) return Problems.NotFound($"There is no return '{idOrRma}'.");
        var actor = Actor.From(http.User);
        var now = clock.GetUtcNow();
        var (refund, created, refusal) = await issuer.PlanAsync(db, ret, RefundTrigger.Manual, actor, now, callerExecutes: true, ct);
        if (refusal is not null)
            return Problems.Result(refusal.Status, refusal.Code, refusal.Title, refusal.Detail, new Dictionary<string, object?> { ["current_status"] = Codes.Of(ret.Status) });
        if (created)
        {
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (Exception e) when (e is DbUpdateConcurrencyException || DbErrors.IsTransient(e) ||
                                      (e is DbUpdateException u && (DbErrors.IsUniqueViolation(u, "refund_claims") || DbErrors.IsUniqueViolation(u, "gift_cards") || DbErrors.IsUniqueViolation(u, "exchange_orders"))))
            {
                // A concurrent call planned the same lines and committed first: answer its refund.
                db.ChangeTracker.Clear();
                refund = await db.Refunds.FirstOrDefaultAsync(r => r.ReturnId == ret.Id, ct);
                if (refund is null) throw;
                created = false;
            }
            if (created && refund!.Status == RefundStatus.Pending) await issuer.ExecuteAsync(db, refund, actor, clock.GetUtcNow(), ct);
        }
        var fresh = await db.Refunds.AsNoTracking().FirstAsync(r => r.Id == refund!.Id, ct);
        var exchange = await db.ExchangeOrders.AsNoTracking().FirstOrDefaultAsync(x => x.RefundId == fresh.Id, ct);
        var dto = RefundDto.From(fresh, exchange);
        // The Idempotency-Key is stored with the answer once the provider's outcome is recorded; a retry before that finds the
        // refund by its return, so either way it answers this refund.
        return created
            ? await db.CommitAsync(idem, TypedResults.Created($"/api/v1/refunds/{fresh.Id}", dto), now, ct)
            : await db.CommitAsync(idem, TypedResults.Ok(dto), now, ct);
    }

    public static async Task<Results<Ok<Page<RefundDto>>, ProblemHttpResult>> List(RetourDb db, CancellationToken ct, string? status = null,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "needs_attention")] string? needsAttention = null, string? cursor = null, string? limit = null)
    {
        var errors = new List<FieldError>();
        errors.AddRange(Cursor.Check(limit, cursor, 'd', out var take, out var after));
        var statuses = ListFilter.Parse<RefundStatus>(status, "status", errors);
        bool? attention = needsAttention switch { null or "" => null, "true" => true, "false" => false, _ => null };
        if (needsAttention is not (null or "" or "true" or "false")) errors.Add(new("needs_attention", "Use true or false."));
        if (errors.Count > 0) return Problems.Validation(errors);
        var q = db.Refunds.AsNoTracking();
        if (statuses.Count > 0) q = q.Where(r => statuses.Contains(r.Status));
        if (attention is { } a2) q = q.Where(r => r.NeedsAttention == a2);
        if (after is { } a) q = q.Where(r => r.CreatedAt < a.At || (r.CreatedAt == a.At && r.Id.CompareTo(a.Id) < 0));
        var rows = await q.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Take(take + 1).ToListAsync(ct);
        var more = rows.Count > take;
        if (more) rows.RemoveAt(take);
        return TypedResults.Ok(new Page<RefundDto>([.. rows.Select(r => RefundDto.From(r))], more ? Cursor.Encode('d', rows[^1].CreatedAt, rows[^1].Id) : null, more));
    }

    public static async Task<Results<Ok<RefundDto>, ProblemHttpResult>> Get(Guid id, RetourDb db, CancellationToken ct)
    {
        var r = await db.Refunds.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id, ct);
        if (r is null) return Problems.NotFound($"There is no refund '{id}'.");
        return TypedResults.Ok(RefundDto.From(r, await db.ExchangeOrders.AsNoTracking().FirstOrDefaultAsync(x => x.RefundId == id, ct)));
    }

    public static async Task<Results<Ok<RefundDto>, ProblemHttpResult>> Retry(Guid id, HttpContext http, RetourDb db, RefundIssuer issuer, RetourSettings settings, TimeProvider clock, CancellationToken ct)
    {
        var r = await db.Refunds.FirstOrDefaultAsync(x => x.Id == id, ct);
        if (r is null) return Problems.NotFound($"There is no refund '{id}'.");
        if (r.Status == RefundStatus.Issued) return Problems.Result(409, "refund_issued", "This refund is issued", "It was paid; there is nothing to retry.");
        var now = clock.GetUtcNow();
        var actor = Actor.From(http.User);
        // Take the lease first, so the worker leaves it alone while this call runs.
        r.NextAttemptAt = now + settings.RefundLease;
        r.NeedsAttention = false;
        r.UpdatedAt = now;
        db.AuditEvents.Add(new AuditEvent
        {
            EntityType = "return", EntityId = r.ReturnId, Action = "refund_retried", ToState = Codes.Of(r.Status), ActorType = actor.Type, ActorId = actor.Id,
            ActorName = actor.Name, Reason = $"after {r.Attempts} attempts: {r.LastError}", OccurredAt = now,
        });
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateConcurrencyException) { return Problems.Result(409, "concurrent_update", "The refund changed meanwhile", "The worker is calling the provider for it now. Read it again."); }
        r.Attempts = 0; // a person's retry starts a fresh round of attempts
        await issuer.ExecuteAsync(db, r, actor, clock.GetUtcNow(), ct, askFirst: true);
        var fresh = await db.Refunds.AsNoTracking().FirstAsync(x => x.Id == id, ct);
        return TypedResults.Ok(RefundDto.From(fresh));
    }
}
