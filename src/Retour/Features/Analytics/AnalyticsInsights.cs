using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Analytics;
using Retour.Core.Money;
using Retour.Core.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Http;

namespace Retour.Features.Analytics;

/// <summary>
/// /api/v1/analytics/insights/…: what to fix. Products that run small or large, suppliers with quality complaints, and
/// carriers compared, all read from the same cells as the dashboards (same period and filters, same CSV).
/// </summary>
public static class AnalyticsInsights
{
    public static void Map(RouteGroupBuilder analytics)
    {
        analytics.MapGet("/insights/sizing", SizingInsight).WithName("AnalyticsSizing").WithSummary("Products that run small or large")
            .WithDescription("level: sku (default) or product; min_units (default 20): returned units below which there is no verdict; category filter; period. " +
                             "A key runs small (or large) when its share of too_small (too_large) returns is above its category's at 99 % confidence (z ≥ 2.58).");
        analytics.MapGet("/insights/suppliers", SupplierInsight).WithName("AnalyticsSuppliers").WithSummary("Suppliers with quality complaints")
            .WithDescription("Returned units, quality complaints (defective, not as described, quality, damaged) and their share against all suppliers', recovered value, " +
                             "and units returned to the vendor (confirmed in the period): rtv_units, rtv_value (their value) and rtv_recovery (the credit expected). min_units (default 20).");
        analytics.MapGet("/insights/carriers", CarrierInsight).WithName("AnalyticsCarriers").WithSummary("Carriers compared: volume, time to ship, transit time, cycle time");
        // Shoppers by name and their own words are returns data: these also need returns:read.
        analytics.MapGet("/insights/serial-returners", SerialReturners).RequireScope(Scopes.ReturnsRead).WithName("AnalyticsSerialReturners")
            .WithSummary("Shoppers who return most of what they buy, or return it worn")
            .WithDescription("Period only. min_returns (default 5) and min_rate (default 0.5, orders returned over orders placed in the period) flag serial " +
                             "returners; min_used (default 2, units graded used among the shopper's returns made in the period) flags wardrobing. limit (default 50, at most 500). Sorted by signals, then returns.");
        analytics.MapGet("/insights/comments", Comments).RequireScope(Scopes.ReturnsRead).WithName("AnalyticsComments")
            .WithSummary("Shoppers' comments classified by reason, against the reason they picked")
            .WithDescription("Period, category. Every comment is classified by the multilingual classifier when its return's facts are built; " +
                             "per picked reason: how many commented returns, the share whose words name the same reason, what the others name, and a recent example that disagrees.");
    }

    private static int MinUnits(HttpContext http, List<FieldError> errors)
    {
        var s = http.Request.Query["min_units"].ToString();
        if (s.Length == 0) return 20;
        if (!int.TryParse(s, out var n) || n < 1 || n > 1_000_000) errors.Add(new("min_units", "A whole number from 1 to 1,000,000."));
        return n;
    }

    private static async Task<(AnalyticsFilter? Filter, AnalyticsEndpoints.Shop Shop, IResult? Error)> ParseAsync(
        HttpContext http, RetourDb db, MerchantDirectory merchants, TimeProvider clock, List<FieldError> errors, CancellationToken ct)
    {
        var shop = await AnalyticsEndpoints.ShopAsync(merchants, db, clock, ct);
        var f = AnalyticsFilter.Parse(http.Request.Query, shop.Today, errors);
        return (f, shop, errors.Count > 0 ? Problems.Validation(errors) : null);
    }

    public sealed record SizingRow(string Key, string Category, long ReturnedUnits, long SoldUnits, double? ReturnRate, long SmallUnits, long LargeUnits,
        double SmallShare, double LargeShare, double CategorySmallShare, double CategoryLargeShare, double ZSmall, double ZLarge, string? Runs);

    public static async Task<IResult> SizingInsight(HttpContext http, RetourDb db, AnalyticsQueries queries, MerchantDirectory merchants, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var level = http.Request.Query["level"].ToString() is { Length: > 0 } l ? l : Rollup.Sku;
        if (level is not (Rollup.Sku or Rollup.Product)) errors.Add(new("level", "Use sku or product."));
        var min = MinUnits(http, errors);
        var (f, shop, error) = await ParseAsync(http, db, merchants, clock, errors, ct);
        if (error is not null) return error;
        if (f!.Active.Any(a => a.Filter != Rollup.Category))
            return Problems.Validation("category", "Sizing compares products with their category: filter by period and category only.");
        var keys = await queries.ByKeyAsync(f, level, ct);
        var baselines = await queries.ByKeyAsync(f, Rollup.Category, ct);
        var categoryOf = level == Rollup.Sku
            ? await db.Products.AsNoTracking().GroupBy(p => p.Sku).Select(g => new { g.Key, Category = g.Min(p => p.Category) }).ToDictionaryAsync(x => x.Key, x => x.Category, ct)
            : await db.Products.AsNoTracking().GroupBy(p => p.ProductCode).Select(g => new { g.Key, Category = g.Min(p => p.Category) }).ToDictionaryAsync(x => x.Key, x => x.Category, ct);
        var rows = keys.ByKey.Where(kv => kv.Value.Units > 0).Select(kv =>
        {
            var category = categoryOf.GetValueOrDefault(kv.Key) ?? Rollup.Unknown;
            var b = baselines.ByKey.GetValueOrDefault(category) ?? Sums.Zero;
            var v = Sizing.Judge(kv.Value.Units, kv.Value.SmallUnits, kv.Value.LargeUnits,
                b.Units == 0 ? 0 : (double)b.SmallUnits / b.Units, b.Units == 0 ? 0 : (double)b.LargeUnits / b.Units, min);
            return new SizingRow(kv.Key, category, kv.Value.Units, kv.Value.SoldUnits, Sums.Ratio(kv.Value.Units, kv.Value.SoldUnits), kv.Value.SmallUnits,
                kv.Value.LargeUnits, v.SmallShare, v.LargeShare, v.BaselineSmall, v.BaselineLarge, v.ZSmall, v.ZLarge, v.Runs);
        })
        .OrderBy(r => r.Runs is null ? 1 : 0).ThenByDescending(r => Math.Max(r.ZSmall, r.ZLarge)).ThenBy(r => r.Key, StringComparer.Ordinal).ToList();
        if (CsvExport.Wanted(http))
            return CsvExport.Result($"sizing-{level}.csv",
                ["key", "category", "returned_units", "sold_units", "return_rate", "small_units", "large_units", "small_share", "large_share",
                 "category_small_share", "category_large_share", "z_small", "z_large", "runs"],
                rows.Select(r => new object?[] { r.Key, r.Category, r.ReturnedUnits, r.SoldUnits, r.ReturnRate, r.SmallUnits, r.LargeUnits, r.SmallShare,
                    r.LargeShare, r.CategorySmallShare, r.CategoryLargeShare, r.ZSmall, r.ZLarge, r.Runs }));
        return TypedResults.Ok(new { level, min_units = min, source = keys.Source, flagged = rows.Count(r => r.Runs is not null), rows });
    }

    public sealed record SupplierRow(string Supplier, long Returns, long ReturnedUnits, long QualityUnits, double QualityShare, double Baseline, double Z,
        bool Flagged, string Value, string RecoveredValue, string RefundTotal, long RtvUnits, string RtvValue, string RtvRecovery);

    public static async Task<IResult> SupplierInsight(HttpContext http, RetourDb db, AnalyticsQueries queries, MerchantDirectory merchants, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var min = MinUnits(http, errors);
        var (f, shop, error) = await ParseAsync(http, db, merchants, clock, errors, ct);
        if (error is not null) return error;
        var currency = shop.Currency;
        if (f!.Active.Any(a => a.Filter != Rollup.Category))
            return Problems.Validation("category", "Suppliers are compared over a period and, at most, a category.");
        var cells = await queries.ByKeyAsync(f, Rollup.Supplier, ct);
        // Units sent back to their supplier (return to vendor), confirmed in the period: their value and the credit expected.
        var (start, end) = shop.Instants(f);
        var category = f.Category;
        // The partial index on unit_dispositions (merchant, confirmed_at) where final = 'return_to_vendor' holds only these rows.
        var rtvQuery = db.UnitDispositions.AsNoTracking()
            .Where(d => d.State == Warehouses.DispositionState.Confirmed && d.Final == Retour.Core.Warehouse.Disposition.ReturnToVendor &&
                        d.ConfirmedAt >= start && d.ConfirmedAt < end);
        if (category is not null) rtvQuery = rtvQuery.Where(d => d.Category == category);
        var rtv = (await rtvQuery.GroupBy(d => d.Supplier)
                .Select(g => new { g.Key, Units = g.LongCount(), Value = g.Sum(d => d.Value), Recovery = g.Sum(d => d.ExpectedRecovery ?? 0m) }).ToListAsync(ct))
            .GroupBy(x => string.IsNullOrEmpty(x.Key) ? Rollup.None : x.Key)
            .ToDictionary(g => g.Key, g => (Units: g.Sum(x => x.Units), Value: g.Sum(x => x.Value), Recovery: g.Sum(x => x.Recovery)));
        var units = cells.ByKey.Values.Sum(s => s.Units);
        var baseline = units == 0 ? 0 : (double)cells.ByKey.Values.Sum(s => s.QualityUnits) / units;
        string Money(long v) => AnalyticsEndpoints.Money(v, currency);
        string Decimal(decimal v) => Currencies.Format(Currencies.Round(v, currency), currency);
        var rows = cells.ByKey.Where(kv => kv.Value.Units > 0).Select(kv =>
        {
            var share = (double)kv.Value.QualityUnits / kv.Value.Units;
            var z = baseline is <= 0 or >= 1 ? 0 : (share - baseline) / Math.Sqrt(baseline * (1 - baseline) / kv.Value.Units);
            var back = rtv.GetValueOrDefault(kv.Key);
            return new SupplierRow(kv.Key, kv.Value.Returns, kv.Value.Units, kv.Value.QualityUnits, Math.Round(share, 4), Math.Round(baseline, 4), Math.Round(z, 2),
                kv.Value.Units >= min && z >= Sizing.Significant, Money(kv.Value.Value), Money(kv.Value.RecoveredValue), Money(kv.Value.RefundTotal),
                back.Units, Decimal(back.Value), Decimal(back.Recovery));
        })
        // Units sent back in the period from returns made before it: the supplier still owes their credit.
        .Concat(rtv.Where(kv => !cells.ByKey.TryGetValue(kv.Key, out var c) || c.Units == 0).Select(kv => new SupplierRow(kv.Key, 0, 0, 0, 0, Math.Round(baseline, 4), 0,
            false, Money(0), Money(0), Money(0), kv.Value.Units, Decimal(kv.Value.Value), Decimal(kv.Value.Recovery))))
        .OrderByDescending(r => r.Flagged).ThenByDescending(r => r.Z).ThenBy(r => r.Supplier, StringComparer.Ordinal).ToList();
        if (CsvExport.Wanted(http))
            return CsvExport.Result("suppliers.csv",
                ["supplier", "returns", "returned_units", "quality_units", "quality_share", "baseline", "z", "flagged", "value", "recovered_value", "refund_total",
                 "rtv_units", "rtv_value", "rtv_recovery"],
                rows.Select(r => new object?[] { r.Supplier, r.Returns, r.ReturnedUnits, r.QualityUnits, r.QualityShare, r.Baseline, r.Z, r.Flagged, r.Value,
                    r.RecoveredValue, r.RefundTotal, r.RtvUnits, r.RtvValue, r.RtvRecovery }));
        return TypedResults.Ok(new { currency, min_units = min, source = cells.Source, baseline_quality_share = Math.Round(baseline, 4), rows });
    }

    public sealed record CarrierRow(string Carrier, long Returns, double? Share, double? ShipP50Hours, double? TransitP50Hours, double? TransitP90Hours,
        double? AvgCycleHours, string RefundTotal);

    public static async Task<IResult> CarrierInsight(HttpContext http, RetourDb db, AnalyticsQueries queries, MerchantDirectory merchants, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var (f, shop, error) = await ParseAsync(http, db, merchants, clock, errors, ct);
        if (error is not null) return error;
        var currency = shop.Currency;
        if (f!.Carrier is not null) return Problems.Validation("carrier", "This compares carriers: leave the carrier filter out.");
        var cells = await queries.ByKeyAsync(f, Rollup.Carrier, ct);
        var total = cells.ByKey.Values.Sum(s => s.Returns);
        var rows = new List<CarrierRow>();
        var carriers = cells.ByKey.Where(kv => kv.Key != Rollup.None).OrderByDescending(kv => kv.Value.Returns).ToList();
        // Each carrier's own time-in-stage histograms are the cells under its filter: one query for all of them when no
        // other filter is set (with one, each carrier's cells are summed from facts).
        var byScope = f.Active.Count == 0
            ? await queries.HistogramsByScopeAsync(f, [.. carriers.Select(c => Rollup.Scope(Rollup.Carrier, c.Key))], Rollup.StageHours, ct)
            : null;
        foreach (var (carrier, s) in carriers)
        {
            var timed = byScope is not null
                ? new AnalyticsQueries.Cells(byScope.GetValueOrDefault(Rollup.Scope(Rollup.Carrier, carrier)) ?? [], AnalyticsQueries.SourceRollup)
                : await queries.ByKeyAsync(f with { Carrier = carrier }, Rollup.StageHours, ct);
            double? P(string stage, double p) =>
                Stages.Percentile(AnalyticsEndpoints.Histogram(timed.ByKey, stage).Counts, p) is { } h ? Math.Round(h, 1) : null;
            rows.Add(new CarrierRow(carrier, s.Returns, Sums.Ratio(s.Returns, total), P("ship", 0.5), P("transit", 0.5), P("transit", 0.9),
                s.CycleCount == 0 ? null : Math.Round(s.CycleHours / s.CycleCount, 1),
                AnalyticsEndpoints.Money(s.RefundTotal, currency)));
        }
        if (CsvExport.Wanted(http))
            return CsvExport.Result("carriers.csv", ["carrier", "returns", "share", "ship_p50_hours", "transit_p50_hours", "transit_p90_hours", "avg_cycle_hours", "refund_total"],
                rows.Select(r => new object?[] { r.Carrier, r.Returns, r.Share, r.ShipP50Hours, r.TransitP50Hours, r.TransitP90Hours, r.AvgCycleHours, r.RefundTotal }));
        return TypedResults.Ok(new { currency, source = cells.Source, rows });
    }

    private static int Int(HttpContext http, string name, int fallback, int min, int max, List<FieldError> errors)
    {
        var s = http.Request.Query[name].ToString();
        if (s.Length == 0) return fallback;
        if (!int.TryParse(s, out var n) || n < min || n > max) errors.Add(new(name, $"A whole number from {min} to {max:N0}."));
        return n;
    }

    private sealed record ShopperPeriod(long Orders, long ReturnedOrders, double? Rate, long Units, decimal Value, DateTimeOffset? Last);

    public sealed record SerialReturnerRow(string Email, long Orders, long Returns, long ReturnedOrders, double? ReturnRate, long Units, long UsedUnits,
        string Value, IReadOnlyList<string> Signals, string? Last);

    /// <summary>
    /// Serial returners and wardrobing over a period. A shopper's identity is not kept in the cells, and grouping a
    /// period's returns by shopper costs a second at a million returns, so the lifetime profiles
    /// (<see cref="AnalyticsShopper"/>) pick who can meet a threshold (at least k returns, or k used units, in a lifetime,
    /// with a return since the period began), and each one's history counts the period exactly. Used units are those of
    /// the shopper's returns made in the period, as in the cells. See ADR 26.
    /// </summary>
    public static async Task<IResult> SerialReturners(HttpContext http, RetourDb db, MerchantDirectory merchants, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var minReturns = Int(http, "min_returns", 5, 1, 10_000, errors);
        var minUsed = Int(http, "min_used", 2, 1, 10_000, errors);
        var limit = Int(http, "limit", 50, 1, 500, errors);
        var minRate = 0.5;
        if (http.Request.Query["min_rate"].ToString() is { Length: > 0 } mr &&
            (!double.TryParse(mr, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out minRate) || minRate is < 0 or > 1))
            errors.Add(new("min_rate", "A share from 0 to 1, for example 0.5."));
        var (f, shop, error) = await ParseAsync(http, db, merchants, clock, errors, ct);
        if (error is not null) return error;
        var currency = shop.Currency;
        if (f!.Active.Count > 0)
            return Problems.Validation(f.Active[0].Filter == Rollup.Country ? "region" : f.Active[0].Filter, "Serial returners are found over a period only: leave the other filters out.");
        var (start, end) = shop.Instants(f);
        // Who can meet a threshold: two index ranges on the profiles (lifetime returns, lifetime used units); each one's
        // history counts the period, as the rows stream in. The few shoppers too busy to keep one are counted from the returns.
        var profiled = db.AnalyticsShoppers.AsNoTracking()
            // Thresholds as constants: a cached generic plan made for no values could walk every profile.
            .Where(s => s.LastReturnAt >= start && (s.Returns >= EF.Constant(minReturns) || s.UsedUnits >= EF.Constant(minUsed)))
            .Select(s => new { s.Email, s.History }).AsAsyncEnumerable();
        var counted = new List<(string Email, long Returns, long Used)>();
        var busy = new List<string>();
        await foreach (var p in profiled.WithCancellation(ct))
        {
            if (p.History is null) { busy.Add(p.Email); continue; }
            var (n, u) = ShopperHistory.Count(p.History, start, end);
            if (n >= minReturns || u >= minUsed) counted.Add((p.Email, n, u));
        }
        if (busy.Count > 0)
        {
            var theirs = await db.Returns.AsNoTracking().Where(r => r.CreatedAt >= start && r.CreatedAt < end && r.CustomerEmail != null && busy.Contains(r.CustomerEmail))
                .Select(r => new { Email = r.CustomerEmail!, Used = db.Inspections.Count(i => i.ReturnId == r.Id && i.Grade == Retour.Core.Warehouse.Grade.Used) })
                .ToListAsync(ct);
            counted.AddRange(theirs.GroupBy(r => r.Email, StringComparer.Ordinal).Select(g => (g.Key, (long)g.Count(), g.Sum(r => (long)r.Used)))
                .Where(x => x.Item2 >= minReturns || x.Item3 >= minUsed));
        }
        // The period's returns and orders of some shoppers: what a row shows, and the rate behind high_rate.
        async Task<Dictionary<string, ShopperPeriod>> DetailsAsync(List<string> emails)
        {
            var theirs = await db.Returns.AsNoTracking()
                .Where(r => r.CreatedAt >= start && r.CreatedAt < end && r.CustomerEmail != null && emails.Contains(r.CustomerEmail))
                .Select(r => new { Email = r.CustomerEmail!, r.Id, r.OrderId, r.EstimateTotal, r.CreatedAt }).ToListAsync(ct);
            var ids = theirs.Select(r => r.Id).ToList();
            var unitsOf = (await db.ReturnLines.AsNoTracking().Where(l => ids.Contains(l.ReturnId)).GroupBy(l => l.ReturnId)
                .Select(g => new { g.Key, N = g.Sum(l => l.Quantity) }).ToListAsync(ct)).ToDictionary(x => x.Key, x => (long)x.N);
            var placed = (await db.Orders.AsNoTracking().Where(o => o.CustomerEmail != null && emails.Contains(o.CustomerEmail) && o.PlacedAt >= start && o.PlacedAt < end)
                    .GroupBy(o => o.CustomerEmail!).Select(g => new { g.Key, N = g.Count() }).ToListAsync(ct))
                .ToDictionary(x => x.Key, x => (long)x.N);
            var byEmail = theirs.ToLookup(r => r.Email, StringComparer.Ordinal);
            return emails.ToDictionary(e => e, e =>
            {
                var g = byEmail[e].ToList();
                var returnedOrders = g.Select(r => r.OrderId).Distinct().LongCount();
                // Orders returned in the period may have been placed before it: the rate never goes above 1.
                var orders = Math.Max(placed.GetValueOrDefault(e), returnedOrders);
                return new ShopperPeriod(orders, returnedOrders, Sums.Ratio(returnedOrders, orders), g.Sum(r => unitsOf.GetValueOrDefault(r.Id)),
                    g.Sum(r => r.EstimateTotal), g.Count == 0 ? null : g.Max(r => r.CreatedAt));
            }, StringComparer.Ordinal);
        }

        // The rate is needed for every shopper with many returns (high_rate), the strongest 5,000 of them (a cut says so);
        // the rest of a row only for the rows shown.
        var many = counted.Where(x => x.Returns >= minReturns).OrderByDescending(x => x.Returns).ThenByDescending(x => x.Used)
            .ThenBy(x => x.Email, StringComparer.Ordinal).ToList();
        var rated = many.Take(5000).ToList();
        var details = await DetailsAsync([.. rated.Select(x => x.Email)]);
        var listed = counted.Select(x =>
            {
                var signals = new List<string>();
                if (x.Returns >= minReturns) signals.Add("many_returns");
                if (details.TryGetValue(x.Email, out var d) && d.Rate >= minRate) signals.Add("high_rate");
                if (x.Used >= minUsed) signals.Add("wardrobing");
                return (x.Email, x.Returns, x.Used, Signals: signals);
            })
            .Where(x => x.Signals.Contains("high_rate") || x.Signals.Contains("wardrobing"))
            .OrderByDescending(x => x.Signals.Count).ThenByDescending(x => x.Returns).ThenByDescending(x => x.Used).ThenBy(x => x.Email, StringComparer.Ordinal).ToList();
        var shown = CsvExport.Wanted(http) ? listed : listed.Take(limit).ToList();
        var missing = shown.Select(x => x.Email).Where(e => !details.ContainsKey(e)).ToList();
        if (missing.Count > 0)
            foreach (var (e, d) in await DetailsAsync(missing)) details[e] = d;
        var rows = shown.Select(x =>
        {
            var d = details[x.Email];
            return new SerialReturnerRow(x.Email, d.Orders, x.Returns, d.ReturnedOrders, d.Rate, d.Units, x.Used,
                Currencies.Format(Currencies.Round(d.Value, currency), currency), x.Signals,
                d.Last is { } last ? TimeZoneInfo.ConvertTime(last, shop.Zone).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : null);
        }).ToList();
        if (CsvExport.Wanted(http))
            return CsvExport.Result("serial-returners.csv", ["email", "orders", "returns", "returned_orders", "return_rate", "units", "used_units", "value", "signals", "last_return"],
                rows.Select(r => new object?[] { r.Email, r.Orders, r.Returns, r.ReturnedOrders, r.ReturnRate, r.Units, r.UsedUnits, r.Value, string.Join(' ', r.Signals), r.Last }));
        return TypedResults.Ok(new
        {
            currency, min_returns = minReturns, min_rate = minRate, min_used = minUsed, total_rows = listed.Count,
            truncated = many.Count > rated.Count,
            rows,
        });
    }

    public sealed record ClassifiedShare(string Reason, long Comments, double Share);
    public sealed record CommentRow(string Picked, long Comments, double? Agreement, IReadOnlyList<ClassifiedShare> Classified, string? Example, string? ExampleReason);

    /// <summary>
    /// Shoppers' comments against the reason they picked: every comment is classified when its return's fact is built, and
    /// counted in the <c>said</c> cells (picked&gt;said), so any period reads pre-summed cells. Counts are returns per
    /// (picked, said) pair, as everywhere in the cells: a return whose two comments name two reasons counts under both. Examples come from the
    /// newest commented returns of the period. Where words and pick disagree, the reason list (or a product page) is not
    /// saying what shoppers mean.
    /// </summary>
    public static async Task<IResult> Comments(HttpContext http, RetourDb db, AnalyticsQueries queries, MerchantDirectory merchants, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var (f, shop, error) = await ParseAsync(http, db, merchants, clock, errors, ct);
        if (error is not null) return error;
        if (f!.Active.Any(a => a.Filter != Rollup.Category))
            return Problems.Validation("category", "Comments are read over a period and, at most, a category.");
        var cells = await queries.ByKeyAsync(f, Rollup.Said, ct);
        var pairs = cells.ByKey.Where(kv => kv.Value.Returns > 0 && kv.Key.Contains('>'))
            .Select(kv => (Picked: kv.Key[..kv.Key.IndexOf('>')], Said: kv.Key[(kv.Key.IndexOf('>') + 1)..], N: kv.Value.Returns)).ToList();

        // Examples: the clearest disagreement per picked reason among the newest commented returns of the period.
        var (start, end) = shop.Instants(f);
        var category = f.Category;
        var recent = db.Returns.AsNoTracking().Where(r => r.CreatedAt >= start && r.CreatedAt < end).OrderByDescending(r => r.CreatedAt).Take(400).Select(r => r.Id);
        var classifier = ReasonClassifier.Default;
        var examples = (await db.ReturnLines.AsNoTracking()
                .Where(l => recent.Contains(l.ReturnId) && l.Comment != null && l.Comment != "" && (category == null || l.Category == category))
                .Join(db.Returns.AsNoTracking(), l => l.ReturnId, r => r.Id, (l, r) => new { l.Reason, l.Comment, r.CreatedAt })
                .OrderByDescending(x => x.CreatedAt).Take(200).ToListAsync(ct))
            .Select(l => (Picked: Codes.Of(l.Reason), Text: l.Comment!, Said: classifier.Classify(l.Comment!)))
            .Where(x => x.Said.Reason != x.Picked)
            .GroupBy(x => x.Picked).ToDictionary(g => g.Key, g => g.MaxBy(x => x.Said.Confidence));

        var rows = pairs.GroupBy(p => p.Picked).Select(g =>
        {
            var n = g.Sum(p => p.N);
            var said = g.Select(p => new ClassifiedShare(p.Said, p.N, Math.Round((double)p.N / n, 4)))
                .OrderByDescending(s => s.Comments).ThenBy(s => s.Reason, StringComparer.Ordinal).ToList();
            var example = examples.GetValueOrDefault(g.Key);
            return new CommentRow(g.Key, n, Math.Round((double)g.Where(p => p.Said == g.Key).Sum(p => p.N) / n, 4), said,
                example.Text is null ? null : example.Text.Length > 160 ? example.Text[..157] + "…" : example.Text, example.Text is null ? null : example.Said.Reason);
        }).OrderBy(r => r.Agreement).ThenByDescending(r => r.Comments).ThenBy(r => r.Picked, StringComparer.Ordinal).ToList();
        if (CsvExport.Wanted(http))
            return CsvExport.Result("comments.csv", ["picked", "comments", "agreement", "classified", "example", "example_reason"],
                rows.Select(r => new object?[] { r.Picked, r.Comments, r.Agreement, string.Join(' ', r.Classified.Select(c => $"{c.Reason}:{c.Comments}")), r.Example, r.ExampleReason }));
        return TypedResults.Ok(new { comments = rows.Sum(r => r.Comments), source = cells.Source, rows });
    }
}
