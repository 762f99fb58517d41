using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Retour.Core.Returns;
using Retour.Features.Orders;
using Retour.Features.Portal;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Returns;

/// <summary>
/// A new return with everything written with it: its audit events, its outbox messages and the idempotent response, and the
/// order's version, return count and per-line held units as the request read them.
/// </summary>
public sealed record NewReturn(
    Return Return, Guid OrderId, int OrderVersion, int OrderReturnCount, IReadOnlyDictionary<Guid, int> LinesHeld,
    IReadOnlyList<AuditEvent> Audit, IReadOnlyList<OutboxMessage> Outbox, IdempotencyRecord? Response, Guid? PhotoSession = null);

public enum WriteOutcome { Stored, OrderChanged }

/// <summary>
/// Stores a new return only if the order's version is still the one its quantities were judged on.
/// On PostgreSQL, returns arriving together are written together (group commit, docs/decisions/0011): a few writer loops
/// each take what has queued and store it with one statement whose data-modifying CTEs bump every order that is still at
/// its version and insert those returns with their lines, audit events, outbox messages and idempotent responses. Each
/// return's outcome is its own; a batch that fails as a whole is written again one return at a time. On SQLite, EF writes
/// the same rows in a transaction, with the version as concurrency token. A unique violation (the same Idempotency-Key
/// committed first, or an RMA collision) surfaces as DbUpdateException.
/// </summary>
public sealed class ReturnWriter : IAsyncDisposable
{
    private readonly PostgresSource _postgres;
    private readonly OutboxSignal _signal;
    private readonly BatchQueue<NewReturn, WriteOutcome> _queue;

    public ReturnWriter(PostgresSource postgres, OutboxSignal signal, ILogger<ReturnWriter> log)
    {
        _postgres = postgres;
        _signal = signal;
        _queue = new BatchQueue<NewReturn, WriteOutcome>(WriteAsync, log,
            afterBatch: results => { if (results.Contains(WriteOutcome.Stored)) _signal.Notify(); });
    }

    public async Task<WriteOutcome> StoreAsync(RetourDb db, NewReturn n, CancellationToken ct)
    {
        if (db.IsPostgres) return await _queue.SubmitAsync(n, ct);
        var outcome = await StoreWithEfAsync(db, n, ct);
        if (outcome == WriteOutcome.Stored) _signal.Notify();
        return outcome;
    }

    public ValueTask DisposeAsync() => _queue.DisposeAsync();

    private static async Task<WriteOutcome> StoreWithEfAsync(RetourDb db, NewReturn n, CancellationToken ct)
    {
        if (db.ChangeTracker.Entries().Any())
            throw new InvalidOperationException("A new return is written in a unit of work of its own; this one already tracks changes.");
        // Stubs carry the values the request was judged on; the version check makes writing absolute values safe.
        var stub = new Order { Id = n.OrderId, Number = n.Return.OrderNumber, Currency = n.Return.Currency, Version = n.OrderVersion, ReturnCount = n.OrderReturnCount, MerchantId = n.Return.MerchantId };
        db.Orders.Attach(stub);
        stub.Version = n.OrderVersion + 1;
        stub.ReturnCount = n.OrderReturnCount + 1;
        foreach (var (lineId, held) in n.LinesHeld)
        {
            var line = new OrderLine { Id = lineId, OrderId = n.OrderId, LineRef = "", Title = "", Category = "", ReturnedQuantity = held, MerchantId = n.Return.MerchantId };
            db.OrderLines.Attach(line);
            line.ReturnedQuantity = held + n.Return.Lines.Where(l => l.OrderLineId == lineId).Sum(l => l.Quantity);
        }
        db.Returns.Add(n.Return);
        db.AuditEvents.AddRange(n.Audit);
        db.OutboxMessages.AddRange(n.Outbox);
        if (n.Response is not null) db.IdempotencyRecords.Add(n.Response);
        if (n.PhotoSession is { } session)
        {
            // Stubs: only the two link columns are written, the image bytes are never read.
            var ids = await db.Photos.Where(ph => ph.SessionId == session).Select(ph => ph.Id).ToListAsync(ct);
            foreach (var id in ids)
            {
                var photo = new Photo { Id = id, MerchantId = n.Return.MerchantId, SessionId = session, OrderLineRef = "", ContentType = "", Sha256 = "", Data = [] };
                db.Photos.Attach(photo);
                photo.SessionId = null;
                photo.ReturnId = n.Return.Id;
            }
        }
        try
        {
            await db.SaveChangesAsync(ct);
            return WriteOutcome.Stored;
        }
        catch (DbUpdateConcurrencyException)
        {
            return WriteOutcome.OrderChanged;
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    // Rows of every table carry idx, the position of their return in the batch; bump returns the idx of every return whose
    // order was still at the version it was judged on, and only those are inserted.
    private const string Sql = """
        WITH r AS (
            SELECT * FROM unnest(@r_idx, @r_merchant, @r_order, @r_version, @r_id, @r_rma, @r_number, @r_email, @r_status, @r_resolution,
                                 @r_method, @r_policy_id, @r_policy_version, @r_currency, @r_total, @r_estimate, @r_outcome, @r_decision,
                                 @r_flags, @r_locale, @r_created_by, @r_at, @r_carrier, @r_carrier_requested, @r_box_free, @r_pickup, @r_from, @r_photos)
                AS t(idx, merchant_id, order_id, version, id, rma, number, email, status, resolution, method, policy_id, policy_version,
                     currency, total, estimate, outcome, decision, flags, locale, created_by, at, carrier, carrier_requested, box_free, pickup, from_address, photo_session)
        ), bump AS (
            UPDATE orders o SET version = o.version + 1, return_count = o.return_count + 1
            FROM r WHERE o.merchant_id = r.merchant_id AND o.id = r.order_id AND o.version = r.version
            RETURNING r.idx
        ), held AS (
            UPDATE order_lines ol SET returned_quantity = ol.returned_quantity + h.quantity
            FROM unnest(@h_idx, @h_line, @h_quantity) AS h(idx, line_id, quantity) JOIN bump b ON b.idx = h.idx JOIN r ON r.idx = h.idx
            WHERE ol.id = h.line_id AND ol.order_id = r.order_id AND ol.merchant_id = r.merchant_id
        ), ret AS (
            INSERT INTO returns (id, merchant_id, rma, order_id, order_number, customer_email, status, resolution, method,
                policy_version_id, policy_version, currency, estimate_total, estimate_json, decision_outcome, decision_json,
                flags, locale, created_by, created_at, updated_at, status_changed_at, carrier_code, carrier_requested, box_free, pickup_date, from_address_json)
            SELECT r.id, r.merchant_id, r.rma, r.order_id, r.number, r.email, r.status, r.resolution, r.method, r.policy_id,
                r.policy_version, r.currency, r.total, r.estimate, r.outcome, r.decision, r.flags, r.locale, r.created_by, r.at, r.at, r.at,
                r.carrier, r.carrier_requested, r.box_free, r.pickup, r.from_address
            FROM r JOIN bump b ON b.idx = r.idx
        ), photo_link AS (
            UPDATE photos ph SET return_id = r.id, session_id = NULL
            FROM r JOIN bump b ON b.idx = r.idx
            WHERE r.photo_session IS NOT NULL AND ph.session_id = r.photo_session AND ph.merchant_id = r.merchant_id
        ), lines AS (
            INSERT INTO return_lines (id, merchant_id, return_id, order_line_id, order_line_ref, sku, title, category, quantity, reason, sub_reason, comment, exchange_sku)
            SELECT l.id, r.merchant_id, r.id, l.order_line_id, l.ref, l.sku, l.title, l.category, l.quantity, l.reason, l.sub_reason, l.comment, l.exchange_sku
            FROM unnest(@l_idx, @l_id, @l_order_line, @l_ref, @l_sku, @l_title, @l_category, @l_quantity, @l_reason, @l_sub_reason, @l_comment, @l_exchange)
                AS l(idx, id, order_line_id, ref, sku, title, category, quantity, reason, sub_reason, comment, exchange_sku)
            JOIN bump b ON b.idx = l.idx JOIN r ON r.idx = l.idx
        ), audit AS (
            INSERT INTO audit_events (id, merchant_id, entity_type, entity_id, action, from_state, to_state, actor_type, actor_id, actor_name, reason, data_json, occurred_at)
            SELECT a.id, r.merchant_id, 'return', r.id, a.action, a.from_state, a.to_state, a.actor_type, a.actor_id, a.actor_name, a.reason, a.data, a.at
            FROM unnest(@a_idx, @a_id, @a_action, @a_from, @a_to, @a_actor_type, @a_actor_id, @a_actor_name, @a_reason, @a_data, @a_at)
                AS a(idx, id, action, from_state, to_state, actor_type, actor_id, actor_name, reason, data, at)
            JOIN bump b ON b.idx = a.idx JOIN r ON r.idx = a.idx
        ), outbox AS (
            INSERT INTO outbox_messages (id, merchant_id, type, payload, created_at, available_at, attempts)
            SELECT o.id, r.merchant_id, o.type, o.payload, o.at, o.at, 0
            FROM unnest(@o_idx, @o_id, @o_type, @o_payload, @o_at) AS o(idx, id, type, payload, at)
            JOIN bump b ON b.idx = o.idx JOIN r ON r.idx = o.idx
        ), idem AS (
            INSERT INTO idempotency_records (merchant_id, key, request_hash, status_code, response_body, location, created_at)
            SELECT r.merchant_id, k.key, k.hash, k.status, k.body, k.location, r.at
            FROM unnest(@k_idx, @k_key, @k_hash, @k_status, @k_body, @k_location) AS k(idx, key, hash, status, body, location)
            JOIN bump b ON b.idx = k.idx JOIN r ON r.idx = k.idx
        )
        SELECT idx FROM bump
        """;

    /// <summary>Writes the items in one statement; each is stored, or its order had moved on.</summary>
    private async Task<IReadOnlyList<WriteOutcome>> WriteAsync(IReadOnlyList<NewReturn> items)
    {
        await using var cmd = _postgres.Source.CreateCommand(Sql);
        var p = cmd.Parameters;
        var rs = items.Select((n, i) => (i, n, r: n.Return)).ToList();
        Add(p, "r_idx", rs.Select(x => x.i));
        Add(p, "r_merchant", rs.Select(x => x.r.MerchantId));
        Add(p, "r_order", rs.Select(x => x.n.OrderId));
        Add(p, "r_version", rs.Select(x => x.n.OrderVersion));
        Add(p, "r_id", rs.Select(x => x.r.Id));
        Text(p, "r_rma", rs.Select(x => x.r.Rma));
        Text(p, "r_number", rs.Select(x => x.r.OrderNumber));
        Text(p, "r_email", rs.Select(x => x.r.CustomerEmail));
        Text(p, "r_status", rs.Select(x => Codes.Of(x.r.Status)));
        Text(p, "r_resolution", rs.Select(x => Codes.Of(x.r.Resolution)));
        Text(p, "r_method", rs.Select(x => Codes.Of(x.r.Method)));
        Add(p, "r_policy_id", rs.Select(x => x.r.PolicyVersionId));
        Add(p, "r_policy_version", rs.Select(x => x.r.PolicyVersion));
        Text(p, "r_currency", rs.Select(x => x.r.Currency));
        Add(p, "r_total", rs.Select(x => x.r.EstimateTotal));
        Text(p, "r_estimate", rs.Select(x => x.r.EstimateJson));
        Text(p, "r_outcome", rs.Select(x => Codes.Of(x.r.DecisionOutcome)));
        Text(p, "r_decision", rs.Select(x => x.r.DecisionJson));
        Text(p, "r_flags", rs.Select(x => x.r.Flags));
        Text(p, "r_locale", rs.Select(x => x.r.Locale));
        Text(p, "r_created_by", rs.Select(x => x.r.CreatedBy));
        Add(p, "r_at", rs.Select(x => x.r.CreatedAt));
        Text(p, "r_carrier", rs.Select(x => x.r.CarrierCode));
        Add(p, "r_carrier_requested", rs.Select(x => x.r.CarrierRequested));
        Add(p, "r_box_free", rs.Select(x => x.r.BoxFree));
        p.Add(new NpgsqlParameter("r_pickup", NpgsqlDbType.Array | NpgsqlDbType.Date) { Value = rs.Select(x => (object?)x.r.PickupDate ?? DBNull.Value).ToArray() });
        Text(p, "r_from", rs.Select(x => x.r.FromAddressJson));
        p.Add(new NpgsqlParameter("r_photos", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = rs.Select(x => (object?)x.n.PhotoSession ?? DBNull.Value).ToArray() });

        var held = rs.SelectMany(x => x.r.Lines.GroupBy(l => l.OrderLineId).Select(g => (x.i, Line: g.Key, Quantity: g.Sum(l => l.Quantity)))).ToList();
        Add(p, "h_idx", held.Select(h => h.i));
        Add(p, "h_line", held.Select(h => h.Line));
        Add(p, "h_quantity", held.Select(h => h.Quantity));

        var lines = rs.SelectMany(x => x.r.Lines.Select(l => (x.i, l))).ToList();
        Add(p, "l_idx", lines.Select(x => x.i));
        Add(p, "l_id", lines.Select(x => x.l.Id));
        Add(p, "l_order_line", lines.Select(x => x.l.OrderLineId));
        Text(p, "l_ref", lines.Select(x => x.l.OrderLineRef));
        Text(p, "l_sku", lines.Select(x => x.l.Sku));
        Text(p, "l_title", lines.Select(x => x.l.Title));
        Text(p, "l_category", lines.Select(x => x.l.Category));
        Add(p, "l_quantity", lines.Select(x => x.l.Quantity));
        Text(p, "l_reason", lines.Select(x => Codes.Of(x.l.Reason)));
        Text(p, "l_sub_reason", lines.Select(x => x.l.SubReason));
        Text(p, "l_comment", lines.Select(x => x.l.Comment));
        Text(p, "l_exchange", lines.Select(x => x.l.ExchangeSku));

        var audit = rs.SelectMany(x => x.n.Audit.Select(a => (x.i, a))).ToList();
        Add(p, "a_idx", audit.Select(x => x.i));
        Add(p, "a_id", audit.Select(x => x.a.Id));
        Text(p, "a_action", audit.Select(x => x.a.Action));
        Text(p, "a_from", audit.Select(x => x.a.FromState));
        Text(p, "a_to", audit.Select(x => x.a.ToState));
        Text(p, "a_actor_type", audit.Select(x => x.a.ActorType));
        Text(p, "a_actor_id", audit.Select(x => x.a.ActorId));
        Text(p, "a_actor_name", audit.Select(x => x.a.ActorName));
        Text(p, "a_reason", audit.Select(x => x.a.Reason));
        Text(p, "a_data", audit.Select(x => x.a.DataJson));
        Add(p, "a_at", audit.Select(x => x.a.OccurredAt));

        var outbox = rs.SelectMany(x => x.n.Outbox.Select(o => (x.i, o))).ToList();
        Add(p, "o_idx", outbox.Select(x => x.i));
        Add(p, "o_id", outbox.Select(x => x.o.Id));
        Text(p, "o_type", outbox.Select(x => x.o.Type));
        Text(p, "o_payload", outbox.Select(x => x.o.Payload));
        Add(p, "o_at", outbox.Select(x => x.o.CreatedAt));

        var keys = rs.Where(x => x.n.Response is not null).Select(x => (x.i, k: x.n.Response!)).ToList();
        Add(p, "k_idx", keys.Select(x => x.i));
        Text(p, "k_key", keys.Select(x => x.k.Key));
        Text(p, "k_hash", keys.Select(x => x.k.RequestHash));
        Add(p, "k_status", keys.Select(x => x.k.StatusCode));
        Text(p, "k_body", keys.Select(x => x.k.ResponseBody));
        Text(p, "k_location", keys.Select(x => x.k.Location));

        var stored = new HashSet<int>();
        try
        {
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync()) stored.Add(reader.GetInt32(0));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new DbUpdateException(e.MessageText, e);
        }
        return [.. items.Select((_, i) => stored.Contains(i) ? WriteOutcome.Stored : WriteOutcome.OrderChanged)];
    }

    private static void Add<T>(NpgsqlParameterCollection p, string name, IEnumerable<T> values) => p.Add(new NpgsqlParameter<T[]>(name, [.. values]));

    private static void Text(NpgsqlParameterCollection p, string name, IEnumerable<string?> values) =>
        p.Add(new NpgsqlParameter(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values.ToArray() });
}
