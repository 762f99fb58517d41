using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Retour.Core.Returns;
using Retour.Features.Orders;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Returns;

/// <summary>A new return with everything written with it: its audit events, its outbox messages and the idempotent response.</summary>
/// <summary>
/// A new return with everything written with it: its audit events, its outbox messages and the idempotent response, and the
/// order's version, return count and per-line held units as the request read them.
/// </summary>
public sealed record NewReturn(
    Return Return, Guid OrderId, int OrderVersion, int OrderReturnCount, IReadOnlyDictionary<Guid, int> LinesHeld,
    IReadOnlyList<AuditEvent> Audit, IReadOnlyList<OutboxMessage> Outbox, IdempotencyRecord? Response);

public enum WriteOutcome { Stored, OrderChanged }

/// <summary>
/// Stores a new return only if the order's version is still the one its quantities were judged on.
/// On PostgreSQL it is one statement — the version check and every insert chained as data-modifying CTEs — so it is
/// atomic without a transaction round trip; on SQLite, EF writes it in a transaction with the version as concurrency token.
/// A unique violation (the same Idempotency-Key committed first, or an RMA collision) is thrown as DbUpdateException.
/// </summary>
public static class ReturnWriter
{
    public static async Task<WriteOutcome> StoreAsync(RetourDb db, NewReturn n, CancellationToken ct)
    {
        var outcome = db.IsPostgres ? await StorePostgresAsync(db, n, ct) : await StoreWithEfAsync(db, n, ct);
        if (outcome == WriteOutcome.Stored) db.NotifyOutbox();
        return outcome;
    }

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
        try
        {
            await db.SaveChangesAsync(ct);
            return WriteOutcome.Stored;
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return WriteOutcome.OrderChanged;
        }
        finally
        {
            if (db.ChangeTracker.Entries().Any()) db.ChangeTracker.Clear();
        }
    }

    private const string Insert = """
        WITH bump AS (
            UPDATE orders SET version = version + 1, return_count = return_count + 1
            WHERE merchant_id = @m AND id = @order AND version = @version RETURNING id
        ), held AS (
            UPDATE order_lines ol SET returned_quantity = ol.returned_quantity + x.quantity
            FROM bump, unnest(@h_line, @h_quantity) AS x(line_id, quantity)
            WHERE ol.id = x.line_id AND ol.order_id = bump.id AND ol.merchant_id = @m
        ), ret AS (
            INSERT INTO returns (id, merchant_id, rma, order_id, order_number, customer_email, status, resolution, method,
                policy_version_id, policy_version, currency, estimate_total, estimate_json, decision_outcome, decision_json,
                flags, locale, created_by, created_at, updated_at, status_changed_at)
            SELECT @id, @m, @rma, bump.id, @number, @email, @status, @resolution, @method, @policy_id, @policy_version, @currency,
                @total, @estimate, @outcome, @decision, @flags, @locale, @created_by, @created_at, @updated_at, @status_changed_at
            FROM bump
            RETURNING id
        ), lines AS (
            INSERT INTO return_lines (id, merchant_id, return_id, order_line_id, order_line_ref, sku, title, category, quantity, reason, sub_reason, comment)
            SELECT l.id, @m, ret.id, l.order_line_id, l.ref, l.sku, l.title, l.category, l.quantity, l.reason, l.sub_reason, l.comment
            FROM ret, unnest(@l_id, @l_order_line, @l_ref, @l_sku, @l_title, @l_category, @l_quantity, @l_reason, @l_sub_reason, @l_comment)
                AS l(id, order_line_id, ref, sku, title, category, quantity, reason, sub_reason, comment)
        ), audit AS (
            INSERT INTO audit_events (id, merchant_id, entity_type, entity_id, action, from_state, to_state, actor_type, actor_id, actor_name, reason, data_json, occurred_at)
            SELECT a.id, @m, 'return', ret.id, a.action, a.from_state, a.to_state, a.actor_type, a.actor_id, a.actor_name, a.reason, a.data, a.at
            FROM ret, unnest(@a_id, @a_action, @a_from, @a_to, @a_actor_type, @a_actor_id, @a_actor_name, @a_reason, @a_data, @a_at)
                AS a(id, action, from_state, to_state, actor_type, actor_id, actor_name, reason, data, at)
        ), outbox AS (
            INSERT INTO outbox_messages (id, merchant_id, type, payload, created_at, available_at, attempts)
            SELECT o.id, @m, o.type, o.payload, o.at, o.at, 0
            FROM ret, unnest(@o_id, @o_type, @o_payload, @o_at) AS o(id, type, payload, at)
        )
        """;

    private const string Remember = """
        , idem AS (
            INSERT INTO idempotency_records (merchant_id, key, request_hash, status_code, response_body, location, created_at)
            SELECT @m, @k, @k_hash, @k_status, @k_body, @k_location, @created_at FROM ret
        )
        """;

    private const string Count = "SELECT count(*) FROM ret";
    private static readonly string WithResponse = Insert + Remember + Count;
    private static readonly string WithoutResponse = Insert + Count;

    private static async Task<WriteOutcome> StorePostgresAsync(RetourDb db, NewReturn n, CancellationToken ct)
    {
        var r = n.Return;
        var conn = (NpgsqlConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var cmd = new NpgsqlCommand(n.Response is null ? WithoutResponse : WithResponse, conn);
            var p = cmd.Parameters;
            p.Add(new NpgsqlParameter<Guid>("m", r.MerchantId));
            p.Add(new NpgsqlParameter<Guid>("order", n.OrderId));
            p.Add(new NpgsqlParameter<int>("version", n.OrderVersion));
            p.Add(new NpgsqlParameter<Guid>("id", r.Id));
            p.Add(new NpgsqlParameter<string>("rma", r.Rma));
            p.Add(new NpgsqlParameter<string>("number", r.OrderNumber));
            p.Add(Text("email", r.CustomerEmail));
            p.Add(new NpgsqlParameter<string>("status", Codes.Of(r.Status)));
            p.Add(new NpgsqlParameter<string>("resolution", Codes.Of(r.Resolution)));
            p.Add(new NpgsqlParameter<string>("method", Codes.Of(r.Method)));
            p.Add(new NpgsqlParameter<Guid>("policy_id", r.PolicyVersionId));
            p.Add(new NpgsqlParameter<int>("policy_version", r.PolicyVersion));
            p.Add(new NpgsqlParameter<string>("currency", r.Currency));
            p.Add(new NpgsqlParameter<decimal>("total", r.EstimateTotal));
            p.Add(new NpgsqlParameter<string>("estimate", r.EstimateJson));
            p.Add(new NpgsqlParameter<string>("outcome", Codes.Of(r.DecisionOutcome)));
            p.Add(new NpgsqlParameter<string>("decision", r.DecisionJson));
            p.Add(new NpgsqlParameter<string>("flags", r.Flags));
            p.Add(Text("locale", r.Locale));
            p.Add(new NpgsqlParameter<string>("created_by", r.CreatedBy));
            p.Add(new NpgsqlParameter<DateTimeOffset>("created_at", r.CreatedAt));
            p.Add(new NpgsqlParameter<DateTimeOffset>("updated_at", r.UpdatedAt));
            p.Add(new NpgsqlParameter<DateTimeOffset>("status_changed_at", r.StatusChangedAt));

            var held = r.Lines.GroupBy(l => l.OrderLineId).Select(g => (Line: g.Key, Quantity: g.Sum(l => l.Quantity))).ToList();
            p.Add(new NpgsqlParameter<Guid[]>("h_line", [.. held.Select(h => h.Line)]));
            p.Add(new NpgsqlParameter<int[]>("h_quantity", [.. held.Select(h => h.Quantity)]));

            var lines = r.Lines;
            p.Add(new NpgsqlParameter<Guid[]>("l_id", [.. lines.Select(l => l.Id)]));
            p.Add(new NpgsqlParameter<Guid[]>("l_order_line", [.. lines.Select(l => l.OrderLineId)]));
            p.Add(new NpgsqlParameter<string[]>("l_ref", [.. lines.Select(l => l.OrderLineRef)]));
            p.Add(TextArray("l_sku", lines.Select(l => l.Sku)));
            p.Add(new NpgsqlParameter<string[]>("l_title", [.. lines.Select(l => l.Title)]));
            p.Add(new NpgsqlParameter<string[]>("l_category", [.. lines.Select(l => l.Category)]));
            p.Add(new NpgsqlParameter<int[]>("l_quantity", [.. lines.Select(l => l.Quantity)]));
            p.Add(new NpgsqlParameter<string[]>("l_reason", [.. lines.Select(l => Codes.Of(l.Reason))]));
            p.Add(TextArray("l_sub_reason", lines.Select(l => l.SubReason)));
            p.Add(TextArray("l_comment", lines.Select(l => l.Comment)));

            var a = n.Audit;
            p.Add(new NpgsqlParameter<Guid[]>("a_id", [.. a.Select(x => x.Id)]));
            p.Add(new NpgsqlParameter<string[]>("a_action", [.. a.Select(x => x.Action)]));
            p.Add(TextArray("a_from", a.Select(x => x.FromState)));
            p.Add(TextArray("a_to", a.Select(x => x.ToState)));
            p.Add(new NpgsqlParameter<string[]>("a_actor_type", [.. a.Select(x => x.ActorType)]));
            p.Add(TextArray("a_actor_id", a.Select(x => x.ActorId)));
            p.Add(TextArray("a_actor_name", a.Select(x => x.ActorName)));
            p.Add(TextArray("a_reason", a.Select(x => x.Reason)));
            p.Add(TextArray("a_data", a.Select(x => x.DataJson)));
            p.Add(new NpgsqlParameter<DateTimeOffset[]>("a_at", [.. a.Select(x => x.OccurredAt)]));

            var o = n.Outbox;
            p.Add(new NpgsqlParameter<Guid[]>("o_id", [.. o.Select(x => x.Id)]));
            p.Add(new NpgsqlParameter<string[]>("o_type", [.. o.Select(x => x.Type)]));
            p.Add(new NpgsqlParameter<string[]>("o_payload", [.. o.Select(x => x.Payload)]));
            p.Add(new NpgsqlParameter<DateTimeOffset[]>("o_at", [.. o.Select(x => x.CreatedAt)]));

            if (n.Response is { } k)
            {
                p.Add(new NpgsqlParameter<string>("k", k.Key));
                p.Add(new NpgsqlParameter<string>("k_hash", k.RequestHash));
                p.Add(new NpgsqlParameter<int>("k_status", k.StatusCode));
                p.Add(new NpgsqlParameter<string>("k_body", k.ResponseBody));
                p.Add(Text("k_location", k.Location));
            }
            try
            {
                var stored = (long)(await cmd.ExecuteScalarAsync(ct))!;
                return stored == 1 ? WriteOutcome.Stored : WriteOutcome.OrderChanged;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                throw new DbUpdateException(e.MessageText, e);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static NpgsqlParameter Text(string name, string? value) =>
        new(name, NpgsqlDbType.Text) { Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter TextArray(string name, IEnumerable<string?> values) =>
        new(name, NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = values.ToArray() };
}
