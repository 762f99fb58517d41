using System.Globalization;
using System.Text.Json;
using CsvHelper;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Analytics;
using Retour.Core.Money;
using Retour.Core.Policies;
using Retour.Features.Policies;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Analytics;

/// <summary>
/// /api/v1/analytics/…: summary, breakdown, trend, funnel, insights, classify and what-if. Every table answers CSV with
/// <c>?format=csv</c> or <c>Accept: text/csv</c>. Periods are the merchant's local days, <c>from</c> and <c>to</c> inclusive
/// (default: the last 90 days).
/// </summary>
public static class AnalyticsEndpoints
{
    public const int MaxWhatIfMonths = 36;

    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("/analytics").WithTags("Analytics").RequireScope(Scopes.AnalyticsRead);
        const string filters = "Filters: from, to (YYYY-MM-DD, inclusive; default the last 90 days), category, region (DE or US-CA), carrier, warehouse. ";
        g.MapGet("/summary", Summary).WithName("AnalyticsSummary").WithSummary("Return rates, money and cycle time over a period")
            .WithDescription(filters + "CSV with ?format=csv.");
        g.MapGet("/breakdown", Breakdown).WithName("AnalyticsBreakdown").WithSummary("Returns per reason, category, SKU, product, supplier, region, country, carrier, warehouse, segment or resolution")
            .WithDescription(filters + "dimension (required), sort (returns|units|value|rate|refund_total), limit (default 50, at most 1000), offset. CSV with ?format=csv (every row).");
        g.MapGet("/trend", Trend).WithName("AnalyticsTrend").WithSummary("Returns, units sold and money per day, week or month")
            .WithDescription(filters + "interval: day, week (ISO, from Monday) or month; default: day up to 62 days, week up to a year, otherwise month.");
        g.MapGet("/funnel", Funnel).WithName("AnalyticsFunnel").WithSummary("How far returns get, and the time in each stage (p50, p90)")
            .WithDescription(filters + "Times are estimated from hour buckets (1, 2, 4, 8, 12, 24, 36, 48, 72, 96, 120, 168 … hours), interpolated inside the bucket.");
        g.MapPost("/classify", Classify).WithName("AnalyticsClassify").WithSummary("Name the reason code of a shopper's own words (en, ar, es, ru, de, ko)");
        g.MapPost("/what-if", WhatIfRun).WithName("AnalyticsWhatIf").WithSummary("Replay past returns under a draft policy")
            .WithDescription("Body: the PUT /api/v1/policy body ({\"policy\": {…}}) plus \"months\" (1–36, default 12). Answers the current and simulated refund_total, fees_total, returns and auto_approval_rate.");
        AnalyticsInsights.Map(g);
    }

    private static IResult? Invalid(List<FieldError> errors) => errors.Count > 0 ? Problems.Validation(errors) : null;

    /// <summary>The shop's local day (periods default to it) and its currency, from the cached merchant.</summary>
    internal sealed record Shop(DateOnly Today, string Currency, TimeZoneInfo Zone)
    {
        /// <summary>A period of local days as instants: from the start of the first to the start of the day after the last.</summary>
        public (DateTimeOffset Start, DateTimeOffset End) Instants(AnalyticsFilter f) =>
            (Returnability.StartOfDay(f.From, Zone), Returnability.StartOfDay(f.To.AddDays(1), Zone));
    }

    internal static async Task<Shop> ShopAsync(MerchantDirectory merchants, RetourDb db, TimeProvider clock, CancellationToken ct)
    {
        var m = await merchants.GetAsync(db.Tenant.MerchantId, ct);
        var zone = m?.Zone ?? TimeZoneInfo.Utc;
        return new Shop(Returnability.LocalDate(clock.GetUtcNow(), zone), m?.Currency ?? "EUR", zone);
    }

    /// <summary>Hour-bucket counts of one wait (a stage of <see cref="Stages.Waits"/>) from stage_hours cells, and the hours summed.</summary>
    internal static (long[] Counts, double Hours) Histogram(Dictionary<string, Sums> stageHours, string stage)
    {
        var counts = new long[Stages.BucketBounds.Length];
        double hours = 0;
        foreach (var (key, s) in stageHours)
        {
            var colon = key.LastIndexOf(':');
            if (colon < 0 || key[..colon] != stage || !int.TryParse(key[(colon + 1)..], out var b) || b < 0 || b >= counts.Length) continue;
            counts[b] += s.Returns;
            hours += s.CycleHours;
        }
        return (counts, hours);
    }

    internal static string Money(long v, string currency) => Currencies.Format(Currencies.Round(AnalyticsRollup.Money(v), currency), currency);

    private static object FilterEcho(AnalyticsFilter f) => new
    {
        from = f.From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), to = f.To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        category = f.Category, region = f.Region, carrier = f.Carrier, warehouse = f.Warehouse,
    };

    public sealed record SummaryDto(
        string From, string To, string Currency, string Source, long Returns, long Units, long SoldUnits, long Orders, string Value, string SoldValue,
        double? ReturnRateUnits, double? ReturnRateValue, string RefundTotal, string FeesTotal, double? StoreCreditShare, double? ExchangeShare,
        double? AvgCycleHours, string RecoveredValue, double? AutoApprovalRate, long UsedUnits, object Filters);

    private static SummaryDto ToSummary(AnalyticsFilter f, Sums s, string currency, string source) => new(
        f.From.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), f.To.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), currency, source,
        s.Returns, s.Units, s.SoldUnits, s.Orders, Money(s.Value, currency), Money(s.SoldValue, currency),
        f.HasSales ? Sums.Ratio(s.Units, s.SoldUnits) : null, f.HasSales ? Sums.Ratio(s.Value, s.SoldValue) : null,
        Money(s.RefundTotal, currency), Money(s.FeesTotal, currency), Sums.Ratio(s.StoreCredit, s.Returns), Sums.Ratio(s.Exchanges, s.Returns),
        s.CycleCount == 0 ? null : Math.Round(s.CycleHours / s.CycleCount, 1), Money(s.RecoveredValue, currency),
        Sums.Ratio(s.AutoApproved, s.Returns), s.UsedUnits, FilterEcho(f));

    public static async Task<IResult> Summary(HttpContext http, RetourDb db, AnalyticsQueries queries, MerchantDirectory merchants, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var shop = await ShopAsync(merchants, db, clock, ct);
        var f = AnalyticsFilter.Parse(http.Request.Query, shop.Today, errors);
        if (Invalid(errors) is { } bad) return bad;
        var currency = shop.Currency;
        var cells = await queries.ByKeyAsync(f!, Rollup.All, ct);
        var dto = ToSummary(f!, cells.ByKey.GetValueOrDefault(Rollup.All) ?? Sums.Zero, currency, cells.Source);
        if (CsvExport.Wanted(http))
            return CsvExport.Result("summary.csv",
                ["from", "to", "currency", "returns", "units", "sold_units", "return_rate_units", "return_rate_value", "refund_total", "fees_total",
                 "store_credit_share", "exchange_share", "avg_cycle_hours", "recovered_value", "auto_approval_rate"],
                [[dto.From, dto.To, dto.Currency, dto.Returns, dto.Units, dto.SoldUnits, dto.ReturnRateUnits, dto.ReturnRateValue, dto.RefundTotal,
                  dto.FeesTotal, dto.StoreCreditShare, dto.ExchangeShare, dto.AvgCycleHours, dto.RecoveredValue, dto.AutoApprovalRate]]);
        return TypedResults.Ok(dto);
    }

    public sealed record BreakdownRow(
        string Key, long Returns, long Units, string Value, double? Rate, string RateBasis, double? Share, long SoldUnits, string RefundTotal,
        string FeesTotal, double? AvgCycleHours, long SmallUnits, long LargeUnits, long QualityUnits, long UsedUnits);

    /// <summary>Dimensions whose keys have sales, so a rate is returned units over sold units; the rest are shares of returned units.</summary>
    private static bool HasSalesDenominator(string dim) => dim is Rollup.Category or Rollup.Sku or Rollup.Product or Rollup.Country or Rollup.Region or Rollup.Segment;

    public static async Task<IResult> Breakdown(HttpContext http, RetourDb db, AnalyticsQueries queries, MerchantDirectory merchants, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var q = http.Request.Query;
        var dim = q["dimension"].ToString();
        if (dim.Length == 0) errors.Add(new("dimension", $"Which dimension? One of {string.Join(", ", Rollup.Dimensions)}."));
        else if (!Rollup.Dimensions.Contains(dim)) errors.Add(new("dimension", $"'{dim}' is not a dimension. Use one of {string.Join(", ", Rollup.Dimensions)}."));
        var sort = q["sort"].ToString() is { Length: > 0 } s ? s : "returns";
        if (sort is not ("returns" or "units" or "value" or "rate" or "refund_total" or "key"))
            errors.Add(new("sort", "Sort by returns, units, value, rate, refund_total or key."));
        var limit = 50;
        if (q["limit"].ToString() is { Length: > 0 } ls && (!int.TryParse(ls, out limit) || limit < 1 || limit > 1000))
            errors.Add(new("limit", "The limit must be a whole number between 1 and 1000."));
        var offset = 0;
        if (q["offset"].ToString() is { Length: > 0 } os && (!int.TryParse(os, out offset) || offset < 0))
            errors.Add(new("offset", "The offset must be a whole number, 0 or more."));
        var shop = await ShopAsync(merchants, db, clock, ct);
        var parsed = AnalyticsFilter.Parse(q, shop.Today, errors);
        if (errors.Count > 0 || parsed is not { } f) return Problems.Validation(errors);
        if (Rollup.IsFineGrained(dim) && f.Active.FirstOrDefault(a => a.Filter != Rollup.Category) is { Filter: { } other })
            return Problems.Validation("dimension", $"Per-{dim} figures are kept without a filter or under a category filter only; remove the {other} filter.");
        var currency = shop.Currency;
        var cells = await queries.ByKeyAsync(f, dim, ct);
        var withSales = HasSalesDenominator(dim) && f.HasSales;
        var totalUnits = cells.ByKey.Values.Sum(x => x.Units);
        var rows = cells.ByKey.Where(kv => kv.Value.Returns > 0 || kv.Value.SoldUnits > 0)
            .Select(kv => new BreakdownRow(kv.Key, kv.Value.Returns, kv.Value.Units, Money(kv.Value.Value, currency),
                withSales ? Sums.Ratio(kv.Value.Units, kv.Value.SoldUnits) : Sums.Ratio(kv.Value.Units, totalUnits),
                withSales ? "sold_units" : "returned_units", Sums.Ratio(kv.Value.Units, totalUnits), kv.Value.SoldUnits,
                Money(kv.Value.RefundTotal, currency), Money(kv.Value.FeesTotal, currency),
                kv.Value.CycleCount == 0 ? null : Math.Round(kv.Value.CycleHours / kv.Value.CycleCount, 1),
                kv.Value.SmallUnits, kv.Value.LargeUnits, kv.Value.QualityUnits, kv.Value.UsedUnits))
            .ToList();
        var money = cells.ByKey.ToDictionary(kv => kv.Key, kv => kv.Value);
        IOrderedEnumerable<BreakdownRow> ordered = sort switch
        {
            "units" => rows.OrderByDescending(r => r.Units),
            "value" => rows.OrderByDescending(r => money[r.Key].Value),
            "rate" => rows.OrderByDescending(r => r.Rate ?? -1),
            "refund_total" => rows.OrderByDescending(r => money[r.Key].RefundTotal),
            "key" => rows.OrderBy(r => r.Key, StringComparer.Ordinal),
            _ => rows.OrderByDescending(r => r.Returns),
        };
        var sorted = ordered.ThenBy(r => r.Key, StringComparer.Ordinal).ToList();
        if (CsvExport.Wanted(http))
            return CsvExport.Result($"breakdown-{dim}.csv",
                ["key", "returns", "units", "value", "rate", "rate_basis", "share", "sold_units", "refund_total", "fees_total", "avg_cycle_hours",
                 "small_units", "large_units", "quality_units", "used_units"],
                sorted.Select(r => new object?[] { r.Key, r.Returns, r.Units, r.Value, r.Rate, r.RateBasis, r.Share, r.SoldUnits, r.RefundTotal, r.FeesTotal,
                    r.AvgCycleHours, r.SmallUnits, r.LargeUnits, r.QualityUnits, r.UsedUnits }));
        var page = sorted.Skip(offset).Take(limit).ToList();
        return TypedResults.Ok(new
        {
            dimension = dim, currency, source = cells.Source, filters = FilterEcho(f), total_rows = sorted.Count, offset, limit,
            has_more = offset + page.Count < sorted.Count, rows = page,
        });
    }

    public sealed record TrendPoint(string Period, long Returns, long Units, long SoldUnits, double? ReturnRateUnits, string RefundTotal, string FeesTotal, double? AvgCycleHours);

    public static async Task<IResult> Trend(HttpContext http, RetourDb db, AnalyticsQueries queries, MerchantDirectory merchants, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var shop = await ShopAsync(merchants, db, clock, ct);
        var f = AnalyticsFilter.Parse(http.Request.Query, shop.Today, errors);
        var interval = http.Request.Query["interval"].ToString();
        if (interval.Length > 0 && interval is not ("day" or "week" or "month")) errors.Add(new("interval", "Use day, week or month."));
        if (Invalid(errors) is { } bad) return bad;
        if (interval.Length == 0) interval = f!.Days <= 62 ? "day" : f.Days <= 366 ? "week" : "month";
        if (interval == "day" && f!.Days > 731) return Problems.Validation("interval", "Daily points cover at most two years; choose week or month.");
        var currency = shop.Currency;
        var (byDay, source) = await queries.ByDayAsync(f!, ct);
        DateOnly Bucket(DateOnly d) => interval switch
        {
            "week" => d.AddDays(-(((int)d.DayOfWeek + 6) % 7)),
            "month" => new DateOnly(d.Year, d.Month, 1),
            _ => d,
        };
        var points = new SortedDictionary<DateOnly, Sums>();
        for (var d = f!.From; d <= f.To; d = d.AddDays(1)) points.TryAdd(Bucket(d), Sums.Zero);
        foreach (var (day, s) in byDay) points[Bucket(day)] = points.GetValueOrDefault(Bucket(day), Sums.Zero).Plus(s);
        var list = points.Select(p => new TrendPoint(p.Key.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), p.Value.Returns, p.Value.Units, p.Value.SoldUnits,
            f.HasSales ? Sums.Ratio(p.Value.Units, p.Value.SoldUnits) : null, Money(p.Value.RefundTotal, currency), Money(p.Value.FeesTotal, currency),
            p.Value.CycleCount == 0 ? null : Math.Round(p.Value.CycleHours / p.Value.CycleCount, 1))).ToList();
        if (CsvExport.Wanted(http))
            return CsvExport.Result("trend.csv", ["period", "returns", "units", "sold_units", "return_rate_units", "refund_total", "fees_total", "avg_cycle_hours"],
                list.Select(p => new object?[] { p.Period, p.Returns, p.Units, p.SoldUnits, p.ReturnRateUnits, p.RefundTotal, p.FeesTotal, p.AvgCycleHours }));
        return TypedResults.Ok(new { interval, currency, source, filters = FilterEcho(f), points = list });
    }

    public sealed record FunnelStage(string Stage, long Returns, double? ShareOfRequested);
    public sealed record StageTime(string Stage, string From, string To, long Returns, double? P50Hours, double? P90Hours, double? AvgHours);

    public static async Task<IResult> Funnel(HttpContext http, RetourDb db, AnalyticsQueries queries, MerchantDirectory merchants, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var f = AnalyticsFilter.Parse(http.Request.Query, (await ShopAsync(merchants, db, clock, ct)).Today, errors);
        if (Invalid(errors) is { } bad) return bad;
        var reached = await queries.ByKeyAsync(f!, Rollup.Stage, ct);
        var timed = await queries.ByKeyAsync(f!, Rollup.StageHours, ct);
        var requested = reached.ByKey.GetValueOrDefault(Stages.Requested)?.Returns ?? 0;
        var stages = Stages.Funnel.Select(s => new FunnelStage(s, reached.ByKey.GetValueOrDefault(s)?.Returns ?? 0,
            Sums.Ratio(reached.ByKey.GetValueOrDefault(s)?.Returns ?? 0, requested))).ToList();
        var times = Stages.Waits.Select(w =>
        {
            var (counts, hours) = Histogram(timed.ByKey, w.Name);
            var n = counts.Sum();
            return new StageTime(w.Name, w.From, w.To, n, Round(Stages.Percentile(counts, 0.5)), Round(Stages.Percentile(counts, 0.9)), n == 0 ? null : Math.Round(hours / n, 1));
        }).ToList();
        if (CsvExport.Wanted(http))
            return CsvExport.Result("funnel.csv", ["stage", "returns", "share_of_requested", "wait", "p50_hours", "p90_hours", "avg_hours"],
                stages.Select((s, i) => new object?[] { s.Stage, s.Returns, s.ShareOfRequested, i < times.Count ? times[i].Stage : null,
                    i < times.Count ? times[i].P50Hours : null, i < times.Count ? times[i].P90Hours : null, i < times.Count ? times[i].AvgHours : null }));
        return TypedResults.Ok(new { source = reached.Source, filters = FilterEcho(f!), stages, times });
    }

    private static double? Round(double? v) => v is { } x ? Math.Round(x, 1) : null;

    public sealed record ClassifyInput(string? Text);

    public static IResult Classify(ClassifyInput? input)
    {
        if (string.IsNullOrWhiteSpace(input?.Text)) return Problems.Validation("text", "Send the shopper's words under \"text\".");
        if (input.Text.Length > 2000) return Problems.Validation("text", "At most 2,000 characters.");
        var c = ReasonClassifier.Default.Classify(input.Text);
        return TypedResults.Ok(new
        {
            reason = c.Reason, confidence = c.Confidence, language = c.Language,
            alternatives = c.Alternatives.Select(a => new { reason = a.Reason, confidence = a.Probability }),
        });
    }

    public sealed record WhatIfInput(
        ReturnPolicy? Policy, int? Months = null, string? ApplyTo = null,
        int? Version = null, string? AppliesTo = null, DateTimeOffset? EffectiveFrom = null, DateTimeOffset? CreatedAt = null, string? CreatedBy = null);

    public static async Task<IResult> WhatIfRun(HttpContext http, RetourDb db, PolicyBook book, MerchantDirectory merchants, TimeProvider clock, CancellationToken ct)
    {
        WhatIfInput? input;
        try { input = await JsonSerializer.DeserializeAsync<WhatIfInput>(http.Request.Body, PolicyBook.StrictJson, ct); }
        catch (JsonException e) { return Problems.Validation(e.Path is { Length: > 2 } path ? path[2..] : "body", "This is not valid here: " + e.Message.Split('.')[0] + "."); }
        var errors = new List<FieldError>();
        if (input?.Policy is null) errors.Add(new("policy", "Send the draft policy under \"policy\", as for PUT /api/v1/policy."));
        else errors.AddRange(PolicyValidator.Validate(input.Policy).Select(e => e with { Field = "policy." + e.Field }));
        var months = input?.Months ?? 12;
        if (months is < 1 or > MaxWhatIfMonths) errors.Add(new("months", $"Replay between 1 and {MaxWhatIfMonths} months."));
        if (Invalid(errors) is { } bad) return bad;
        var current = await book.CurrentAsync(db, ct);
        if (current is null) return Problems.NotFound("This merchant has no policy yet.");
        var (today, currency, _) = await ShopAsync(merchants, db, clock, ct);
        var from = today.AddMonths(-months).DayNumber;
        var acc = new WhatIf.Accumulator(current.Value.Policy, input!.Policy!, currency);
        await foreach (var json in db.AnalyticsFacts.AsNoTracking().Where(x => x.Kind == "return" && x.Day >= from).Select(x => x.Json).AsAsyncEnumerable().WithCancellation(ct))
            acc.Add(FactJson.ReadReturn(json));
        var r = acc.Result();
        object Totals(WhatIfTotals t) => new
        {
            returns = t.Returns, units = t.Units, refund_total = Currencies.Format(t.RefundTotal, currency), fees_total = Currencies.Format(t.FeesTotal, currency),
            auto_approval_rate = t.AutoApprovalRate, keep_it_returns = t.KeepItReturns,
        };
        return TypedResults.Ok(new
        {
            months, currency, from = DateOnly.FromDayNumber(from).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), replayed = r.Replayed,
            current_version = current.Value.Row.Version,
            current = Totals(r.Current), simulated = Totals(r.Simulated),
            change = new
            {
                returns = r.Simulated.Returns - r.Current.Returns,
                refund_total = Currencies.Format(r.Simulated.RefundTotal - r.Current.RefundTotal, currency),
                fees_total = Currencies.Format(r.Simulated.FeesTotal - r.Current.FeesTotal, currency),
                auto_approval_rate = Math.Round(r.Simulated.AutoApprovalRate - r.Current.AutoApprovalRate, 4),
            },
            notes = r.Notes,
        });
    }
}

/// <summary>CSV answers of the analytics tables, written with CsvHelper (RFC 4180 quoting, invariant numbers).</summary>
public static class CsvExport
{
    public static bool Wanted(HttpContext http) =>
        string.Equals(http.Request.Query["format"], "csv", StringComparison.OrdinalIgnoreCase)
        || http.Request.Headers.Accept.Any(a => a?.Contains("text/csv", StringComparison.OrdinalIgnoreCase) == true);

    public static IResult Result(string fileName, IReadOnlyList<string> header, IEnumerable<object?[]> rows)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = new CsvWriter(text, CultureInfo.InvariantCulture))
        {
            foreach (var h in header) csv.WriteField(h);
            csv.NextRecord();
            foreach (var row in rows)
            {
                foreach (var v in row) csv.WriteField(v switch { null => "", double d => d.ToString("0.####", CultureInfo.InvariantCulture), _ => Convert.ToString(v, CultureInfo.InvariantCulture) });
                csv.NextRecord();
            }
        }
        return Results.File(System.Text.Encoding.UTF8.GetBytes(text.ToString()), "text/csv; charset=utf-8", fileName);
    }
}
