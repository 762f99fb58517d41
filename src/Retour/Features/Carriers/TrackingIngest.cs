using Microsoft.EntityFrameworkCore;
using Retour.Core.Returns;
using Retour.Core.Tracking;
using Retour.Features.Returns;
using Retour.Infrastructure;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;

namespace Retour.Features.Carriers;

/// <summary>What one delivery of tracking events did.</summary>
/// <param name="Unmatched">Events for parcels this merchant has no shipment for (not stored).</param>
public sealed record IngestResult(int Received, int Stored, int Duplicates, int Unmatched, IReadOnlyList<string> UnmatchedTrackingNumbers);

/// <summary>The tracking map in use: the built-in rows plus those of RETOUR_TRACKING_MAP, read once at start-up.</summary>
public sealed class TrackingMaps(RetourSettings settings)
{
    private readonly Lazy<TrackingMap> _map = new(() => settings.TrackingMapFile is { } file
        ? TrackingMap.Default.With(TrackingMap.Parse(File.ReadAllText(file), file))
        : TrackingMap.Default);

    public TrackingMap Current => _map.Value;
}

/// <summary>
/// Stores tracking events and applies them: each event once (by its key within its shipment), mapped through the tracking
/// map with its raw code kept; the shipment's status only moves forward; the return follows (in_transit, delivered,
/// pickup_failed) through the lifecycle, audited; exceptions flag the return for support. One transaction per delivery,
/// with the shipments locked first, so concurrent deliveries for one parcel apply one after the other.
/// </summary>
public sealed class TrackingIngest(TrackingMaps maps, PickupRecoveryFlow recovery, TimeProvider clock, ILogger<TrackingIngest> log)
{
    public const string SupportFlag = "tracking_exception";

    public async Task<IngestResult> IngestAsync(RetourDb db, IReadOnlyList<TrackingUpdate> updates, Actor actor, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try { return await TryIngestAsync(db, updates, actor, ct); }
            catch (DbUpdateException e) when (attempt < 3 && DbErrors.IsUniqueViolation(e, "tracking_events"))
            {
                // Another delivery stored some of these events between our read and our write: read again.
                db.ChangeTracker.Clear();
                log.LogDebug("Concurrent tracking delivery; retrying ({Attempt})", attempt);
            }
        }
    }

    private async Task<IngestResult> TryIngestAsync(RetourDb db, IReadOnlyList<TrackingUpdate> updates, Actor actor, CancellationToken ct)
    {
        var received = updates.Sum(u => u.Checkpoints.Count);
        var numbers = updates.Select(u => u.TrackingNumber).Distinct().ToArray();
        var gated = !db.IsPostgres;
        if (gated) await RetourDb.SqliteWriteGate.WaitAsync(ct);
        try
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var merchantId = db.Tenant.MerchantId;
            var shipments = db.IsPostgres
                // Locked in id order, so two deliveries that touch the same parcels cannot deadlock.
                ? await db.Shipments.FromSqlRaw("SELECT * FROM shipments WHERE merchant_id = {0} AND tracking_number = ANY({1}) ORDER BY id FOR UPDATE", merchantId, numbers)
                    .IgnoreQueryFilters().ToListAsync(ct)
                : await db.Shipments.Where(s => numbers.Contains(s.TrackingNumber)).ToListAsync(ct);
            var byNumber = shipments.ToDictionary(s => s.TrackingNumber);
            var ids = shipments.Select(s => s.Id).ToArray();
            var keys = updates.SelectMany(u => u.Checkpoints.Select(c => c.Id)).Distinct().ToArray();
            var known = ids.Length == 0 ? [] : (await db.TrackingEvents.Where(e => ids.Contains(e.ShipmentId) && keys.Contains(e.EventKey))
                .Select(e => new { e.ShipmentId, e.EventKey }).ToListAsync(ct)).Select(e => (e.ShipmentId, e.EventKey)).ToHashSet();

            var now = clock.GetUtcNow();
            int stored = 0, duplicates = 0, unmatchedEvents = 0;
            var unmatched = new List<string>();
            var fresh = new Dictionary<Guid, List<TrackingEvent>>();
            foreach (var update in updates)
            {
                if (!byNumber.TryGetValue(update.TrackingNumber, out var shipment))
                {
                    unmatched.Add(update.TrackingNumber);
                    unmatchedEvents += update.Checkpoints.Count;
                    continue;
                }
                foreach (var cp in update.Checkpoints)
                {
                    if (!known.Add((shipment.Id, cp.Id))) { duplicates++; continue; }
                    var mapping = maps.Current.Find(update.Provider, update.Carrier ?? shipment.CarrierCode, cp.Codes);
                    var evt = new TrackingEvent
                    {
                        ShipmentId = shipment.Id, Provider = update.Provider, EventKey = cp.Id, RawCode = cp.RawCode, Message = cp.Message,
                        Location = cp.Location, OccurredAt = cp.OccurredAt, ReceivedAt = now, Incident = mapping?.Incident,
                        Status = mapping?.Status is { } st ? Codes.Of(st) : null,
                    };
                    db.TrackingEvents.Add(evt);
                    stored++;
                    (fresh.TryGetValue(shipment.Id, out var l) ? l : fresh[shipment.Id] = []).Add(evt);
                }
            }

            if (fresh.Count > 0) await ApplyAsync(db, shipments.Where(s => fresh.ContainsKey(s.Id)).ToList(), fresh, actor, now, ct);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            return new IngestResult(received, stored, duplicates, unmatchedEvents, unmatched.Distinct().Take(20).ToList());
        }
        finally { if (gated) RetourDb.SqliteWriteGate.Release(); }
    }

    private async Task ApplyAsync(RetourDb db, List<Shipment> shipments, Dictionary<Guid, List<TrackingEvent>> fresh, Actor actor,
        DateTimeOffset now, CancellationToken ct)
    {
        var returnIds = shipments.Select(s => s.ReturnId).Distinct().ToArray();
        // The moves tracking makes (awaiting_shipment, pickup_failed, in_transit, delivered) never give units back, so no lines.
        var returns = await db.Returns.Where(r => returnIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, ct);
        foreach (var s in shipments)
        {
            TrackingStatus? current = Codes.TryParse<TrackingStatus>(s.Status, out var cs) ? cs : null;
            var before = current;
            var support = false;
            var wasPickedUp = s.PickedUpAt is not null;
            TrackingEvent? latestFailure = null;
            foreach (var e in fresh[s.Id].OrderBy(e => e.OccurredAt))
            {
                if (!Codes.TryParse<TrackingStatus>(e.Status, out var st)) continue;
                if (e.Incident is not null) s.Incident = e.Incident;
                if (e.Incident == "damaged") s.Damaged = true;
                if (st == TrackingStatus.PickupFailed)
                {
                    s.PickupAttempts++;
                    s.PickupFailures++;
                    if (latestFailure is null || e.OccurredAt >= latestFailure.OccurredAt) latestFailure = e;
                }
                // The facts the carrier scorecard measures: when the carrier had the parcel, and when it delivered it.
                if (TrackingRules.Stage(st) >= TrackingRules.Stage(TrackingStatus.PickedUp) && st is not (TrackingStatus.ReturnedToSender or TrackingStatus.Expired)
                    && (s.PickedUpAt is null || e.OccurredAt < s.PickedUpAt)) s.PickedUpAt = e.OccurredAt;
                if (st == TrackingStatus.Delivered && (s.DeliveredAt is null || e.OccurredAt < s.DeliveredAt)) s.DeliveredAt = e.OccurredAt;
                if (st == TrackingStatus.PickedUp && s.Service == "pickup" && current is not (TrackingStatus.PickedUp or TrackingStatus.InTransit
                        or TrackingStatus.OutForDelivery or TrackingStatus.AttemptFailed or TrackingStatus.Delivered)) s.PickupAttempts++;
                support |= TrackingRules.NeedsSupport(st);
                var next = TrackingRules.Next(current, s.StatusAt, st, e.OccurredAt);
                if (next != current) s.StatusAt = e.OccurredAt;
                current = next;
            }
            s.UpdatedAt = now;
            if (current != before) s.Status = current is { } c ? Codes.Of(c) : null;
            // A parcel at its end needs no more polling, and a used label can no longer expire.
            if (current is { } end && TrackingRules.Stage(end) >= TrackingRules.Stage(TrackingStatus.Delivered)) s.NextPollAt = null;
            if (s.PickedUpAt is not null) s.LabelExpiresAt = null;
            if (s.CancelledAt is not null || !returns.TryGetValue(s.ReturnId, out var ret)) continue;
            if (support && !ret.Flags.Split(',').Contains(SupportFlag))
                ret.Flags = ret.Flags.Length == 0 ? SupportFlag : ret.Flags + "," + SupportFlag;
            if (current is { } status && current != before)
                foreach (var move in TrackingRules.ReturnMoves(ret.Status, status))
                    if (await ReturnTransitions.MoveAsync(db, ret, move, actor, $"carrier: {s.CarrierCode} {s.TrackingNumber} {Codes.Of(status)}", now, ct) is not null)
                        break;
            // Failed pickups (NDR): a new failure asks the shopper (or support); a collection closes what was open.
            if (latestFailure is not null || (!wasPickedUp && s.PickedUpAt is not null && s.PickupFailures > 0))
                await recovery.OnTrackingAsync(db, s, ret, s.PickedUpAt is null ? latestFailure : null, now, ct);
        }
    }
}
