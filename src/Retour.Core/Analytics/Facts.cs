using System.Runtime.InteropServices;

namespace Retour.Core.Analytics;

/// <summary>
/// One returned order line as analytics counts it. <see cref="Value"/> is the returned units' merchandise value (net of
/// discount, before tax), the same measure as a sale's value, so the two divide into a return rate by value.
/// </summary>
/// <param name="Said">The reason the shopper's own comment names (<see cref="ReasonClassifier"/>); null without a comment.</param>
public sealed record FactLine(string Sku, string Product, string Category, string Supplier, string Reason, int Units, decimal Value, int UsedUnits, decimal Tax = 0m,
    string? Said = null);

/// <summary>
/// What analytics knows about one return, derived from its current state (and its timeline). The rollups hold the sum of
/// every return's <see cref="Rollup.Contributions"/>; when a return changes, the rollups get new minus old, so
/// recomputing a fact any number of times leaves them right (delivery of the events that trigger it is at least once).
/// </summary>
public sealed record ReturnFact
{
    public DateOnly Day { get; init; }
    public string Status { get; init; } = "requested";
    public string Resolution { get; init; } = "refund";
    public string Method { get; init; } = "drop_off";
    public string Country { get; init; } = Rollup.Unknown;
    /// <summary>Country and state, such as US-CA; the country alone when the order has no state.</summary>
    public string Region { get; init; } = Rollup.Unknown;
    public string Carrier { get; init; } = Rollup.None;
    public string Warehouse { get; init; } = Rollup.None;
    /// <summary><c>new</c> (the order was the shopper's first) or <c>repeat</c>.</summary>
    public string Segment { get; init; } = "new";
    public bool AutoApproved { get; init; }
    public decimal RefundTotal { get; init; }
    public decimal FeesTotal { get; init; }
    public decimal RecoveredValue { get; init; }
    /// <summary>Hours from the request to the first refund, credit or exchange issued; null until then.</summary>
    public double? CycleHours { get; init; }
    /// <summary>Lifecycle stages reached, in order (see <see cref="Stages"/>).</summary>
    public IReadOnlyList<string> Reached { get; init; } = [Stages.Requested];
    /// <summary>Hours spent in each finished stage, by the stage's name (review, ship, transit, inspect, refund, close).</summary>
    public IReadOnlyDictionary<string, double> StageHours { get; init; } = new Dictionary<string, double>();
    public IReadOnlyList<FactLine> Lines { get; init; } = [];
    /// <summary>Days from delivery (or fulfilment) to the request; null when the order has neither. For the policy what-if.</summary>
    public int? DaysAfterDelivery { get; init; }
    /// <summary>The shopper's earlier orders, and how many of them saw a return, when this return was made.</summary>
    public int HistoryOrders { get; init; }
    public int HistoryWithReturns { get; init; }
}

/// <summary>A sold order line (the denominator of return rates).</summary>
public sealed record SaleLine(string Sku, string Product, string Category, int Units, decimal Value);

public sealed record OrderFact
{
    public DateOnly Day { get; init; }
    public string Country { get; init; } = Rollup.Unknown;
    public string Region { get; init; } = Rollup.Unknown;
    public string Segment { get; init; } = "new";
    public bool Cancelled { get; init; }
    public IReadOnlyList<SaleLine> Lines { get; init; } = [];
}

/// <summary>The funnel: stages a return reaches, and the time spent between them.</summary>
public static class Stages
{
    public const string Requested = "requested", Approved = "approved", Shipped = "shipped", Received = "received",
        Inspected = "inspected", Refunded = "refunded", Closed = "closed";

    public static readonly IReadOnlyList<string> Funnel = [Requested, Approved, Shipped, Received, Inspected, Refunded, Closed];

    /// <summary>Time in stage: the name of the wait between two funnel steps (review is requested → approved, and so on).</summary>
    public static readonly IReadOnlyList<(string Name, string From, string To)> Waits =
    [
        ("review", Requested, Approved), ("ship", Approved, Shipped), ("transit", Shipped, Received),
        ("inspect", Received, Inspected), ("refund", Inspected, Refunded), ("close", Refunded, Closed),
    ];

    /// <summary>Upper bounds (hours) of the histogram buckets that time-in-stage percentiles are estimated from.</summary>
    public static readonly double[] BucketBounds = [1, 2, 4, 8, 12, 24, 36, 48, 72, 96, 120, 168, 240, 336, 504, 720, 1440, double.PositiveInfinity];

    public static int Bucket(double hours)
    {
        for (var i = 0; i < BucketBounds.Length; i++) if (hours < BucketBounds[i]) return i;
        return BucketBounds.Length - 1;
    }

    /// <summary>
    /// The p-th percentile from bucket counts, interpolated linearly inside the bucket it falls in (the open last bucket
    /// answers its lower bound). Null when there are no observations.
    /// </summary>
    public static double? Percentile(IReadOnlyList<long> counts, double p)
    {
        var total = counts.Sum();
        if (total == 0) return null;
        var target = p * total;
        long seen = 0;
        for (var i = 0; i < counts.Count; i++)
        {
            if (counts[i] == 0) continue;
            if (seen + counts[i] >= target)
            {
                var lo = i == 0 ? 0 : BucketBounds[i - 1];
                var hi = BucketBounds[i];
                if (double.IsPositiveInfinity(hi)) return lo;
                return lo + (hi - lo) * Math.Clamp((target - seen) / counts[i], 0, 1);
            }
            seen += counts[i];
        }
        return BucketBounds[^2];
    }
}

/// <summary>The sums kept per (day, scope, dimension, key). Money is in the merchant's currency.</summary>
[StructLayout(LayoutKind.Auto)]
public struct Measures
{
    public long Returns, Units, StoreCredit, Exchanges, AutoApproved, CycleCount, SmallUnits, LargeUnits, QualityUnits, UsedUnits;
    public decimal Value, RefundTotal, FeesTotal, RecoveredValue;
    public double CycleHours;
    public long Orders, SoldUnits;
    public decimal SoldValue;

    public void Add(in Measures m, int sign)
    {
        Returns += sign * m.Returns; Units += sign * m.Units; StoreCredit += sign * m.StoreCredit; Exchanges += sign * m.Exchanges;
        AutoApproved += sign * m.AutoApproved; CycleCount += sign * m.CycleCount; SmallUnits += sign * m.SmallUnits;
        LargeUnits += sign * m.LargeUnits; QualityUnits += sign * m.QualityUnits; UsedUnits += sign * m.UsedUnits;
        Value += sign * m.Value; RefundTotal += sign * m.RefundTotal; FeesTotal += sign * m.FeesTotal; RecoveredValue += sign * m.RecoveredValue;
        CycleHours += sign * m.CycleHours; Orders += sign * m.Orders; SoldUnits += sign * m.SoldUnits; SoldValue += sign * m.SoldValue;
    }

    public readonly bool IsZero =>
        Returns == 0 && Units == 0 && StoreCredit == 0 && Exchanges == 0 && AutoApproved == 0 && CycleCount == 0 && SmallUnits == 0
        && LargeUnits == 0 && QualityUnits == 0 && UsedUnits == 0 && Value == 0 && RefundTotal == 0 && FeesTotal == 0
        && RecoveredValue == 0 && Math.Abs(CycleHours) < 1e-9 && Orders == 0 && SoldUnits == 0 && SoldValue == 0;
}

/// <summary>Where a sum is kept: the local day, the filter it was counted under ("" for none), the dimension and its key.</summary>
public readonly record struct RollupKey(DateOnly Day, string Scope, string Dim, string Key);

/// <summary>Anything that accumulates contributions: an in-memory cube, or a delta to write.</summary>
public interface IRollupSink
{
    void Add(in RollupKey key, in Measures m, int sign);
}

/// <summary>An in-memory cube: the generator and the rebuild fill it, and a change's delta is computed in one.</summary>
public sealed class RollupCube : IRollupSink
{
    public Dictionary<RollupKey, Measures> Cells { get; } = [];

    public void Add(in RollupKey key, in Measures m, int sign)
    {
        ref var cell = ref CollectionsMarshal.GetValueRefOrAddDefault(Cells, key, out _);
        cell.Add(m, sign);
    }

    /// <summary>The cells that changed (a delta cube has zero cells where old and new agree).</summary>
    public IEnumerable<KeyValuePair<RollupKey, Measures>> NonZero => Cells.Where(c => !c.Value.IsZero);
}

/// <summary>
/// How facts become rollup cells. Each fact is counted once unfiltered (scope "") and once under every filter it matches
/// (category:apparel, country:DE, region:US-CA, carrier:dhl, warehouse:main), so a dashboard with one filter reads
/// pre-summed cells. Under a category filter only that category's lines count.
/// </summary>
public static class Rollup
{
    public const string Unknown = "unknown", None = "none";
    public const string All = "all", Reason = "reason", Category = "category", Sku = "sku", Product = "product", Supplier = "supplier",
        Country = "country", Region = "region", Carrier = "carrier", Warehouse = "warehouse", Segment = "segment", Resolution = "resolution",
        Stage = "stage", StageHours = "stage_hours", Said = "said";

    /// <summary>Dimensions a breakdown can be asked for.</summary>
    public static readonly IReadOnlyList<string> Dimensions = [Reason, Category, Sku, Product, Supplier, Region, Country, Carrier, Warehouse, Segment, Resolution, Said];

    /// <summary>The filters that have their own pre-summed cells.</summary>
    public static readonly IReadOnlyList<string> Filters = [Category, Country, Region, Carrier, Warehouse];

    /// <summary>Dimensions kept per SKU-like key only without a filter or under a category filter (they are many).</summary>
    public static bool IsFineGrained(string dim) => dim is Sku or Product or Supplier or Said;

    /// <summary>The key of a commented line under <see cref="Said"/>: the reason picked and the reason its words name ("too_small&gt;too_large").</summary>
    public static string SaidKey(string picked, string said) => picked + ">" + said;

    public static string Scope(string filter, string value) => filter + ":" + value;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), string> Scopes = new();

    /// <summary>The scope string of a filter value, made once per value (it keys millions of cells).</summary>
    private static string CachedScope(string filter, string value) => Scopes.GetOrAdd((filter, value), k => Scope(k.Item1, k.Item2));

    private static bool IsSmall(string reason) => reason == "too_small";
    private static bool IsLarge(string reason) => reason == "too_large";
    private static bool IsQuality(string reason) => reason is "defective" or "not_as_described" or "quality" or "damaged";

    /// <summary>
    /// The measures of a return once per key of a dimension: the return counts once under each key its lines have; units,
    /// value and grades add up per line; money of the whole return is shared out over the lines by value, so the rows of a
    /// breakdown add up to the total.
    /// </summary>
    private sealed class ReturnParts
    {
        public Measures Whole;
        public readonly Measures[] Line;
        private readonly Measures _base;

        public ReturnParts(ReturnFact f, IReadOnlyList<FactLine> lines)
        {
            _base = new Measures
            {
                Returns = 1, StoreCredit = f.Resolution == "store_credit" ? 1 : 0, Exchanges = f.Resolution == "exchange" ? 1 : 0,
                AutoApproved = f.AutoApproved ? 1 : 0,
            };
            if (f.CycleHours is { } h) { _base.CycleCount = 1; _base.CycleHours = h; }
            decimal total = 0;
            foreach (var l in f.Lines) total += l.Value;
            Line = new Measures[lines.Count];
            Whole = _base;
            for (var i = 0; i < lines.Count; i++)
            {
                var l = lines[i];
                var share = total == 0 ? 1m / f.Lines.Count : l.Value / total;
                var m = new Measures
                {
                    Units = l.Units, Value = l.Value, UsedUnits = l.UsedUnits,
                    SmallUnits = IsSmall(l.Reason) ? l.Units : 0, LargeUnits = IsLarge(l.Reason) ? l.Units : 0, QualityUnits = IsQuality(l.Reason) ? l.Units : 0,
                    RefundTotal = Math.Round(f.RefundTotal * share, 4), FeesTotal = Math.Round(f.FeesTotal * share, 4),
                    RecoveredValue = Math.Round(f.RecoveredValue * share, 4),
                };
                Line[i] = m;
                Whole.Add(m, 1);
            }
        }

        /// <summary>The return's measures under one key: itself once, plus the lines that have the key.</summary>
        public Measures For(IReadOnlyList<FactLine> lines, Func<FactLine, string?> key, string value)
        {
            var m = _base;
            for (var i = 0; i < lines.Count; i++) if (key(lines[i]) == value) m.Add(Line[i], 1);
            return m;
        }
    }

    private static readonly Func<FactLine, string> ByReason = l => l.Reason, ByCategory = l => l.Category, BySku = l => l.Sku,
        ByProduct = l => l.Product, BySupplier = l => l.Supplier;
    private static readonly Func<FactLine, string?> BySaid = l => l.Said is null ? null : SaidKey(l.Reason, l.Said);

    public static void Contribute(ReturnFact f, IRollupSink sink, int sign)
    {
        if (f.Lines.Count == 0) return;
        var all = new ReturnParts(f, f.Lines);
        // Filters other than category keep every line, so their cells are the unfiltered ones under another scope.
        string[] sameLines = [CachedScope(Country, f.Country), CachedScope(Region, f.Region), CachedScope(Carrier, f.Carrier), CachedScope(Warehouse, f.Warehouse)];
        Emit(f, f.Lines, all, "", sink, sign, fine: true);
        foreach (var scope in sameLines) Emit(f, f.Lines, all, scope, sink, sign, fine: false);
        var first = f.Lines[0].Category;
        var oneCategory = true;
        for (var i = 1; i < f.Lines.Count; i++) if (f.Lines[i].Category != first) oneCategory = false;
        if (oneCategory) Emit(f, f.Lines, all, CachedScope(Category, first), sink, sign, fine: true);
        else
            foreach (var category in f.Lines.Select(l => l.Category).Distinct())
            {
                List<FactLine> part = [.. f.Lines.Where(l => l.Category == category)];
                Emit(f, part, new ReturnParts(f, part), CachedScope(Category, category), sink, sign, fine: true);
            }
    }

    public static void Contribute(OrderFact o, IRollupSink sink, int sign)
    {
        if (o.Cancelled || o.Lines.Count == 0) return;
        EmitSale(o, o.Lines, "", sink, sign, fine: true);
        foreach (var category in o.Lines.Select(l => l.Category).Distinct())
            EmitSale(o, [.. o.Lines.Where(l => l.Category == category)], CachedScope(Category, category), sink, sign, fine: true);
        EmitSale(o, o.Lines, CachedScope(Country, o.Country), sink, sign, fine: false);
        EmitSale(o, o.Lines, CachedScope(Region, o.Region), sink, sign, fine: false);
    }

    private static void Emit(ReturnFact f, IReadOnlyList<FactLine> lines, ReturnParts parts, string scope, IRollupSink sink, int sign, bool fine)
    {
        var day = f.Day;
        sink.Add(new RollupKey(day, scope, All, All), parts.Whole, sign);
        sink.Add(new RollupKey(day, scope, Country, f.Country), parts.Whole, sign);
        sink.Add(new RollupKey(day, scope, Region, f.Region), parts.Whole, sign);
        sink.Add(new RollupKey(day, scope, Carrier, f.Carrier), parts.Whole, sign);
        sink.Add(new RollupKey(day, scope, Warehouse, f.Warehouse), parts.Whole, sign);
        sink.Add(new RollupKey(day, scope, Segment, f.Segment), parts.Whole, sign);
        sink.Add(new RollupKey(day, scope, Resolution, f.Resolution), parts.Whole, sign);
        EmitByLine(day, lines, parts, scope, Reason, ByReason, sink, sign);
        EmitByLine(day, lines, parts, scope, Category, ByCategory, sink, sign);
        if (fine)
        {
            EmitByLine(day, lines, parts, scope, Sku, BySku, sink, sign);
            EmitByLine(day, lines, parts, scope, Product, ByProduct, sink, sign);
            EmitByLine(day, lines, parts, scope, Supplier, BySupplier, sink, sign);
            // Commented lines only: what the words say against what was picked.
            for (var i = 0; i < lines.Count; i++)
            {
                if (lines[i].Said is null) continue;
                var k = BySaid(lines[i]);
                var seen = false;
                for (var j = 0; j < i && !seen; j++) seen = BySaid(lines[j]) == k;
                if (!seen) sink.Add(new RollupKey(day, scope, Said, k!), parts.For(lines, BySaid, k!), sign);
            }
        }
        var one = new Measures { Returns = 1 };
        foreach (var stage in f.Reached) sink.Add(new RollupKey(day, scope, Stage, stage), one, sign);
        foreach (var (stage, hours) in f.StageHours)
            sink.Add(new RollupKey(day, scope, StageHours, StageKey(stage, Stages.Bucket(hours))), new Measures { Returns = 1, CycleCount = 1, CycleHours = hours }, sign);
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, int), string> StageKeys = new();
    private static string StageKey(string stage, int bucket) => StageKeys.GetOrAdd((stage, bucket), k => k.Item1 + ":" + k.Item2);

    private static void EmitByLine(DateOnly day, IReadOnlyList<FactLine> lines, ReturnParts parts, string scope, string dim, Func<FactLine, string> key,
        IRollupSink sink, int sign)
    {
        if (lines.Count == 1)
        {
            sink.Add(new RollupKey(day, scope, dim, key(lines[0])), parts.Whole, sign);
            return;
        }
        for (var i = 0; i < lines.Count; i++)
        {
            var k = key(lines[i]);
            var seen = false;
            for (var j = 0; j < i && !seen; j++) seen = key(lines[j]) == k;
            if (!seen) sink.Add(new RollupKey(day, scope, dim, k), parts.For(lines, key, k), sign);
        }
    }

    private static void EmitSale(OrderFact o, IReadOnlyList<SaleLine> lines, string scope, IRollupSink sink, int sign, bool fine)
    {
        static Measures Sold(IEnumerable<SaleLine> ls) =>
            new() { Orders = 1, SoldUnits = ls.Sum(l => l.Units), SoldValue = ls.Sum(l => l.Value) };
        var whole = Sold(lines);
        sink.Add(new RollupKey(o.Day, scope, All, All), whole, sign);
        sink.Add(new RollupKey(o.Day, scope, Country, o.Country), whole, sign);
        sink.Add(new RollupKey(o.Day, scope, Region, o.Region), whole, sign);
        sink.Add(new RollupKey(o.Day, scope, Segment, o.Segment), whole, sign);
        if (lines.Count == 1)
        {
            sink.Add(new RollupKey(o.Day, scope, Category, lines[0].Category), whole, sign);
            if (fine)
            {
                sink.Add(new RollupKey(o.Day, scope, Sku, lines[0].Sku), whole, sign);
                sink.Add(new RollupKey(o.Day, scope, Product, lines[0].Product), whole, sign);
            }
            return;
        }
        foreach (var g in lines.GroupBy(l => l.Category)) sink.Add(new RollupKey(o.Day, scope, Category, g.Key), Sold(g), sign);
        if (!fine) return;
        foreach (var g in lines.GroupBy(l => l.Sku)) sink.Add(new RollupKey(o.Day, scope, Sku, g.Key), Sold(g), sign);
        foreach (var g in lines.GroupBy(l => l.Product)) sink.Add(new RollupKey(o.Day, scope, Product, g.Key), Sold(g), sign);
    }
}

/// <summary>Products that run small or large: a SKU's share of size complaints against its category's.</summary>
public static class Sizing
{
    /// <summary>|z| above this (99 % two-sided) counts as a real difference, not noise.</summary>
    public const double Significant = 2.58;

    public sealed record Verdict(double SmallShare, double LargeShare, double BaselineSmall, double BaselineLarge, double ZSmall, double ZLarge, string? Runs);

    /// <summary>
    /// Of a key's <paramref name="returned"/> units, <paramref name="small"/> came back too small and <paramref name="large"/> too
    /// large; the baseline shares are its category's. A one-proportion z-test against the baseline says whether it runs small or
    /// large; below <paramref name="minUnits"/> returned units there is no verdict.
    /// </summary>
    public static Verdict Judge(long returned, long small, long large, double baselineSmall, double baselineLarge, long minUnits)
    {
        if (returned <= 0) return new Verdict(0, 0, baselineSmall, baselineLarge, 0, 0, null);
        double Z(double p, double p0) => p0 is <= 0 or >= 1 ? 0 : (p - p0) / Math.Sqrt(p0 * (1 - p0) / returned);
        var ps = (double)small / returned;
        var pl = (double)large / returned;
        var zs = Z(ps, baselineSmall);
        var zl = Z(pl, baselineLarge);
        string? runs = returned < minUnits ? null
            : zs >= Significant && zs >= zl ? "small"
            : zl >= Significant ? "large"
            : null;
        return new Verdict(Math.Round(ps, 4), Math.Round(pl, 4), Math.Round(baselineSmall, 4), Math.Round(baselineLarge, 4), Math.Round(zs, 2), Math.Round(zl, 2), runs);
    }
}
