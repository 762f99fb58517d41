using Retour.Core.Analytics;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Xunit;

namespace Retour.Tests.Core;

public sealed class AnalyticsCoreTests
{
    private static readonly DateOnly Day = new(2026, 1, 15);

    private static ReturnFact Fact(params FactLine[] lines) => new()
    {
        Day = Day, Status = "closed", Resolution = "store_credit", Method = "drop_off", Country = "DE", Region = "DE-BY", Carrier = "dhl", Warehouse = "main",
        Segment = "repeat", AutoApproved = true, RefundTotal = 90m, FeesTotal = 6m, RecoveredValue = 30m, CycleHours = 100,
        Reached = [Stages.Requested, Stages.Approved, Stages.Shipped], StageHours = new Dictionary<string, double> { ["review"] = 0, ["ship"] = 30 },
        Lines = lines,
    };

    private static readonly FactLine Tee = new("TEE-M", "TEE", "apparel", "nordic", "too_small", 2, 40m, 1);
    private static readonly FactLine Jeans = new("JEANS-30", "JEANS", "apparel", "denim", "quality", 1, 80m, 0);
    private static readonly FactLine Phone = new("HEAD-1", "HEAD", "electronics", "soundlab", "too_small", 1, 80m, 0);

    private static Dictionary<RollupKey, Measures> Cells(ReturnFact f)
    {
        var cube = new RollupCube();
        Rollup.Contribute(f, cube, 1);
        return cube.Cells;
    }

    [Fact]
    public void AReturnCountsOncePerKey_AndItsMoneyIsSharedOverItsLines()
    {
        var cells = Cells(Fact(Tee, Jeans, Phone));
        var all = cells[new RollupKey(Day, "", Rollup.All, Rollup.All)];
        Assert.Equal(1, all.Returns);
        Assert.Equal(4, all.Units);
        Assert.Equal(200m, all.Value);
        Assert.Equal(90m, all.RefundTotal);
        Assert.Equal(1, all.UsedUnits);
        Assert.Equal(3, all.SmallUnits);
        Assert.Equal(1, all.QualityUnits);

        var reasons = cells.Where(c => c.Key.Scope == "" && c.Key.Dim == Rollup.Reason).ToDictionary(c => c.Key.Key, c => c.Value);
        Assert.Equal(1, reasons["too_small"].Returns);       // two lines, one return
        Assert.Equal(3, reasons["too_small"].Units);
        Assert.Equal(90m, reasons.Values.Sum(r => r.RefundTotal)); // the rows add up to the whole
        Assert.Equal(54m, reasons["too_small"].RefundTotal);     // 120 of 200 by value
        Assert.Equal(2, reasons.Values.Sum(r => r.Returns));

        // Under a category filter only its lines count; under a carrier filter all of them.
        var apparel = cells[new RollupKey(Day, "category:apparel", Rollup.All, Rollup.All)];
        Assert.Equal(3, apparel.Units);
        Assert.Equal(120m, apparel.Value);
        Assert.Equal(all.Units, cells[new RollupKey(Day, "carrier:dhl", Rollup.All, Rollup.All)].Units);
        Assert.False(cells.ContainsKey(new RollupKey(Day, "carrier:dhl", Rollup.Sku, "TEE-M"))); // SKUs only unfiltered or per category
        Assert.True(cells.ContainsKey(new RollupKey(Day, "category:apparel", Rollup.Sku, "TEE-M")));
        Assert.Equal(1, cells[new RollupKey(Day, "", Rollup.Stage, Stages.Shipped)].Returns);
        Assert.Equal(1, cells[new RollupKey(Day, "", Rollup.StageHours, "ship:" + Stages.Bucket(30))].Returns);
    }

    [Fact]
    public void CommentedLines_AreCountedByWhatTheirWordsSay_AgainstThePickedReason()
    {
        var saysLarge = Tee with { Said = "too_large" };
        var agrees = Phone with { Said = "too_small" };
        var cells = Cells(Fact(saysLarge, Jeans, agrees));
        var said = cells.Where(c => c.Key.Scope == "" && c.Key.Dim == Rollup.Said).ToDictionary(c => c.Key.Key, c => c.Value);
        Assert.Equal(["too_small>too_large", "too_small>too_small"], said.Keys.Order());  // the jeans line has no comment
        Assert.Equal(2, said["too_small>too_large"].Units);
        Assert.Equal(1, said["too_small>too_small"].Returns);
        // Kept like SKUs: unfiltered and per category, not under the other filters.
        Assert.True(cells.ContainsKey(new RollupKey(Day, "category:electronics", Rollup.Said, "too_small>too_small")));
        Assert.False(cells.ContainsKey(new RollupKey(Day, "category:electronics", Rollup.Said, "too_small>too_large")));
        Assert.False(cells.ContainsKey(new RollupKey(Day, "carrier:dhl", Rollup.Said, "too_small>too_large")));
        // A fact stored before comments were classified (no Said) subtracts nothing it did not add.
        var delta = new RollupCube();
        Rollup.Contribute(Fact(Tee, Jeans), delta, -1);
        Rollup.Contribute(Fact(saysLarge, Jeans), delta, 1);
        Assert.All(delta.NonZero, c => Assert.Equal(Rollup.Said, c.Key.Dim));
    }

    [Fact]
    public void SubtractingAFactAndAddingItAgain_LeavesNothing_AndAChangeWritesOnlyItsDelta()
    {
        var before = Fact(Tee);
        var after = before with { Status = "closed", RefundTotal = 50m };
        var delta = new RollupCube();
        Rollup.Contribute(before, delta, -1);
        Rollup.Contribute(before, delta, 1);
        Assert.Empty(delta.NonZero);
        Rollup.Contribute(before, delta, -1);
        Rollup.Contribute(after, delta, 1);
        Assert.NotEmpty(delta.NonZero);
        Assert.All(delta.NonZero, c => Assert.Equal(-40m, c.Value.RefundTotal));
        Assert.All(delta.NonZero, c => Assert.Equal(0, c.Value.Returns));
    }

    [Fact]
    public void Sales_CountOrdersUnitsAndValue_PerCategoryAndSku()
    {
        var cube = new RollupCube();
        Rollup.Contribute(new OrderFact { Day = Day, Country = "US", Region = "US-CA", Lines = [new("TEE-M", "TEE", "apparel", 3, 60m), new("HEAD-1", "HEAD", "electronics", 1, 80m)] }, cube, 1);
        Rollup.Contribute(new OrderFact { Day = Day, Cancelled = true, Lines = [new("TEE-M", "TEE", "apparel", 9, 180m)] }, cube, 1);
        var all = cube.Cells[new RollupKey(Day, "", Rollup.All, Rollup.All)];
        Assert.Equal((1, 4, 140m), (all.Orders, all.SoldUnits, all.SoldValue));
        Assert.Equal(3, cube.Cells[new RollupKey(Day, "", Rollup.Sku, "TEE-M")].SoldUnits);
        Assert.Equal(1, cube.Cells[new RollupKey(Day, "region:US-CA", Rollup.Category, "electronics")].SoldUnits);
    }

    [Theory]
    [InlineData(new long[] { 0, 10, 0 }, 0.5, 1.5)]    // all in the 1–2 h bucket: the middle of it
    [InlineData(new long[] { 5, 5, 0 }, 0.5, 1.0)]     // half below 1 h
    [InlineData(new long[] { 0, 0, 10 }, 0.9, 3.8)]    // 2–4 h, 90 % of the way
    public void Percentiles_AreInterpolatedInsideTheirBucket(long[] counts, double p, double hours)
    {
        var full = new long[Stages.BucketBounds.Length];
        counts.CopyTo(full, 0);
        Assert.Equal(hours, Stages.Percentile(full, p)!.Value, 3);
        Assert.Null(Stages.Percentile(new long[Stages.BucketBounds.Length], 0.5));
        Assert.Equal(Stages.BucketBounds.Length - 1, Stages.Bucket(100_000));
    }

    [Fact]
    public void Sizing_NeedsBothADifferenceAndEnoughUnits()
    {
        Assert.Equal("small", Sizing.Judge(100, 60, 5, 0.3, 0.2, 20).Runs);
        Assert.Equal("large", Sizing.Judge(100, 10, 55, 0.3, 0.2, 20).Runs);
        Assert.Null(Sizing.Judge(100, 33, 22, 0.3, 0.2, 20).Runs);   // within noise
        Assert.Null(Sizing.Judge(10, 9, 0, 0.3, 0.2, 20).Runs);      // too few units for a verdict
    }

    [Fact]
    public void Price_AppliesFeesWaiversKeepItAndBonus()
    {
        var policy = new ReturnPolicy
        {
            RestockingFee = new Fee(FeeKind.Percent, 10m), ReturnShippingFee = 5m, KeepItThreshold = 15m, StoreCreditBonusPercent = 10m,
            Methods = [ReturnMethod.Pickup, ReturnMethod.DropOff, ReturnMethod.Keep],
        };
        var cheap = new FactLine("SOCK", "SOCK", "apparel", "x", "changed_mind", 2, 12m, 0, 2m);
        var coat = new FactLine("COAT", "COAT", "apparel", "x", "changed_mind", 1, 100m, 0, 19m);
        var broken = coat with { Reason = "defective" };

        var refund = WhatIf.Price([coat], ReturnMethod.DropOff, Resolution.Refund, policy, "EUR", offerKeepIt: true);
        Assert.Equal((10m, 5m, 104m, false), (refund.RestockingFee, refund.ReturnShippingFee, refund.Refund, refund.KeepIt));
        var waived = WhatIf.Price([broken], ReturnMethod.DropOff, Resolution.Refund, policy, "EUR", offerKeepIt: true);
        Assert.Equal(0m, waived.Fees);
        var kept = WhatIf.Price([cheap], ReturnMethod.DropOff, Resolution.Refund, policy, "EUR", offerKeepIt: true);
        Assert.True(kept.KeepIt);
        Assert.Equal(0m, kept.Fees);
        // Not where the category's methods leave keep-it out, nor above the threshold with tax.
        var noKeep = policy with { Categories = new Dictionary<string, CategoryRule> { ["apparel"] = new() { Methods = [ReturnMethod.DropOff] } } };
        Assert.False(WhatIf.Price([cheap], ReturnMethod.DropOff, Resolution.Refund, noKeep, "EUR", offerKeepIt: true).KeepIt);
        Assert.False(WhatIf.Price([cheap with { Tax = 20m }], ReturnMethod.DropOff, Resolution.Refund, policy, "EUR", offerKeepIt: true).KeepIt);
        var credit = WhatIf.Price([coat], ReturnMethod.InStore, Resolution.StoreCredit, policy, "EUR", offerKeepIt: false);
        Assert.Equal(11.9m, credit.Bonus);
        Assert.Equal(0m, credit.ReturnShippingFee);
    }

    [Fact]
    public void WhatIf_AShorterWindowDropsLateReturns_AndReportsWhatItCannotKnow()
    {
        var late = Fact(Tee) with { DaysAfterDelivery = 25, Method = "drop_off", Resolution = "refund" };
        var early = Fact(Jeans) with { DaysAfterDelivery = 3, Method = "drop_off", Resolution = "refund" };
        var acc = new WhatIf.Accumulator(new ReturnPolicy { WindowDays = 30 }, new ReturnPolicy { WindowDays = 14 }, "EUR");
        acc.Add(late);
        acc.Add(early);
        var r = acc.Result();
        Assert.Equal(2, r.Current.Returns);
        Assert.Equal(1, r.Simulated.Returns);
        Assert.True(r.Simulated.RefundTotal < r.Current.RefundTotal);
        Assert.Contains(r.Notes, n => n.Contains("never made", StringComparison.Ordinal));
    }

    [Fact]
    public void ShopperHistory_CountsAPeriodExactly_AtItsEdges()
    {
        var midnight = new DateTimeOffset(2026, 3, 1, 23, 0, 0, TimeSpan.Zero); // a Berlin midnight
        var history = ShopperHistory.Write([(midnight.AddTicks(-1), 0), (midnight, 2), (midnight.AddDays(1).AddTicks(-1), 1), (midnight.AddDays(1), 5)])!;
        Assert.Equal(4, history.Split(' ').Length);
        Assert.Equal((2L, 3L), ShopperHistory.Count(history, midnight, midnight.AddDays(1)));   // the first second in, the last tick out
        Assert.Equal((4L, 8L), ShopperHistory.Count(history, midnight.AddDays(-1), midnight.AddDays(2)));
        Assert.Equal((0L, 0L), ShopperHistory.Count(history, midnight.AddDays(2), midnight.AddDays(3)));
        Assert.Equal((0L, 0L), ShopperHistory.Count("", midnight, midnight.AddDays(1)));
        Assert.Equal((1L, 0L), ShopperHistory.Count(ShopperHistory.Write([(midnight, 0)])!, midnight, midnight.AddSeconds(1)));
        // Times before 1970 and entries in any order (SQLite's rebuild sets none).
        Assert.Equal((1L, 0L), ShopperHistory.Count("1772406000:2 -10 1772406000", DateTimeOffset.UnixEpoch.AddSeconds(-10), DateTimeOffset.UnixEpoch));
        Assert.Equal((2L, 2L), ShopperHistory.Count("1772406000:2 -10 1772406000", midnight, midnight.AddDays(1)));
        Assert.Null(ShopperHistory.Write(Enumerable.Range(0, ShopperHistory.MaxReturns + 1).Select(i => (midnight.AddMinutes(i), 0L))));
        Assert.NotNull(ShopperHistory.Write(Enumerable.Range(0, ShopperHistory.MaxReturns).Select(i => (midnight.AddMinutes(i), 0L))));
        Assert.Throws<FormatException>(() => ShopperHistory.Count("12:x", DateTimeOffset.UnixEpoch, midnight));
    }
}
