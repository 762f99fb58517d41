using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Analytics;
using Retour.Core.Money;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Retour.Core.Warehouse;
using Retour.Features.Refunds;
using Retour.Features.Tenancy;
using Retour.Features.Warehouses;

namespace Retour.Features.Analytics;

/// <summary>
/// Reads the current state of a batch of returns or orders (a fixed number of queries per batch, whatever its size)
/// and turns it into facts, for one merchant at a time (every read names it: the rows are read past the tenant filter).
/// </summary>
public sealed class FactLoader(MerchantDirectory merchants)
{
    public async Task<Dictionary<Guid, ReturnFact>> ReturnsAsync(Infrastructure.Db.RetourDb db, Guid merchantId, IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        var facts = new Dictionary<Guid, ReturnFact>();
        if (ids.Count == 0) return facts;
        var returns = await db.Returns.IgnoreQueryFilters().AsNoTracking().Where(r => r.MerchantId == merchantId && ids.Contains(r.Id))
            .Select(r => new { r.Id, r.MerchantId, r.OrderId, r.CreatedAt, r.Status, r.Resolution, r.Method, r.CarrierCode, r.WarehouseCode, r.DecisionOutcome })
            .ToListAsync(ct);
        if (returns.Count == 0) return facts;
        var returnIds = returns.Select(r => r.Id).ToList();
        var lines = await db.ReturnLines.IgnoreQueryFilters().AsNoTracking().Where(l => returnIds.Contains(l.ReturnId))
            .Select(l => new { l.Id, l.ReturnId, l.OrderLineId, l.Sku, l.Category, l.Quantity, l.Reason, l.Comment }).ToListAsync(ct);
        var orderLineIds = lines.Select(l => l.OrderLineId).Distinct().ToList();
        var orderLines = await db.OrderLines.IgnoreQueryFilters().AsNoTracking().Where(l => orderLineIds.Contains(l.Id))
            .Select(l => new { l.Id, l.ProductCode, l.Quantity, l.UnitPrice, l.Tax, l.Discount }).ToDictionaryAsync(l => l.Id, ct);
        var orderIds = returns.Select(r => r.OrderId).Distinct().ToList();
        var orders = await db.Orders.IgnoreQueryFilters().AsNoTracking().Where(o => orderIds.Contains(o.Id))
            .Select(o => new { o.Id, o.MerchantId, o.ShipCountry, o.ShipRegion, o.CustomerEmail, o.PlacedAt, o.DeliveredAt, o.FulfilledAt })
            .ToDictionaryAsync(o => o.Id, ct);
        var skus = lines.Where(l => l.Sku != null).Select(l => l.Sku!).Distinct().ToList();
        var merchantIds = returns.Select(r => r.MerchantId).Distinct().ToList();
        var products = (await db.Products.IgnoreQueryFilters().AsNoTracking().Where(p => merchantIds.Contains(p.MerchantId) && skus.Contains(p.Sku))
            .Select(p => new { p.MerchantId, p.Sku, p.ProductCode, p.Supplier }).ToListAsync(ct))
            .ToDictionary(p => (p.MerchantId, p.Sku));
        var refunds = await db.Refunds.IgnoreQueryFilters().AsNoTracking()
            .Where(f => returnIds.Contains(f.ReturnId) && f.Status == RefundStatus.Issued)
            .Select(f => new { f.ReturnId, f.Amount, f.BreakdownJson, f.IssuedAt }).ToListAsync(ct);
        var used = (await db.Inspections.IgnoreQueryFilters().AsNoTracking().Where(i => returnIds.Contains(i.ReturnId) && i.Grade == Grade.Used)
            .GroupBy(i => i.ReturnLineId).Select(g => new { g.Key, N = g.Count() }).ToListAsync(ct)).ToDictionary(x => x.Key, x => x.N);
        var recovered = (await db.UnitDispositions.IgnoreQueryFilters().AsNoTracking()
            .Where(d => returnIds.Contains(d.ReturnId) && d.State == DispositionState.Confirmed)
            .Select(d => new { d.ReturnId, d.ExpectedRecovery }).ToListAsync(ct))
            .GroupBy(d => d.ReturnId).ToDictionary(g => g.Key, g => g.Sum(d => d.ExpectedRecovery ?? 0m));
        var moves = (await db.AuditEvents.IgnoreQueryFilters().AsNoTracking()
            .Where(a => returnIds.Contains(a.EntityId) && a.EntityType == "return" && a.Action == "status_changed")
            .Select(a => new { a.EntityId, a.ToState, a.OccurredAt }).ToListAsync(ct))
            .GroupBy(a => a.EntityId).ToDictionary(g => g.Key, g => g.Select(a => (a.ToState ?? "", a.OccurredAt)).ToList());
        var history = await HistoryAsync(db, [.. orders.Values.Where(o => o.CustomerEmail != null).Select(o => (o.MerchantId, o.CustomerEmail!))], ct);

        foreach (var r in returns)
        {
            var merchant = await merchants.GetAsync(r.MerchantId, ct);
            var order = orders.GetValueOrDefault(r.OrderId);
            var input = new ReturnInput(r.CreatedAt, r.Status, r.Resolution, r.Method, r.CarrierCode, r.WarehouseCode, r.DecisionOutcome,
                order is null ? null : new OrderInput(order.ShipCountry, order.ShipRegion, order.PlacedAt, order.DeliveredAt ?? order.FulfilledAt),
                [.. lines.Where(l => l.ReturnId == r.Id).Select(l =>
                {
                    var ol = orderLines.GetValueOrDefault(l.OrderLineId);
                    var product = l.Sku is null ? null : products.GetValueOrDefault((r.MerchantId, l.Sku));
                    return new LineInput(l.Sku, l.Category, l.Quantity, l.Reason, product?.ProductCode ?? ol?.ProductCode, product?.Supplier,
                        ol?.UnitPrice ?? 0, ol?.Discount ?? 0, ol?.Tax ?? 0, ol?.Quantity ?? 0, used.GetValueOrDefault(l.Id), Classify(l.Comment));
                })],
                [.. refunds.Where(f => f.ReturnId == r.Id).Select(f => (f.Amount, f.BreakdownJson, f.IssuedAt))],
                recovered.GetValueOrDefault(r.Id), moves.GetValueOrDefault(r.Id) ?? [],
                order?.CustomerEmail is { } email && history.TryGetValue((r.MerchantId, email), out var h) ? Earlier(h, order.PlacedAt, r.OrderId) : (0, 0));
            facts[r.Id] = BuildReturn(input, merchant?.Zone ?? TimeZoneInfo.Utc, merchant?.Currency ?? "EUR");
        }
        return facts;
    }

    public async Task<Dictionary<Guid, OrderFact>> OrdersAsync(Infrastructure.Db.RetourDb db, Guid merchantId, IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        var facts = new Dictionary<Guid, OrderFact>();
        if (ids.Count == 0) return facts;
        var orders = await db.Orders.IgnoreQueryFilters().AsNoTracking().Where(o => o.MerchantId == merchantId && ids.Contains(o.Id))
            .Select(o => new { o.Id, o.MerchantId, o.PlacedAt, o.CancelledAt, o.ShipCountry, o.ShipRegion, o.CustomerEmail }).ToListAsync(ct);
        var orderIds = orders.Select(o => o.Id).ToList();
        var lines = await db.OrderLines.IgnoreQueryFilters().AsNoTracking().Where(l => orderIds.Contains(l.OrderId))
            .Select(l => new { l.OrderId, l.Sku, l.ProductCode, l.Category, l.Quantity, l.UnitPrice, l.Tax, l.Discount }).ToListAsync(ct);
        var history = await HistoryAsync(db, [.. orders.Where(o => o.CustomerEmail != null).Select(o => (o.MerchantId, o.CustomerEmail!))], ct);
        foreach (var o in orders)
        {
            var merchant = await merchants.GetAsync(o.MerchantId, ct);
            var earlier = o.CustomerEmail is { } email && history.TryGetValue((o.MerchantId, email), out var h) ? Earlier(h, o.PlacedAt, o.Id).Orders : 0;
            facts[o.Id] = BuildOrder(o.PlacedAt, o.CancelledAt, o.ShipCountry, o.ShipRegion, earlier,
                [.. lines.Where(l => l.OrderId == o.Id).Select(l => (l.Sku, l.ProductCode, l.Category, l.Quantity, l.UnitPrice, l.Discount, l.Tax))],
                merchant?.Zone ?? TimeZoneInfo.Utc, merchant?.Currency ?? "EUR");
        }
        return facts;
    }

    public sealed record OrderInput(string? Country, string? Region, DateTimeOffset PlacedAt, DateTimeOffset? DeliveredAt);

    public sealed record LineInput(string? Sku, string Category, int Quantity, ReasonCode Reason, string? ProductCode, string? Supplier,
        decimal UnitPrice, decimal Discount, decimal Tax, int LineQuantity, int UsedUnits, string? Said = null);

    /// <summary>The reason a shopper's comment names, or null without one (about 0.2 ms a comment).</summary>
    public static string? Classify(string? comment) =>
        string.IsNullOrWhiteSpace(comment) ? null : Retour.Core.Analytics.ReasonClassifier.Default.Classify(comment).Reason;

    /// <summary>Everything a return's fact is made of, as stored: the loader reads it, the demo generator has it in hand.</summary>
    public sealed record ReturnInput(
        DateTimeOffset CreatedAt, ReturnStatus Status, Resolution Resolution, ReturnMethod Method, string? Carrier, string? Warehouse,
        DecisionOutcome Decision, OrderInput? Order, IReadOnlyList<LineInput> Lines,
        IReadOnlyList<(decimal Amount, string BreakdownJson, DateTimeOffset? IssuedAt)> IssuedRefunds, decimal Recovered,
        IReadOnlyList<(string To, DateTimeOffset At)> Moves, (int Orders, int WithReturns) History);

    public static ReturnFact BuildReturn(ReturnInput r, TimeZoneInfo zone, string currency)
    {
        var firstIssued = r.IssuedRefunds.Where(f => f.IssuedAt != null).Select(f => f.IssuedAt!.Value).DefaultIfEmpty().Min();
        var timeline = new Timeline(r.CreatedAt, r.Decision == DecisionOutcome.Approved, r.Moves, firstIssued != default ? firstIssued : null);
        var delivered = r.Order?.DeliveredAt;
        return new ReturnFact
        {
            Day = Returnability.LocalDate(r.CreatedAt, zone),
            Status = Codes.Of(r.Status),
            Resolution = Codes.Of(r.Resolution),
            Method = Codes.Of(r.Method),
            Country = Country(r.Order?.Country),
            Region = Region(r.Order?.Country, r.Order?.Region),
            Carrier = string.IsNullOrEmpty(r.Carrier) ? Rollup.None : r.Carrier,
            Warehouse = string.IsNullOrEmpty(r.Warehouse) ? Rollup.None : r.Warehouse,
            Segment = r.History.Orders > 0 ? "repeat" : "new",
            AutoApproved = r.Decision == DecisionOutcome.Approved,
            RefundTotal = r.IssuedRefunds.Sum(f => f.Amount),
            FeesTotal = r.IssuedRefunds.Sum(f => Fees(f.BreakdownJson)),
            RecoveredValue = r.Recovered,
            CycleHours = timeline.Refunded is { } at ? Math.Round((at - r.CreatedAt).TotalHours, 3) : null,
            Reached = timeline.Reached,
            StageHours = timeline.Hours,
            Lines = [.. r.Lines.Select(l =>
            {
                var (value, tax) = LineValue(l.UnitPrice, l.Discount, l.Tax, l.LineQuantity, l.Quantity, currency);
                return new FactLine(l.Sku ?? Rollup.Unknown, l.ProductCode ?? l.Sku ?? Rollup.Unknown, l.Category, l.Supplier ?? Rollup.None,
                    Codes.Of(l.Reason), l.Quantity, value, l.UsedUnits, tax, l.Said);
            })],
            DaysAfterDelivery = delivered is { } d ? Math.Max(0, (int)Math.Floor((r.CreatedAt - d).TotalDays)) : null,
            HistoryOrders = r.History.Orders,
            HistoryWithReturns = r.History.WithReturns,
        };
    }

    public static OrderFact BuildOrder(DateTimeOffset placed, DateTimeOffset? cancelled, string? country, string? region, int earlierOrders,
        IReadOnlyList<(string? Sku, string? ProductCode, string Category, int Quantity, decimal UnitPrice, decimal Discount, decimal Tax)> lines,
        TimeZoneInfo zone, string currency) => new()
    {
        Day = Returnability.LocalDate(placed, zone),
        Country = Country(country),
        Region = Region(country, region),
        Segment = earlierOrders > 0 ? "repeat" : "new",
        Cancelled = cancelled != null,
        Lines = [.. lines.Select(l => new SaleLine(l.Sku ?? Rollup.Unknown, l.ProductCode ?? l.Sku ?? Rollup.Unknown, l.Category, l.Quantity,
            LineValue(l.UnitPrice, l.Discount, l.Tax, l.Quantity, l.Quantity, currency).Value))],
    };

    /// <summary>The shopper's orders (placed time, id, whether it saw a return), newest first.</summary>
    private static async Task<Dictionary<(Guid, string), List<(DateTimeOffset Placed, Guid Id, bool Returned)>>> HistoryAsync(
        Infrastructure.Db.RetourDb db, IReadOnlyList<(Guid Merchant, string Email)> shoppers, CancellationToken ct)
    {
        var result = new Dictionary<(Guid, string), List<(DateTimeOffset, Guid, bool)>>();
        if (shoppers.Count == 0) return result;
        var emails = shoppers.Select(s => s.Email).Distinct().ToList();
        var merchantIds = shoppers.Select(s => s.Merchant).Distinct().ToList();
        var rows = await db.Orders.IgnoreQueryFilters().AsNoTracking()
            .Where(o => merchantIds.Contains(o.MerchantId) && o.CustomerEmail != null && emails.Contains(o.CustomerEmail))
            .Select(o => new { o.MerchantId, o.CustomerEmail, o.PlacedAt, o.Id, o.ReturnCount }).ToListAsync(ct);
        foreach (var g in rows.GroupBy(o => (o.MerchantId, o.CustomerEmail!)))
            result[g.Key] = [.. g.OrderByDescending(o => o.PlacedAt).Select(o => (o.PlacedAt, o.Id, o.ReturnCount > 0))];
        return result;
    }

    /// <summary>Earlier orders than the one placed at <paramref name="placed"/>, as the approval rules count them (the last ten).</summary>
    public static (int Orders, int WithReturns) Earlier(IReadOnlyList<(DateTimeOffset Placed, Guid Id, bool Returned)> history, DateTimeOffset placed, Guid self)
    {
        var earlier = history.Where(h => h.Id != self && h.Placed < placed).Take(Returns.ReturnableOrder.MaxHistory).ToList();
        return (earlier.Count, earlier.Count(h => h.Returned));
    }

    /// <summary>A returned (or sold) part of a line: its share of the line's net value and of its tax, rounded to the currency.</summary>
    public static (decimal Value, decimal Tax) LineValue(decimal unitPrice, decimal discount, decimal tax, int lineQuantity, int units, string currency)
    {
        if (lineQuantity <= 0) return (0, 0);
        var share = (decimal)Math.Min(units, lineQuantity) / lineQuantity;
        return (Currencies.Round((unitPrice * lineQuantity - discount) * share, currency), Currencies.Round(tax * share, currency));
    }

    public static string Country(string? country) => string.IsNullOrWhiteSpace(country) ? Rollup.Unknown : country.Trim().ToUpperInvariant();

    public static string Region(string? country, string? region) =>
        string.IsNullOrWhiteSpace(region) ? Country(country) : Country(country) + "-" + region.Trim().ToUpperInvariant();

    private static decimal Fees(string breakdownJson)
    {
        try
        {
            using var doc = JsonDocument.Parse(breakdownJson);
            return Read(doc.RootElement, "restocking_fee") + Read(doc.RootElement, "return_shipping_fee");
        }
        catch (JsonException) { return 0; }

        static decimal Read(JsonElement e, string name) => e.TryGetProperty(name, out var v)
            ? v.ValueKind == JsonValueKind.Number ? v.GetDecimal()
            : decimal.TryParse(v.GetString(), NumberStyles.Number, CultureInfo.InvariantCulture, out var d) ? d : 0
            : 0;
    }

    /// <summary>When the return entered each funnel stage, from its status changes; and the time between them.</summary>
    private sealed class Timeline
    {
        public List<string> Reached { get; } = [Stages.Requested];
        public Dictionary<string, double> Hours { get; } = [];
        public DateTimeOffset? Refunded { get; }

        public Timeline(DateTimeOffset created, bool autoApproved, IReadOnlyList<(string To, DateTimeOffset At)> moves, DateTimeOffset? refunded)
        {
            var at = new Dictionary<string, DateTimeOffset> { [Stages.Requested] = created };
            void Enter(string stage, DateTimeOffset t) { if (!at.ContainsKey(stage)) at[stage] = t; }
            if (autoApproved) Enter(Stages.Approved, created);
            foreach (var (to, t) in moves.OrderBy(m => m.At))
                switch (to)
                {
                    case "approved": Enter(Stages.Approved, t); break;
                    case "in_transit" or "delivered": Enter(Stages.Shipped, t); break;
                    case "received": Enter(Stages.Received, t); break;
                    case "inspected": Enter(Stages.Inspected, t); break;
                    case "resolved": Enter(Stages.Refunded, refunded is { } r && r < t ? r : t); break;
                    case "closed": Enter(Stages.Closed, t); break;
                }
            if (refunded is { } issued) Enter(Stages.Refunded, issued);
            Refunded = refunded;
            foreach (var stage in Stages.Funnel.Skip(1)) if (at.ContainsKey(stage)) Reached.Add(stage);
            foreach (var (name, from, to) in Stages.Waits)
                if (at.TryGetValue(from, out var a) && at.TryGetValue(to, out var b) && b >= a) Hours[name] = Math.Round((b - a).TotalHours, 3);
        }
    }
}
