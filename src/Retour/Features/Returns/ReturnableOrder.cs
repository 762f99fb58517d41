using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Retour.Core.Policies;
using Retour.Features.Carriers;
using Retour.Features.Policies;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Features.Returns;

public sealed record LoadedLine(
    Guid Id, string LineRef, string? Sku, string? ProductCode, string Title, string Category, int Quantity,
    decimal UnitPrice, decimal Tax, decimal Discount, bool FinalSale, int RefundedQuantity, int ReturnedQuantity);

public sealed record LoadedOrder(
    Guid Id, string Number, int Version, int ReturnCount, DateTimeOffset PlacedAt, DateTimeOffset? DeliveredAt, DateTimeOffset? FulfilledAt,
    DateTimeOffset? CancelledAt, string Currency, string? CustomerEmail, string? CustomerLocale, decimal ShippingTotal,
    IReadOnlyList<LoadedLine> Lines);

/// <summary>A stored first response to an Idempotency-Key, found in the same round trip as the order.</summary>
public sealed record StoredResponse(string RequestHash, int StatusCode, string Body, string? Location);

/// <summary>The singletons the return use cases share: the order reader, the policy cache, the merchant cache and the writer.</summary>
public sealed record ReturnServices(OrderReader Reader, PolicyBook Policies, MerchantDirectory Merchants, ReturnWriter Writer, LogisticsDirectory Logistics);

/// <summary>An order with what is already in returns, the policy that judges it, the merchant's time zone and the shopper's history.</summary>
public sealed record ReturnableOrder(LoadedOrder Order, OrderFacts Facts, EffectivePolicy Policy, MerchantInfo Merchant, CustomerHistory History)
{
    /// <summary>The shopper's history is read for up to this many earlier orders; policies may not look further.</summary>
    public const int MaxHistory = OrderReader.MaxHistory;

    public IReadOnlyList<LineVerdict> Judge(DateTimeOffset now) => Returnability.Evaluate(Facts, Policy.Policy, now, Merchant.Zone);

    /// <summary>
    /// Everything a returnability answer or a new return needs — the order and its lines, the units already in returns, the
    /// policy version that judges it, the shopper's recent orders and, when given, a stored response to the Idempotency-Key —
    /// in one round trip. This is the hot path of the portal and the API, so it is hand-written SQL rather than LINQ (ADR 9);
    /// on PostgreSQL, requests arriving together share the round trip (<see cref="OrderReader"/>). Every statement filters by
    /// merchant, since raw SQL bypasses EF's tenant filter.
    /// </summary>
    public static async Task<(ReturnableOrder? Order, StoredResponse? Stored)> LoadAsync(
        RetourDb db, ReturnServices services, string number, string? idempotencyKey, CancellationToken ct)
    {
        var merchantId = db.Tenant.MerchantId;
        OrderRead read;
        for (var attempt = 1; ; attempt++)
        {
            read = db.IsPostgres
                ? await services.Reader.ReadAsync(merchantId, number, idempotencyKey, ct)
                : await ReadSqliteAsync(db, merchantId, number, idempotencyKey, ct);
            // Lines read after a change the order row did not see yet: read again rather than judge a mix.
            if (read.Order is not { } o || o.LinesVersion == o.Version || attempt == 3) break;
        }
        if (read.Order is not { } row) return (null, read.Stored);

        var policy = row.PolicyId is { } pid
            ? new EffectivePolicy(pid, row.PolicyVersion, await services.Policies.GetAsync(db, pid, ct))
            : throw new InvalidOperationException("The merchant has no return policy.");
        var merchant = await services.Merchants.GetAsync(merchantId, ct) ?? throw new InvalidOperationException("The order's merchant does not exist.");
        var loaded = new LoadedOrder(row.Id, number, row.Version, row.ReturnCount, row.PlacedAt, row.DeliveredAt, row.FulfilledAt, row.CancelledAt,
            row.Currency, row.CustomerEmail, row.CustomerLocale, row.ShippingTotal, read.Lines);
        var earlier = read.History.Take(Math.Min(policy.Policy.AutoApproval.HistoryOrders, MaxHistory)).ToList();
        return (new ReturnableOrder(loaded, ToFacts(loaded), policy, merchant, new CustomerHistory(earlier.Count, earlier.Count(c => c > 0))), read.Stored);
    }

    private const string IdempotencySql =
        "SELECT request_hash, status_code, response_body, location FROM idempotency_records WHERE merchant_id = @m AND key = @k;\n";

    /// <summary>The same read on SQLite (embedded: one process, no network), through the context's connection.</summary>
    private static async Task<OrderRead> ReadSqliteAsync(RetourDb db, Guid merchantId, string number, string? idempotencyKey, CancellationToken ct)
    {
        var v = new SqlValues(postgres: false);
        var conn = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var cmd = conn.CreateCommand();
            cmd.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            cmd.CommandText = (idempotencyKey is null ? "" : IdempotencySql) + $"""
                SELECT o.id, o.version, o.return_count, o.placed_at, o.delivered_at, o.fulfilled_at, o.cancelled_at, o.currency, o.customer_email,
                       o.customer_locale, o.shipping_total,
                       (SELECT p.id FROM policy_versions p WHERE p.merchant_id = o.merchant_id AND p.effective_from <= o.placed_at ORDER BY p.version DESC LIMIT 1),
                       (SELECT p.version FROM policy_versions p WHERE p.merchant_id = o.merchant_id AND p.effective_from <= o.placed_at ORDER BY p.version DESC LIMIT 1)
                  FROM orders o WHERE o.merchant_id = @m AND o.number = @n;
                SELECT o.version, l.id, l.line_ref, l.sku, l.product_code, l.title, l.category, l.quantity, l.unit_price, l.tax, l.discount,
                       l.final_sale, l.refunded_quantity, l.returned_quantity
                  FROM orders o JOIN order_lines l ON l.order_id = o.id
                  WHERE o.merchant_id = @m AND o.number = @n AND l.merchant_id = @m ORDER BY l.position;
                SELECT h.return_count
                  FROM orders o JOIN orders h ON h.merchant_id = o.merchant_id AND h.customer_email = o.customer_email AND h.id <> o.id
                  WHERE o.merchant_id = @m AND o.number = @n ORDER BY h.placed_at DESC LIMIT {MaxHistory};
                """;
            SqlValues.Add(cmd, "@m", v.Id(merchantId));
            SqlValues.Add(cmd, "@n", number);
            if (idempotencyKey is not null) SqlValues.Add(cmd, "@k", idempotencyKey);

            await using var r = await cmd.ExecuteReaderAsync(ct);
            StoredResponse? stored = null;
            if (idempotencyKey is not null)
            {
                if (await r.ReadAsync(ct)) stored = new StoredResponse(r.GetString(0), r.GetInt32(1), r.GetString(2), SqlValues.ReadString(r, 3));
                await r.NextResultAsync(ct);
            }
            LoadedOrderRow? order = null;
            if (await r.ReadAsync(ct))
                order = new LoadedOrderRow(v.ReadId(r, 0), r.GetInt32(1), r.GetInt32(2), v.ReadTime(r, 3), v.ReadTimeOrNull(r, 4), v.ReadTimeOrNull(r, 5),
                    v.ReadTimeOrNull(r, 6), r.GetString(7), SqlValues.ReadString(r, 8), SqlValues.ReadString(r, 9), v.ReadMoney(r, 10),
                    r.IsDBNull(11) ? null : v.ReadId(r, 11), r.IsDBNull(12) ? 0 : r.GetInt32(12), r.GetInt32(1));
            await r.NextResultAsync(ct);
            var lines = new List<LoadedLine>();
            var linesVersion = order?.Version ?? 0;
            while (await r.ReadAsync(ct))
            {
                linesVersion = r.GetInt32(0);
                lines.Add(new LoadedLine(v.ReadId(r, 1), r.GetString(2), SqlValues.ReadString(r, 3), SqlValues.ReadString(r, 4), r.GetString(5), r.GetString(6),
                    r.GetInt32(7), v.ReadMoney(r, 8), v.ReadMoney(r, 9), v.ReadMoney(r, 10), v.ReadBool(r, 11), r.GetInt32(12), r.GetInt32(13)));
            }
            await r.NextResultAsync(ct);
            var history = new List<int>();
            while (await r.ReadAsync(ct)) history.Add(r.GetInt32(0));
            return new OrderRead(order is null ? null : order with { LinesVersion = linesVersion }, lines, history, stored);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static OrderFacts ToFacts(LoadedOrder o) => new(o.PlacedAt, o.DeliveredAt, o.FulfilledAt, o.CancelledAt, o.Currency,
        [.. o.Lines.Select(l => new LineFacts(l.LineRef, l.Sku, l.ProductCode, l.Category, l.Quantity, l.RefundedQuantity, l.ReturnedQuantity,
            l.UnitPrice, l.Tax, l.Discount, l.FinalSale))]);
}
