using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Analytics;
using Retour.Infrastructure.Db;

namespace Retour.Features.Analytics;

/// <summary>
/// What a dashboard asks: a period (merchant-local days, inclusive) and at most one value per filter. Region is a
/// country (DE) or a country and state (US-CA).
/// </summary>
public sealed record AnalyticsFilter(DateOnly From, DateOnly To, string? Category, string? Region, string? Carrier, string? Warehouse)
{
    public IReadOnlyList<(string Filter, string Value)> Active =>
    [
        .. new (string, string?)[]
        {
            (Rollup.Category, Category), (Region is { } r && r.Contains('-') ? Rollup.Region : Rollup.Country, Region?.ToUpperInvariant()),
            (Rollup.Carrier, Carrier), (Rollup.Warehouse, Warehouse),
        }.Where(f => !string.IsNullOrEmpty(f.Item2)).Select(f => (f.Item1, f.Item2!)),
    ];

    /// <summary>Sales are not carried or stored anywhere, so a carrier or warehouse filter leaves rates without a denominator.</summary>
    public bool HasSales => Carrier is null && Warehouse is null;

    public int Days => To.DayNumber - From.DayNumber + 1;

    public static AnalyticsFilter? Parse(IQueryCollection q, DateOnly today, List<FieldError> errors, int defaultDays = 90)
    {
        DateOnly? Day(string name)
        {
            var s = q[name].ToString();
            if (string.IsNullOrEmpty(s)) return null;
            DateOnly? d = DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day
                : DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? DateOnly.FromDateTime(t.UtcDateTime) : null;
            if (d is null) errors.Add(new FieldError(name, $"'{s}' is not a date; use YYYY-MM-DD."));
            else if (d.Value.Year is < 2000 or > 2100) { errors.Add(new FieldError(name, "Use a date between 2000-01-01 and 2100-12-31.")); d = null; }
            return d;
        }
        var to = Day("to") ?? today;
        var from = Day("from") ?? (to.Year > 2000 ? to.AddDays(-(defaultDays - 1)) : to);
        if (from > to) errors.Add(new FieldError("from", "The period starts after it ends: 'from' must be on or before 'to'."));
        if (to.DayNumber - from.DayNumber > 3660) errors.Add(new FieldError("from", "The period may span at most ten years."));
        string? Text(string name)
        {
            var s = q[name].ToString().Trim();
            if (s.Length == 0) return null;
            if (s.Length > 100) errors.Add(new FieldError(name, "At most 100 characters."));
            return s;
        }
        var filter = new AnalyticsFilter(from, to, Text("category"), Text("region"), Text("carrier"), Text("warehouse"));
        return errors.Count == 0 ? filter : null;
    }
}

/// <summary>Summed measures of some cells, with the derived figures every answer shows.</summary>
public sealed record Sums(
    long Returns, long Units, long Value, long RefundTotal, long FeesTotal, long RecoveredValue, long StoreCredit, long Exchanges,
    long AutoApproved, long CycleCount, double CycleHours, long SmallUnits, long LargeUnits, long QualityUnits, long UsedUnits,
    long Orders, long SoldUnits, long SoldValue)
{
    public static readonly Sums Zero = new(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    public static Sums Of(in Measures m) => new(m.Returns, m.Units, AnalyticsRollup.Money(m.Value), AnalyticsRollup.Money(m.RefundTotal),
        AnalyticsRollup.Money(m.FeesTotal), AnalyticsRollup.Money(m.RecoveredValue), m.StoreCredit, m.Exchanges, m.AutoApproved, m.CycleCount,
        m.CycleHours, m.SmallUnits, m.LargeUnits, m.QualityUnits, m.UsedUnits, m.Orders, m.SoldUnits, AnalyticsRollup.Money(m.SoldValue));

    public Sums Plus(Sums o) => new(Returns + o.Returns, Units + o.Units, Value + o.Value, RefundTotal + o.RefundTotal, FeesTotal + o.FeesTotal,
        RecoveredValue + o.RecoveredValue, StoreCredit + o.StoreCredit, Exchanges + o.Exchanges, AutoApproved + o.AutoApproved,
        CycleCount + o.CycleCount, CycleHours + o.CycleHours, SmallUnits + o.SmallUnits, LargeUnits + o.LargeUnits, QualityUnits + o.QualityUnits,
        UsedUnits + o.UsedUnits, Orders + o.Orders, SoldUnits + o.SoldUnits, SoldValue + o.SoldValue);

    public static double? Ratio(long part, long whole) => whole == 0 ? null : Math.Round((double)part / whole, 4);
}

/// <summary>
/// Reads the rollups. With no filter or one filter, every answer is a range scan over pre-summed cells (the primary key
/// is merchant, scope, dimension, day, key). With several filters at once there are no pre-summed cells; the answer is
/// then summed from the stored facts of the period (slower; <c>source</c> says which).
/// </summary>
public sealed class AnalyticsQueries(RetourDb db)
{
    public const string SourceRollup = "rollup", SourceFacts = "facts";

    public sealed record Cells(Dictionary<string, Sums> ByKey, string Source);

    /// <summary>Sums per key of one dimension over the period, or per day (dimension <c>all</c>, grouped by day) for trends.</summary>
    public async Task<Cells> ByKeyAsync(AnalyticsFilter f, string dim, CancellationToken ct)
    {
        var active = f.Active;
        if (active.Count <= 1)
        {
            var scope = active.Count == 0 ? "" : Rollup.Scope(active[0].Filter, active[0].Value);
            int from = f.From.DayNumber, to = f.To.DayNumber;
            var rows = await db.AnalyticsRollups.AsNoTracking()
                .Where(r => r.Scope == scope && r.Dim == dim && r.Day >= from && r.Day <= to)
                .GroupBy(r => r.Key)
                .Select(g => new
                {
                    g.Key,
                    S = new Sums(g.Sum(x => x.Returns), g.Sum(x => x.Units), g.Sum(x => x.Value), g.Sum(x => x.RefundTotal), g.Sum(x => x.FeesTotal),
                        g.Sum(x => x.RecoveredValue), g.Sum(x => x.StoreCredit), g.Sum(x => x.Exchanges), g.Sum(x => x.AutoApproved),
                        g.Sum(x => x.CycleCount), g.Sum(x => x.CycleHours), g.Sum(x => x.SmallUnits), g.Sum(x => x.LargeUnits),
                        g.Sum(x => x.QualityUnits), g.Sum(x => x.UsedUnits), g.Sum(x => x.Orders), g.Sum(x => x.SoldUnits), g.Sum(x => x.SoldValue)),
                })
                .ToListAsync(ct);
            return new Cells(rows.ToDictionary(r => r.Key, r => r.S), SourceRollup);
        }
        var (cube, scopeKey) = await FromFactsAsync(f, ct);
        return new Cells(cube.Cells.Where(c => c.Key.Scope == scopeKey && c.Key.Dim == dim)
            .GroupBy(c => c.Key.Key).ToDictionary(g => g.Key, g => g.Aggregate(Sums.Zero, (s, c) => s.Plus(Sums.Of(c.Value)))), SourceFacts);
    }

    /// <summary>
    /// Hour-bucket histograms (returns, cycle count and hours per key; the other measures stay zero) of one dimension
    /// under each of several scopes, for example every carrier's own stage times, in one query: only for a period with
    /// no other filter.
    /// </summary>
    public async Task<Dictionary<string, Dictionary<string, Sums>>> HistogramsByScopeAsync(AnalyticsFilter f, IReadOnlyList<string> scopes, string dim, CancellationToken ct)
    {
        int from = f.From.DayNumber, to = f.To.DayNumber;
        var list = scopes.ToList();
        var rows = await db.AnalyticsRollups.AsNoTracking()
            .Where(r => list.Contains(r.Scope) && r.Dim == dim && r.Day >= from && r.Day <= to)
            .GroupBy(r => new { r.Scope, r.Key })
            .Select(g => new { g.Key.Scope, g.Key.Key, Returns = g.Sum(x => x.Returns), CycleCount = g.Sum(x => x.CycleCount), CycleHours = g.Sum(x => x.CycleHours) })
            .ToListAsync(ct);
        return rows.GroupBy(r => r.Scope).ToDictionary(g => g.Key, g => g.ToDictionary(r => r.Key,
            r => Sums.Zero with { Returns = r.Returns, CycleCount = r.CycleCount, CycleHours = r.CycleHours }));
    }

    /// <summary>Sums per day of the whole (dimension <c>all</c>) for trends.</summary>
    public async Task<(Dictionary<DateOnly, Sums> ByDay, string Source)> ByDayAsync(AnalyticsFilter f, CancellationToken ct)
    {
        var active = f.Active;
        if (active.Count <= 1)
        {
            var scope = active.Count == 0 ? "" : Rollup.Scope(active[0].Filter, active[0].Value);
            int from = f.From.DayNumber, to = f.To.DayNumber;
            var rows = await db.AnalyticsRollups.AsNoTracking()
                .Where(r => r.Scope == scope && r.Dim == Rollup.All && r.Day >= from && r.Day <= to)
                .ToListAsync(ct);
            return (rows.ToDictionary(r => DateOnly.FromDayNumber(r.Day), ToSums), SourceRollup);
        }
        var (cube, scopeKey) = await FromFactsAsync(f, ct);
        return (cube.Cells.Where(c => c.Key.Scope == scopeKey && c.Key.Dim == Rollup.All).ToDictionary(c => c.Key.Day, c => Sums.Of(c.Value)), SourceFacts);
    }

    private static Sums ToSums(AnalyticsRollup r) => new(r.Returns, r.Units, r.Value, r.RefundTotal, r.FeesTotal, r.RecoveredValue, r.StoreCredit,
        r.Exchanges, r.AutoApproved, r.CycleCount, r.CycleHours, r.SmallUnits, r.LargeUnits, r.QualityUnits, r.UsedUnits, r.Orders, r.SoldUnits, r.SoldValue);

    /// <summary>
    /// Several filters: the facts of the period that match every filter, counted into a cube; the answer is its cells under
    /// the category filter's scope when there is one (only that category's lines count there), otherwise its unfiltered cells.
    /// </summary>
    private async Task<(RollupCube Cube, string Scope)> FromFactsAsync(AnalyticsFilter f, CancellationToken ct)
    {
        var cube = new RollupCube();
        var others = f.Active.Where(a => a.Filter != Rollup.Category).ToList();
        var scope = f.Category is { } c ? Rollup.Scope(Rollup.Category, c) : "";
        int from = f.From.DayNumber, to = f.To.DayNumber;
        await foreach (var row in db.AnalyticsFacts.AsNoTracking().Where(x => x.Day >= from && x.Day <= to).Select(x => new { x.Kind, x.Json }).AsAsyncEnumerable().WithCancellation(ct))
        {
            if (row.Kind == "return")
            {
                var fact = FactJson.ReadReturn(row.Json);
                if (others.All(o => o.Filter switch
                    {
                        Rollup.Country => fact.Country == o.Value,
                        Rollup.Region => fact.Region == o.Value,
                        Rollup.Carrier => fact.Carrier == o.Value,
                        Rollup.Warehouse => fact.Warehouse == o.Value,
                        _ => true,
                    }))
                    Rollup.Contribute(fact, cube, 1);
            }
            else if (f.HasSales)
            {
                var fact = FactJson.ReadOrder(row.Json);
                if (others.All(o => o.Filter switch
                    {
                        Rollup.Country => fact.Country == o.Value,
                        Rollup.Region => fact.Region == o.Value,
                        _ => true,
                    }))
                    Rollup.Contribute(fact, cube, 1);
            }
        }
        return (cube, scope);
    }
}
