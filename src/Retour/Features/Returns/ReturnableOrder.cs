using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Retour.Core.Policies;
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

/// <summary>The singletons the return use cases share: the hot-path connection source, the policy cache, the merchant cache, the writer.</summary>
public sealed record ReturnServices(PostgresSource Postgres, PolicyBook Policies, MerchantDirectory Merchants, ReturnWriter Writer);

/// <summary>An order with what is already in returns, the policy that judges it, the merchant's time zone and the shopper's history.</summary>
public sealed record ReturnableOrder(LoadedOrder Order, OrderFacts Facts, EffectivePolicy Policy, MerchantInfo Merchant, CustomerHistory History)
{
    /// <summary>The shopper's history is read for up to this many earlier orders; policies may not look further.</summary>
    public const int MaxHistory = PolicyValidator.MaxHistoryOrders;

    private const string IdempotencySql =
        "SELECT request_hash, status_code, response_body, location FROM idempotency_records WHERE merchant_id = @m AND key = @k;\n";

    public IReadOnlyList<LineVerdict> Judge(DateTimeOffset now) => Returnability.Evaluate(Facts, Policy.Policy, now, Merchant.Zone);

    /// <summary>
    /// Everything a returnability answer or a new return needs — the order and its lines, the quantities already in
    /// returns, the policy version that judges it, the shopper's recent orders and, when given, a stored response
    /// to the Idempotency-Key — in one round trip to the database. This is the hot path of the portal and the API,
    /// so it is hand-written SQL rather than LINQ (see docs/decisions/0009). Every statement filters by merchant.
    /// </summary>
    public static async Task<(ReturnableOrder? Order, StoredResponse? Stored)> LoadAsync(
        RetourDb db, ReturnServices services, string number, string? idempotencyKey, CancellationToken ct)
    {
        var (postgres, policies, merchants, _) = services;
        var merchantId = db.Tenant.MerchantId;
        var v = new SqlValues(db.IsPostgres);
        // PostgreSQL: a pooled connection of our own, so the request never initialises EF. SQLite: the context's connection.
        await using var own = db.IsPostgres ? await postgres.Source.OpenConnectionAsync(ct) : null;
        var conn = own ?? db.Database.GetDbConnection();
        if (own is null) await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var cmd = conn.CreateCommand();
            if (own is null) cmd.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            // Three statements, one round trip, each a plain index lookup: quantities in returns are counters on the
            // lines and the shopper's history reads orders.return_count, so no plan depends on fresh statistics.
            cmd.CommandText = (idempotencyKey is null ? "" : IdempotencySql) + $"""
                SELECT o.id, o.version, o.placed_at, o.delivered_at, o.fulfilled_at, o.cancelled_at, o.currency, o.customer_email, o.customer_locale, o.shipping_total, o.return_count,
                       (SELECT p.id FROM policy_versions p WHERE p.merchant_id = o.merchant_id AND p.effective_from <= o.placed_at ORDER BY p.version DESC LIMIT 1),
                       (SELECT p.version FROM policy_versions p WHERE p.merchant_id = o.merchant_id AND p.effective_from <= o.placed_at ORDER BY p.version DESC LIMIT 1)
                  FROM orders o WHERE o.merchant_id = @m AND o.number = @n;
                SELECT l.id, l.line_ref, l.sku, l.product_code, l.title, l.category, l.quantity, l.unit_price, l.tax, l.discount, l.final_sale, l.refunded_quantity, l.returned_quantity
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
            if (!await r.ReadAsync(ct)) return (null, stored);
            var id = v.ReadId(r, 0);
            var version = r.GetInt32(1);
            var placed = v.ReadTime(r, 2);
            var delivered = v.ReadTimeOrNull(r, 3);
            var fulfilled = v.ReadTimeOrNull(r, 4);
            var cancelled = v.ReadTimeOrNull(r, 5);
            var currency = r.GetString(6);
            var email = SqlValues.ReadString(r, 7);
            var locale = SqlValues.ReadString(r, 8);
            var shipping = v.ReadMoney(r, 9);
            var returnCount = r.GetInt32(10);
            Guid? policyId = r.IsDBNull(11) ? null : v.ReadId(r, 11);
            var policyVersion = r.IsDBNull(12) ? 0 : r.GetInt32(12);

            await r.NextResultAsync(ct);
            var lines = new List<LoadedLine>();
            while (await r.ReadAsync(ct))
                lines.Add(new LoadedLine(v.ReadId(r, 0), r.GetString(1), SqlValues.ReadString(r, 2), SqlValues.ReadString(r, 3), r.GetString(4), r.GetString(5),
                    r.GetInt32(6), v.ReadMoney(r, 7), v.ReadMoney(r, 8), v.ReadMoney(r, 9), v.ReadBool(r, 10), r.GetInt32(11), r.GetInt32(12)));

            await r.NextResultAsync(ct);
            var history = new List<bool>();
            while (await r.ReadAsync(ct)) history.Add(r.GetInt32(0) > 0);
            await r.DisposeAsync();

            var policy = policyId is { } pid
                ? new EffectivePolicy(pid, policyVersion, await policies.GetAsync(db, pid, ct))
                : throw new InvalidOperationException("The merchant has no return policy.");
            var merchant = await merchants.GetAsync(merchantId, ct) ?? throw new InvalidOperationException("The order's merchant does not exist.");
            var loaded = new LoadedOrder(id, number, version, returnCount, placed, delivered, fulfilled, cancelled, currency, email, locale, shipping, lines);
            var lookback = Math.Min(policy.Policy.AutoApproval.HistoryOrders, MaxHistory);
            var earlier = history.Take(lookback).ToList();
            return (new ReturnableOrder(loaded, ToFacts(loaded), policy, merchant, new CustomerHistory(earlier.Count, earlier.Count(x => x))), stored);
        }
        finally
        {
            if (own is null) await db.Database.CloseConnectionAsync();
        }
    }

    private static OrderFacts ToFacts(LoadedOrder o) => new(o.PlacedAt, o.DeliveredAt, o.FulfilledAt, o.CancelledAt, o.Currency,
        [.. o.Lines.Select(l => new LineFacts(l.LineRef, l.Sku, l.ProductCode, l.Category, l.Quantity, l.RefundedQuantity, l.ReturnedQuantity,
            l.UnitPrice, l.Tax, l.Discount, l.FinalSale))]);
}
