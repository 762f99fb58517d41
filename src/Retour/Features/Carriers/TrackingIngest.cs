using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
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

    public async Task<IngestResult> IngestAsync(RetourDb db, IReadOnlyList<TrackingUpdate> updates, Actor actor, CancellationToken ct) =>
        (await IngestManyAsync(db, [new IngestItem(updates, actor)], ct))[0];

    /// <summary>Stores several deliveries of one merchant in one transaction; each gets its own result.</summary>
    public async Task<IReadOnlyList<IngestResult>> IngestManyAsync(RetourDb db, IReadOnlyList<IngestItem> items, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try { return await TryIngestAsync(db, items, ct); }
            catch (DbUpdateException e) when (attempt < 3 && DbErrors.IsUniqueViolation(e, "tracking_events"))
            {
                // Another delivery stored some of these events between our read and our write: read again.
                db.ChangeTracker.Clear();
                log.LogDebug("Concurrent tracking delivery; retrying ({Attempt})", attempt);
            }
        }
    }

    private sealed record Candidate(int Item, Shipment Shipment, TrackingEvent Event);

    private async Task<IReadOnlyList<IngestResult>> TryIngestAsync(RetourDb db, IReadOnlyList<IngestItem> items, CancellationToken ct)
    {
        var numbers = items.SelectMany(i => i.Updates).Select(u => u.TrackingNumber).Distinct().ToArray();
        using var slot = await db.WriteSlotAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var merchantId = db.Tenant.MerchantId;
        var shipments = db.IsPostgres
            // Locked in id order, so two deliveries that touch the same parcels cannot deadlock.
            ? await db.Shipments.FromSqlRaw("SELECT * FROM shipments WHERE merchant_id = {0} AND tracking_number = ANY({1}) ORDER BY id FOR UPDATE", merchantId, numbers)
                .IgnoreQueryFilters().ToListAsync(ct)
            : await db.Shipments.Where(s => numbers.Contains(s.TrackingNumber)).ToListAsync(ct);
        var byNumber = shipments.ToDictionary(s => s.TrackingNumber);

        var now = clock.GetUtcNow();
        var received = new int[items.Count];
        var duplicates = new int[items.Count];
        var unmatchedEvents = new int[items.Count];
        var unmatched = items.Select(_ => new List<string>()).ToArray();
        var candidates = new List<Candidate>();
        var seen = new HashSet<(Guid, string)>();
        for (var i = 0; i < items.Count; i++)
            foreach (var update in items[i].Updates)
            {
                received[i] += update.Checkpoints.Count;
                if (!byNumber.TryGetValue(update.TrackingNumber, out var shipment))
                {
                    unmatched[i].Add(update.TrackingNumber);
                    unmatchedEvents[i] += update.Checkpoints.Count;
                    continue;
                }
                foreach (var cp in update.Checkpoints)
                {
                    // The same event twice within these deliveries (a provider repeats its history) counts once.
                    if (!seen.Add((shipment.Id, cp.Id))) { duplicates[i]++; continue; }
                    var mapping = maps.Current.Find(update.Provider, update.Carrier ?? shipment.CarrierCode, cp.Codes);
                    candidates.Add(new Candidate(i, shipment, new TrackingEvent
                    {
                        MerchantId = merchantId, ShipmentId = shipment.Id, Provider = update.Provider, EventKey = cp.Id, RawCode = cp.RawCode, Message = cp.Message,
                        Location = cp.Location, OccurredAt = cp.OccurredAt, ReceivedAt = now, Incident = mapping?.Incident,
                        Status = mapping?.Status is { } st ? Codes.Of(st) : null,
                    }));
                }
            }

        // Which candidates are new: on PostgreSQL one INSERT … ON CONFLICT DO NOTHING says it (RETURNING the ids it stored);
        // on SQLite the known keys are read first (one writer at a time, so nothing can slip in between).
        var stored = db.IsPostgres ? await InsertNewAsync(db, candidates, ct) : await AddNewAsync(db, candidates, ct);
        var fresh = new Dictionary<Guid, List<TrackingEvent>>();
        var storedPerItem = new int[items.Count];
        var actors = new Dictionary<Guid, Actor>();
        foreach (var c in candidates)
        {
            if (!stored.Contains(c.Event.Id)) { duplicates[c.Item]++; continue; }
            storedPerItem[c.Item]++;
            (fresh.TryGetValue(c.Shipment.Id, out var l) ? l : fresh[c.Shipment.Id] = []).Add(c.Event);
            actors.TryAdd(c.Shipment.Id, items[c.Item].Actor);
        }

        if (fresh.Count > 0) await ApplyAsync(db, shipments.Where(s => fresh.ContainsKey(s.Id)).ToList(), fresh, actors, now, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return [.. Enumerable.Range(0, items.Count).Select(i =>
            new IngestResult(received[i], storedPerItem[i], duplicates[i], unmatchedEvents[i], unmatched[i].Distinct().Take(20).ToList()))];
    }

    /// <summary>PostgreSQL: every candidate in one statement; the unique (shipment_id, event_key) index drops the known ones.</summary>
    private static async Task<HashSet<Guid>> InsertNewAsync(RetourDb db, List<Candidate> candidates, CancellationToken ct)
    {
        if (candidates.Count == 0) return [];
        var e = candidates.Select(c => c.Event).ToArray();
        var conn = (Npgsql.NpgsqlConnection)db.Database.GetDbConnection();
        await using var cmd = conn.CreateCommand();
        cmd.Transaction = (Npgsql.NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction();
        cmd.CommandText = """
            INSERT INTO tracking_events (id, merchant_id, shipment_id, provider, event_key, status, raw_code, message, location, incident, occurred_at, received_at)
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::timestamptz[])
            ON CONFLICT (shipment_id, event_key) DO NOTHING
            RETURNING id
            """;
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = e.Select(x => x.Id).ToArray() });
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = e.Select(x => x.MerchantId).ToArray() });
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = e.Select(x => x.ShipmentId).ToArray() });
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = e.Select(x => x.Provider).ToArray() });
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = e.Select(x => x.EventKey).ToArray() });
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = e.Select(x => x.Status).ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = e.Select(x => x.RawCode).ToArray() });
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = e.Select(x => x.Message).ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = e.Select(x => x.Location).ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = e.Select(x => x.Incident).ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = e.Select(x => x.OccurredAt).ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new Npgsql.NpgsqlParameter { Value = e.Select(x => x.ReceivedAt).ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.TimestampTz });
        var ids = new HashSet<Guid>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) ids.Add(r.GetGuid(0));
        return ids;
    }

    /// <summary>SQLite: reads which keys are known and adds the others to the unit of work.</summary>
    private static async Task<HashSet<Guid>> AddNewAsync(RetourDb db, List<Candidate> candidates, CancellationToken ct)
    {
        var ids = candidates.Select(c => c.Shipment.Id).Distinct().ToArray();
        var keys = candidates.Select(c => c.Event.EventKey).Distinct().ToArray();
        var known = ids.Length == 0 ? [] : (await db.TrackingEvents.Where(e => ids.Contains(e.ShipmentId) && keys.Contains(e.EventKey))
            .Select(e => new { e.ShipmentId, e.EventKey }).ToListAsync(ct)).Select(e => (e.ShipmentId, e.EventKey)).ToHashSet();
        var added = new HashSet<Guid>();
        foreach (var c in candidates)
        {
            if (known.Contains((c.Shipment.Id, c.Event.EventKey))) continue;
            db.TrackingEvents.Add(c.Event);
            added.Add(c.Event.Id);
        }
        return added;
    }

    /// <summary>What tracking can change on a shipment, to tell whether an event changed anything.</summary>
    private static (string?, DateTimeOffset?, string?, bool, int, int, DateTimeOffset?, DateTimeOffset?, DateTimeOffset?, DateTimeOffset?) Facts(Shipment s) =>
        (s.Status, s.StatusAt, s.Incident, s.Damaged, s.PickupAttempts, s.PickupFailures, s.PickedUpAt, s.DeliveredAt, s.NextPollAt, s.LabelExpiresAt);

    private async Task ApplyAsync(RetourDb db, List<Shipment> shipments, Dictionary<Guid, List<TrackingEvent>> fresh, Dictionary<Guid, Actor> actors,
        DateTimeOffset now, CancellationToken ct)
    {
        // First the shipments, in memory; then only the returns something happens to are read (most scans change nothing there).
        var touched = new List<(Shipment S, TrackingStatus? Before, TrackingStatus? Current, bool Support, bool WasPickedUp, TrackingEvent? LatestFailure)>();
        foreach (var s in shipments)
        {
            TrackingStatus? current = Codes.TryParse<TrackingStatus>(s.Status, out var cs) ? cs : null;
            var before = current;
            var support = false;
            var wasPickedUp = s.PickedUpAt is not null;
            var was = Facts(s);
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
            if (current != before) s.Status = current is { } c ? Codes.Of(c) : null;
            // A parcel at its end needs no more polling, and a used label can no longer expire.
            if (current is { } end && TrackingRules.Stage(end) >= TrackingRules.Stage(TrackingStatus.Delivered)) s.NextPollAt = null;
            if (s.PickedUpAt is not null) s.LabelExpiresAt = null;
            // Most scans say nothing new about the shipment (another hub, the same status): then its row is not written at all.
            if (Facts(s) != was) s.UpdatedAt = now;
            if (s.CancelledAt is null && (current != before || support || latestFailure is not null || (!wasPickedUp && s.PickedUpAt is not null)))
                touched.Add((s, before, current, support, wasPickedUp, latestFailure));
        }
        if (touched.Count == 0) return;
        var returnIds = touched.Select(t => t.S.ReturnId).Distinct().ToArray();
        // The moves tracking makes (awaiting_shipment, pickup_failed, in_transit, delivered) never give units back, so no lines.
        var returns = await db.Returns.Where(r => returnIds.Contains(r.Id)).ToDictionaryAsync(r => r.Id, ct);
        foreach (var (s, before, current, support, wasPickedUp, latestFailure) in touched)
        {
            if (!returns.TryGetValue(s.ReturnId, out var ret)) continue;
            var actor = actors[s.Id];
            if (support) ret.Flag(SupportFlag);
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
