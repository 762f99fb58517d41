using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Analytics;
using Retour.Core.Money;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;
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
            .WithDescription("Returned units, quality complaints (defective, not as described, quality, damaged) and their share against all suppliers', recovered value. min_units (default 20).");
        analytics.MapGet("/insights/carriers", CarrierInsight).WithName("AnalyticsCarriers").WithSummary("Carriers compared: volume, time to ship, transit time, cycle time");
    }

    private static int MinUnits(HttpContext http, List<FieldError> errors)
    {
        var s = http.Request.Query["min_units"].ToString();
        if (s.Length == 0) return 20;
        if (!int.TryParse(s, out var n) || n < 1 || n > 1_000_000) errors.Add(new("min_units", "A whole number from 1 to 1,000,000."));
        return n;
    }

    private static async Task<(AnalyticsFilter? Filter, string Currency, IResult? Error)> ParseAsync(
        HttpContext http, RetourDb db, MerchantDirectory merchants, TimeProvider clock, List<FieldError> errors, CancellationToken ct)
    {
        var shop = await AnalyticsEndpoints.ShopAsync(merchants, db, clock, ct);
        var f = AnalyticsFilter.Parse(http.Request.Query, shop.Today, errors);
        return (f, shop.Currency, errors.Count > 0 ? Problems.Validation(errors) : null);
    }

    public sealed record SizingRow(string Key, string Category, long ReturnedUnits, long SoldUnits, double? ReturnRate, long SmallUnits, long LargeUnits,
        double SmallShare, double LargeShare, double CategorySmallShare, double CategoryLargeShare, double ZSmall, double ZLarge, string? Runs);

    public static async Task<IResult> SizingInsight(HttpContext http, RetourDb db, AnalyticsQueries queries, MerchantDirectory merchants, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var level = http.Request.Query["level"].ToString() is { Length: > 0 } l ? l : Rollup.Sku;
        if (level is not (Rollup.Sku or Rollup.Product)) errors.Add(new("level", "Use sku or product."));
        var min = MinUnits(http, errors);
        var (f, _, error) = await ParseAsync(http, db, merchants, clock, errors, ct);
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
        bool Flagged, string Value, string RecoveredValue, string RefundTotal);

    public static async Task<IResult> SupplierInsight(HttpContext http, RetourDb db, AnalyticsQueries queries, MerchantDirectory merchants, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var min = MinUnits(http, errors);
        var (f, currency, error) = await ParseAsync(http, db, merchants, clock, errors, ct);
        if (error is not null) return error;
        if (f!.Active.Any(a => a.Filter != Rollup.Category))
            return Problems.Validation("category", "Suppliers are compared over a period and, at most, a category.");
        var cells = await queries.ByKeyAsync(f, Rollup.Supplier, ct);
        var units = cells.ByKey.Values.Sum(s => s.Units);
        var baseline = units == 0 ? 0 : (double)cells.ByKey.Values.Sum(s => s.QualityUnits) / units;
        string Money(long v) => AnalyticsEndpoints.Money(v, currency);
        var rows = cells.ByKey.Where(kv => kv.Value.Units > 0).Select(kv =>
        {
            var share = (double)kv.Value.QualityUnits / kv.Value.Units;
            var z = baseline is <= 0 or >= 1 ? 0 : (share - baseline) / Math.Sqrt(baseline * (1 - baseline) / kv.Value.Units);
            return new SupplierRow(kv.Key, kv.Value.Returns, kv.Value.Units, kv.Value.QualityUnits, Math.Round(share, 4), Math.Round(baseline, 4), Math.Round(z, 2),
                kv.Value.Units >= min && z >= Sizing.Significant, Money(kv.Value.Value), Money(kv.Value.RecoveredValue), Money(kv.Value.RefundTotal));
        }).OrderByDescending(r => r.Flagged).ThenByDescending(r => r.Z).ThenBy(r => r.Supplier, StringComparer.Ordinal).ToList();
        if (CsvExport.Wanted(http))
            return CsvExport.Result("suppliers.csv",
                ["supplier", "returns", "returned_units", "quality_units", "quality_share", "baseline", "z", "flagged", "value", "recovered_value", "refund_total"],
                rows.Select(r => new object?[] { r.Supplier, r.Returns, r.ReturnedUnits, r.QualityUnits, r.QualityShare, r.Baseline, r.Z, r.Flagged, r.Value, r.RecoveredValue, r.RefundTotal }));
        return TypedResults.Ok(new { currency, min_units = min, source = cells.Source, baseline_quality_share = Math.Round(baseline, 4), rows });
    }

    public sealed record CarrierRow(string Carrier, long Returns, double? Share, double? ShipP50Hours, double? TransitP50Hours, double? TransitP90Hours,
        double? AvgCycleHours, string RefundTotal);

    public static async Task<IResult> CarrierInsight(HttpContext http, RetourDb db, AnalyticsQueries queries, MerchantDirectory merchants, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var (f, currency, error) = await ParseAsync(http, db, merchants, clock, errors, ct);
        if (error is not null) return error;
        if (f!.Carrier is not null) return Problems.Validation("carrier", "This compares carriers: leave the carrier filter out.");
        var cells = await queries.ByKeyAsync(f, Rollup.Carrier, ct);
        var total = cells.ByKey.Values.Sum(s => s.Returns);
        var rows = new List<CarrierRow>();
        foreach (var (carrier, s) in cells.ByKey.Where(kv => kv.Key != Rollup.None).OrderByDescending(kv => kv.Value.Returns))
        {
            // The carrier's own time-in-stage histograms: the cells under its filter.
            var timed = await queries.ByKeyAsync(f with { Carrier = carrier }, Rollup.StageHours, ct);
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
}
