using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Logistics;
using Retour.Core.Returns;
using Retour.Core.Tracking;
using Retour.Features.Returns;
using Retour.Infrastructure;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Carriers;

/// <summary>
/// Background carrier work, in every node that runs background work: polls carriers without webhooks (the sandbox),
/// expires unused labels, and escalates failed pickups nobody answered. Each job row is claimed with a row lock (FOR UPDATE SKIP LOCKED on PostgreSQL) and a lease, so
/// nodes share the work without doing any of it twice.
/// </summary>
public sealed class CarrierWorker(
    IServiceScopeFactory scopes, TrackingIngest ingest, RetourSettings settings, TimeProvider clock, ILogger<CarrierWorker> log)
{
    public const int Batch = 100;
    /// <summary>A claimed poll is not claimed again for this long (the lease), should the node die mid-poll.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    public static readonly TimeSpan MaxPollInterval = TimeSpan.FromMinutes(10);
    public const string ExpiredEvent = "return.label_expired";
    /// <summary>The label is still unused a few days before it expires: the shopper is reminded.</summary>
    public const string ExpiringEvent = "return.label_expiring";

    /// <summary>Three days before a label of five days or more expires, one day before a shorter one; none under two days.</summary>
    public static DateTimeOffset? ReminderAt(DateTimeOffset issued, DateTimeOffset expires) => (expires - issued).TotalDays switch
    {
        >= 5 => expires.AddDays(-3),
        >= 2 => expires.AddDays(-1),
        _ => null,
    };

    /// <summary>Publishes return.label_expiring for labels still unused when their reminder is due. Returns how many.</summary>
    public Task<int> RemindLabelsAsync(CancellationToken ct) => EachDueAsync("label_reminder_at", RemindOneAsync, ct);

    private async Task<int> RemindOneAsync(RetourDb db, Shipment s, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var shipment = await db.Shipments.FirstAsync(x => x.Id == s.Id, ct);
        shipment.LabelReminderAt = null;
        var ret = await db.Returns.AsNoTracking().FirstAsync(r => r.Id == s.ReturnId, ct);
        var remind = shipment.PickedUpAt is null && shipment.CancelledAt is null && shipment.LabelExpiresAt > now && ret.Status == ReturnStatus.AwaitingShipment;
        if (remind)
            db.Publish(ExpiringEvent, new
            {
                return_id = ret.Id, ret.Rma, order_number = ret.OrderNumber, tracking_number = shipment.TrackingNumber, carrier = shipment.CarrierCode,
                expires_at = shipment.LabelExpiresAt,
            }, now);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return remind ? 1 : 0;
    }

    /// <summary>
    /// Claims the shipments whose <paramref name="column"/> is due and runs <paramref name="work"/> on each in its own
    /// scope, as its merchant (one writer at a time on SQLite). Returns the sum of what the work counted.
    /// </summary>
    private async Task<int> EachDueAsync(string column, Func<RetourDb, Shipment, CancellationToken, Task<int>> work, CancellationToken ct)
    {
        List<Shipment> due;
        await using (var scope = scopes.CreateAsyncScope())
            due = await ClaimAsync(scope.ServiceProvider.GetRequiredService<RetourDb>(), column, clock.GetUtcNow(), ct);
        var done = 0;
        foreach (var s in due)
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(s.MerchantId);
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            using (await db.WriteSlotAsync(ct)) done += await work(db, s, ct);
        }
        return done;
    }

    /// <summary>Polls the shipments that are due. Returns how many events were stored.</summary>
    public async Task<int> PollDueAsync(CancellationToken ct)
    {
        List<Shipment> claimed;
        var now = clock.GetUtcNow();
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            claimed = await ClaimAsync(db, "next_poll_at", now, ct);
        }
        var stored = 0;
        foreach (var group in claimed.GroupBy(s => s.MerchantId))
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(group.Key);
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            var carriers = await db.Carriers.AsNoTracking().ToDictionaryAsync(c => c.Code, ct);
            foreach (var s in group)
            {
                try { stored += await PollOneAsync(db, s, carriers.GetValueOrDefault(s.CarrierCode), ct); }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    log.LogWarning(e, "Polling {Carrier} for {Tracking} failed", s.CarrierCode, s.TrackingNumber);
                    db.ChangeTracker.Clear();
                    var failures = s.PollFailures + 1;
                    await db.Shipments.Where(x => x.Id == s.Id).ExecuteUpdateAsync(u => u
                        .SetProperty(x => x.PollFailures, failures).SetProperty(x => x.NextPollAt, clock.GetUtcNow() + Backoff(failures)), ct);
                }
            }
        }
        return stored;
    }

    /// <summary>From 15 s, doubling with each poll that brought nothing (or failed), up to 10 minutes.</summary>
    public static TimeSpan Backoff(int emptyPolls) =>
        TimeSpan.FromSeconds(Math.Min(MaxPollInterval.TotalSeconds, ShipmentBooking.FirstPoll.TotalSeconds * Math.Pow(2, Math.Min(10, emptyPolls))));

    private async Task<int> PollOneAsync(RetourDb db, Shipment s, Carrier? carrier, CancellationToken ct)
    {
        if (carrier is null || carrier.Adapter != "sandbox" || s.CancelledAt is not null)
        {
            await db.Shipments.Where(x => x.Id == s.Id).ExecuteUpdateAsync(u => u.SetProperty(x => x.NextPollAt, (DateTimeOffset?)null), ct);
            return 0;
        }
        var plan = Plan(s, carrier);
        var now = clock.GetUtcNow();
        var start = PlanStart(s);
        var simNow = (now - start) * settings.SandboxSpeed;
        var reported = SandboxLife.ReportedBy(plan, simNow);
        var result = reported.Count == 0 ? null : await ingest.IngestAsync(db,
            [new TrackingUpdate("sandbox", s.TrackingNumber, s.CarrierCode, [.. reported.Select(e => new TrackingCheckpoint(
                e.Id, [e.Code], e.Code, e.Message, start + e.At / settings.SandboxSpeed, e.Location))])],
            new Actor("carrier", carrier.Code, carrier.Name), ct);
        var fresh = result?.Stored ?? 0;
        // The sandbox has said all it will once every planned event is reported.
        var done = reported.Count >= plan.Count;
        var failures = fresh > 0 ? 0 : s.PollFailures + 1;
        await db.Shipments.Where(x => x.Id == s.Id).ExecuteUpdateAsync(u => u
            .SetProperty(x => x.PollFailures, failures)
            .SetProperty(x => x.NextPollAt, done ? null : now + (fresh > 0 ? ShipmentBooking.FirstPoll : Backoff(failures))), ct);
        return fresh;
    }

    /// <summary>
    /// The sandbox life of a shipment's current pickup booking (or drop-off): planned from its seed, its carrier's behaviour
    /// and its slot. A re-booked pickup gets a new plan from the re-booking, with its own seed and the attempts so far.
    /// </summary>
    public static IReadOnlyList<SimEvent> Plan(Shipment s, Carrier carrier)
    {
        var behaviour = SandboxOptions.From(carrier.AdapterOptions).Behaviour;
        var from = PlanStart(s);
        var slot = s.PickupDate is { } d ? new DateTimeOffset(d.ToDateTime(new TimeOnly(9, 0)), TimeSpan.Zero) - from : TimeSpan.Zero;
        return SandboxLife.Plan(SandboxLife.SeedOf(s.SimSeed, s.PickupRebooks), s.Service, Math.Max(1, s.PromisedDays), behaviour,
            slot < TimeSpan.Zero ? TimeSpan.Zero : slot, s.PickupRebooks);
    }

    /// <summary>Where the current plan's clock starts: the booking, or the last re-booking of the pickup.</summary>
    public static DateTimeOffset PlanStart(Shipment s) => s.RebookedAt ?? s.CreatedAt;

    /// <summary>Moves returns whose label was never used within the policy's days to expired, with the return.label_expired event.</summary>
    public Task<int> ExpireLabelsAsync(CancellationToken ct) => EachDueAsync("label_expires_at", ExpireOneAsync, ct);

    private async Task<int> ExpireOneAsync(RetourDb db, Shipment s, CancellationToken ct)
    {
        var expired = 0;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var shipment = await db.Shipments.FirstAsync(x => x.Id == s.Id, ct);
        var ret = await db.Returns.Include(r => r.Lines).FirstAsync(r => r.Id == s.ReturnId, ct);
        shipment.LabelExpiresAt = null;
        shipment.NextPollAt = null;
        if (shipment.PickedUpAt is null && shipment.CancelledAt is null && ret.Status == ReturnStatus.AwaitingShipment)
        {
            var at = clock.GetUtcNow();
            shipment.Status = Codes.Of(TrackingStatus.Expired);
            shipment.StatusAt = at;
            shipment.UpdatedAt = at;
            db.TrackingEvents.Add(new TrackingEvent
            {
                ShipmentId = shipment.Id, Provider = "retour", EventKey = "expired", Status = Codes.Of(TrackingStatus.Expired), RawCode = "EXPIRED",
                Message = "The label was not used in time", OccurredAt = at, ReceivedAt = at,
            });
            var days = (int)Math.Floor((at - shipment.CreatedAt).TotalDays);
            if (await ReturnTransitions.MoveAsync(db, ret, ReturnStatus.Expired, Actor.System, $"The label {shipment.TrackingNumber} was not used within {days} days.", at, ct) is null)
            {
                db.OutboxMessages.Add(OutboxMessage.Create(ret.MerchantId, ExpiredEvent,
                    new ReturnEvent(ret.Id, ret.Rma, ret.OrderNumber, Codes.Of(ReturnStatus.AwaitingShipment), Codes.Of(ReturnStatus.Expired), "label_expired", at), at));
                expired++;
            }
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return expired;
    }

    /// <summary>Hands failed pickups nobody answered in time to support. Returns how many were escalated.</summary>
    public async Task<int> EscalateOverdueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        List<NdrCase> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            var lockClause = db.IsPostgres ? "FOR UPDATE SKIP LOCKED" : "";
            var sql = $"""
                UPDATE ndr_cases SET answer_by = {"{0}"}
                WHERE id IN (SELECT id FROM ndr_cases WHERE answer_by <= {"{1}"} AND state = 'awaiting_shopper' ORDER BY answer_by, id LIMIT {Batch} {lockClause})
                RETURNING *
                """;
            var (lease, at) = db.IsPostgres ? ((object)(now + Lease), (object)now) : (Micros(now + Lease), Micros(now));
            using (await db.WriteSlotAsync(ct)) due = await db.NdrCases.FromSqlRaw(sql, lease, at).IgnoreQueryFilters().AsNoTracking().ToListAsync(ct);
        }
        var escalated = 0;
        foreach (var c in due)
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(c.MerchantId);
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            var merchant = await scope.ServiceProvider.GetRequiredService<Tenancy.MerchantDirectory>().GetAsync(c.MerchantId, ct);
            using var slot = await db.WriteSlotAsync(ct);
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var ndr = await db.NdrCases.FirstAsync(x => x.Id == c.Id, ct);
            if (ndr.State != NdrState.AwaitingShopper) continue;
            var ret = await db.Returns.FirstAsync(r => r.Id == ndr.ReturnId, ct);
            PickupRecoveryFlow.Escalate(db, ndr, ret, PickupRecovery.OverdueReason(merchant?.PickupRecovery ?? PickupRecoverySettings.Default), clock.GetUtcNow());
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            escalated++;
        }
        return escalated;
    }

    /// <summary>Claims due rows by pushing their time one lease ahead, under a row lock; returns them.</summary>
    private static async Task<List<Shipment>> ClaimAsync(RetourDb db, string column, DateTimeOffset now, CancellationToken ct)
    {
        var lockClause = db.IsPostgres ? "FOR UPDATE SKIP LOCKED" : "";
        var sql = $"""
            UPDATE shipments SET {column} = {"{0}"}
            WHERE id IN (SELECT id FROM shipments WHERE {column} <= {"{1}"} AND cancelled_at IS NULL ORDER BY {column}, id LIMIT {Batch} {lockClause})
            RETURNING *
            """;
        var (lease, at) = db.IsPostgres ? ((object)(now + Lease), (object)now) : (Micros(now + Lease), Micros(now));
        // RETURNING gives the rows with their lease; the claimed time itself is not needed.
        using (await db.WriteSlotAsync(ct))
            return await db.Shipments.FromSqlRaw(sql, lease, at).IgnoreQueryFilters().AsNoTracking().ToListAsync(ct);
    }

    private static object Micros(DateTimeOffset t) => new UnixMicrosConverter().ConvertToProvider(t)!;
}

/// <summary>Runs the carrier work every few seconds.</summary>
public sealed class CarrierWorkerHost(CarrierWorker worker, RetourSettings settings, ILogger<CarrierWorkerHost> log) : PollingHost(settings, log)
{
    protected override string What => "Carrier work";
    protected override TimeSpan Idle => TimeSpan.FromSeconds(2);
    protected override bool WaitAfterWork => true;

    protected override async Task<bool> RunOnceAsync(CancellationToken stop)
    {
        await worker.RemindLabelsAsync(stop);
        await worker.ExpireLabelsAsync(stop);
        await worker.EscalateOverdueAsync(stop);
        if (Settings.SandboxAutopilot) await worker.PollDueAsync(stop);
        return true;
    }
}
