using Npgsql;
using NpgsqlTypes;
using Retour.Infrastructure.Db;

namespace Retour.Features.Returns;

/// <summary>What one read returns for one order: the order row, its lines, the shopper's recent orders and a stored response.</summary>
public sealed record OrderRead(LoadedOrderRow? Order, IReadOnlyList<LoadedLine> Lines, IReadOnlyList<int> History, StoredResponse? Stored);

public sealed record LoadedOrderRow(
    Guid Id, int Version, int ReturnCount, DateTimeOffset PlacedAt, DateTimeOffset? DeliveredAt, DateTimeOffset? FulfilledAt,
    DateTimeOffset? CancelledAt, string Currency, string? CustomerEmail, string? CustomerLocale, decimal ShippingTotal,
    Guid? PolicyId, int PolicyVersion, int LinesVersion);

/// <summary>
/// Reads orders for returnability and new returns on PostgreSQL, grouping requests that arrive together into one round
/// trip (the read side of ADR 11): four statements answer for every order in the batch, each row tagged with its
/// request's position. Every statement filters by each request's own merchant.
/// </summary>
public sealed class OrderReader : IAsyncDisposable
{
    public const int MaxHistory = Core.Policies.PolicyValidator.MaxHistoryOrders;
    private readonly PostgresSource _postgres;
    private readonly BatchQueue<Request, OrderRead> _queue;

    public OrderReader(PostgresSource postgres, ILogger<OrderReader> log)
    {
        _postgres = postgres;
        _queue = new BatchQueue<Request, OrderRead>(ReadBatchAsync, log);
    }

    private sealed record Request(Guid MerchantId, string Number, string? Key);

    public Task<OrderRead> ReadAsync(Guid merchantId, string number, string? idempotencyKey, CancellationToken ct) =>
        _queue.SubmitAsync(new Request(merchantId, number, idempotencyKey), ct);

    public ValueTask DisposeAsync() => _queue.DisposeAsync();

    // The orders statement runs before the lines statement, and the lines statement reports the order version it saw: the
    // caller treats a difference as "changed meanwhile" and reads again, so quantities and their guard are from one moment.
    private const string Sql = """
        SELECT q.idx, i.request_hash, i.status_code, i.response_body, i.location
          FROM unnest(@idx, @m, @n, @k) AS q(idx, merchant_id, number, key)
          JOIN idempotency_records i ON i.merchant_id = q.merchant_id AND i.key = q.key;
        SELECT q.idx, o.id, o.version, o.return_count, o.placed_at, o.delivered_at, o.fulfilled_at, o.cancelled_at, o.currency,
               o.customer_email, o.customer_locale, o.shipping_total, p.id, p.version
          FROM unnest(@idx, @m, @n) AS q(idx, merchant_id, number)
          JOIN orders o ON o.merchant_id = q.merchant_id AND o.number = q.number
          LEFT JOIN LATERAL (SELECT v.id, v.version FROM policy_versions v
                             WHERE v.merchant_id = o.merchant_id AND v.effective_from <= o.placed_at
                             ORDER BY v.version DESC LIMIT 1) p ON true;
        SELECT q.idx, o.version, l.id, l.line_ref, l.sku, l.product_code, l.title, l.category, l.quantity, l.unit_price, l.tax,
               l.discount, l.final_sale, l.refunded_quantity, l.returned_quantity
          FROM unnest(@idx, @m, @n) AS q(idx, merchant_id, number)
          JOIN orders o ON o.merchant_id = q.merchant_id AND o.number = q.number
          JOIN order_lines l ON l.order_id = o.id AND l.merchant_id = q.merchant_id
          ORDER BY q.idx, l.position;
        SELECT q.idx, h.return_count
          FROM unnest(@idx, @m, @n) AS q(idx, merchant_id, number)
          JOIN orders o ON o.merchant_id = q.merchant_id AND o.number = q.number
          JOIN LATERAL (SELECT e.return_count, e.placed_at FROM orders e
                        WHERE e.merchant_id = o.merchant_id AND e.customer_email = o.customer_email AND e.id <> o.id
                        ORDER BY e.placed_at DESC LIMIT {MaxHistory}) h ON true
          ORDER BY q.idx, h.placed_at DESC;
        """;

    private static readonly string Statement = Sql.Replace("{MaxHistory}", MaxHistory.ToString());

    private async Task<IReadOnlyList<OrderRead>> ReadBatchAsync(IReadOnlyList<Request> batch)
    {
        await using var cmd = _postgres.Source.CreateCommand(Statement);
        cmd.Parameters.Add(new NpgsqlParameter<int[]>("idx", [.. Enumerable.Range(0, batch.Count)]));
        cmd.Parameters.Add(new NpgsqlParameter<Guid[]>("m", [.. batch.Select(p => p.MerchantId)]));
        cmd.Parameters.Add(new NpgsqlParameter<string[]>("n", [.. batch.Select(p => p.Number)]));
        cmd.Parameters.Add(new NpgsqlParameter("k", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = batch.Select(p => p.Key).ToArray() });

        var stored = new StoredResponse?[batch.Count];
        var orders = new LoadedOrderRow?[batch.Count];
        var lines = Enumerable.Range(0, batch.Count).Select(_ => new List<LoadedLine>()).ToArray();
        var linesVersion = new int[batch.Count];
        var history = Enumerable.Range(0, batch.Count).Select(_ => new List<int>()).ToArray();

        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
            stored[r.GetInt32(0)] = new StoredResponse(r.GetString(1), r.GetInt32(2), r.GetString(3), SqlValues.ReadString(r, 4));
        await r.NextResultAsync();
        while (await r.ReadAsync())
            orders[r.GetInt32(0)] = new LoadedOrderRow(r.GetGuid(1), r.GetInt32(2), r.GetInt32(3), r.GetFieldValue<DateTimeOffset>(4),
                Time(r, 5), Time(r, 6), Time(r, 7), r.GetString(8), SqlValues.ReadString(r, 9), SqlValues.ReadString(r, 10), r.GetDecimal(11),
                r.IsDBNull(12) ? null : r.GetGuid(12), r.IsDBNull(13) ? 0 : r.GetInt32(13), 0);
        await r.NextResultAsync();
        while (await r.ReadAsync())
        {
            var i = r.GetInt32(0);
            linesVersion[i] = r.GetInt32(1);
            lines[i].Add(new LoadedLine(r.GetGuid(2), r.GetString(3), SqlValues.ReadString(r, 4), SqlValues.ReadString(r, 5), r.GetString(6), r.GetString(7),
                r.GetInt32(8), r.GetDecimal(9), r.GetDecimal(10), r.GetDecimal(11), r.GetBoolean(12), r.GetInt32(13), r.GetInt32(14)));
        }
        await r.NextResultAsync();
        while (await r.ReadAsync()) history[r.GetInt32(0)].Add(r.GetInt32(1));

        return [.. Enumerable.Range(0, batch.Count).Select(i => new OrderRead(
            orders[i] is { } o ? o with { LinesVersion = lines[i].Count > 0 ? linesVersion[i] : o.Version } : null, lines[i], history[i], stored[i]))];
    }

    private static DateTimeOffset? Time(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetFieldValue<DateTimeOffset>(i);
}
