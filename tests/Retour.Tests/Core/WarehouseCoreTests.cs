using Retour.Core.Policies;
using Retour.Core.Returns;
using Retour.Core.Warehouse;
using Xunit;

namespace Retour.Tests.Core;

/// <summary>Disposition rules, checklists, claim windows, refund settlement after inspection and refund timing: plain inputs, no I/O.</summary>
public sealed class WarehouseCoreTests
{
    private static UnitFacts Unit(Grade grade, ReasonCode reason = ReasonCode.TooSmall, string category = "apparel", decimal value = 40m, string? supplier = null) =>
        new(reason, grade, category, value, supplier);

    [Theory]
    [InlineData(Grade.New, Disposition.Restock, "stock", 1)]
    [InlineData(Grade.LikeNew, Disposition.Restock, "stock", 1)]
    [InlineData(Grade.Used, Disposition.Liquidate, "outlet", 5)]
    [InlineData(Grade.MissingParts, Disposition.Refurbish, "refurbishment", 3)]
    [InlineData(Grade.WrongItem, Disposition.Liquidate, "unsorted", 7)]
    [InlineData(Grade.Damaged, Disposition.Recycle, "recycling", 8)]
    public void DefaultTable_ProposesByGrade_AndNamesTheRule(Grade grade, Disposition expected, string channel, int rule)
    {
        var p = Dispositions.Propose(Dispositions.DefaultRules, Unit(grade), "EUR")!;
        Assert.Equal(expected, p.Disposition);
        Assert.Equal(channel, p.Channel);
        Assert.Equal(rule, p.Rule);
        Assert.StartsWith($"Rule {rule} (", p.Explanation);
    }

    [Fact]
    public void Defective_GoesToTheSupplier_OrIsPassedOverWithTheReasonWhenThereIsNone()
    {
        Assert.Equal(Disposition.ReturnToVendor, Dispositions.Propose(Dispositions.DefaultRules, Unit(Grade.Defective, supplier: "acme"), "EUR")!.Disposition);
        var none = Dispositions.Propose(Dispositions.DefaultRules, Unit(Grade.Defective, value: 80m), "EUR")!;
        Assert.Equal(Disposition.Refurbish, none.Disposition); // rule 4: worth refurbishing at ≥ 50
        Assert.Contains("no supplier", none.Explanation);
        Assert.Equal(Disposition.Recycle, Dispositions.Propose(Dispositions.DefaultRules, Unit(Grade.Defective, value: 20m), "EUR")!.Disposition);
    }

    [Fact]
    public void ValueBand_IsMinInclusiveMaxExclusive_AndTheExplanationShowsIt()
    {
        DispositionRule[] rules =
        [
            new() { Name = "cheap", Categories = ["electronics"], MaxValue = 30m, Disposition = Disposition.Donate },
            new() { Name = "dear", Categories = ["electronics"], MinValue = 30m, Reasons = [ReasonCode.ChangedMind], Disposition = Disposition.Restock, Channel = "b_stock" },
        ];
        Assert.Equal(Disposition.Donate, Dispositions.Propose(rules, Unit(Grade.Used, category: "electronics", value: 29.99m), "EUR")!.Disposition);
        var dear = Dispositions.Propose(rules, Unit(Grade.Used, ReasonCode.ChangedMind, "electronics", 30m), "EUR")!;
        Assert.Equal("b_stock", dear.Channel);
        Assert.Contains("value 30.00 EUR in band ≥ 30.00", dear.Explanation);
        var fallback = Dispositions.Propose(rules, Unit(Grade.Used, ReasonCode.TooSmall, "apparel"), "EUR")!;
        Assert.Null(fallback.Rule);
        Assert.Contains("No rule matched", fallback.Explanation);
        Assert.Null(Dispositions.Propose(rules, Unit(Grade.NotReceived), "EUR")); // nothing came back to route
    }

    [Theory]
    [InlineData(Disposition.Restock, Grade.New, 40.00)]          // sold at its value
    [InlineData(Disposition.ReturnToVendor, Grade.Defective, 16.00)] // the supplier credits the cost
    [InlineData(Disposition.Refurbish, Grade.MissingParts, 28.00)]   // 70% of the value
    [InlineData(Disposition.Liquidate, Grade.Used, 4.80)]            // 30% of the cost for used
    [InlineData(Disposition.Donate, Grade.Used, 0)]
    public void ExpectedRecovery_ByDispositionAndGrade(Disposition d, Grade g, decimal expected) =>
        Assert.Equal(expected, Dispositions.ExpectedRecovery(WarehouseRules.Default, d, g, 40m, 16m, "EUR"));

    [Fact]
    public void Checklist_EveryQuestionAnswered_AndNoOthers()
    {
        var items = Checklists.For(Checklists.Defaults, "apparel");
        Assert.Contains("tags_attached", items);
        var errors = Checklists.Check(items, new Dictionary<string, bool?> { ["tags_attached"] = true, ["smells_nice"] = true }, "lines[0].checklist");
        Assert.Contains(errors, e => e.Field == "lines[0].checklist.unworn");
        Assert.Contains(errors, e => e.Field == "lines[0].checklist.smells_nice");
        Assert.Equal(Checklists.Defaults["*"], Checklists.For(Checklists.Defaults, "garden"));
        Assert.NotEmpty(new WarehouseRules { Suppliers = [new("a", "A", 0)], LiquidationPercents = new Dictionary<string, decimal> { ["shiny"] = 10 } }.Validate());
    }

    [Fact]
    public void ClaimWindow_WarnsSevenDaysOrFewerBefore()
    {
        var sold = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
        var deadline = ClaimWindow.Deadline(sold, 60);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero), deadline);
        Assert.False(ClaimWindow.Warn(deadline, deadline.AddDays(-8), 7));
        Assert.True(ClaimWindow.Warn(deadline, deadline.AddDays(-7), 7));
        Assert.Equal(-1, ClaimWindow.DaysLeft(deadline, deadline.AddHours(1)));
    }

    private static LineFacts Line(decimal price = 50m, int qty = 2, decimal tax = 19m, decimal discount = 10m, int refunded = 0, int returned = 1) =>
        new("L1", "SKU", null, "apparel", qty, refunded, returned, price, tax, discount, false);

    private static RefundBreakdown Settle(ReturnPolicy policy, LineFacts line, params Grade[] grades) => Settle(policy, line, ReasonCode.TooSmall, 0, grades);

    private static RefundBreakdown Settle(ReturnPolicy policy, LineFacts line, ReasonCode reason, int others, params Grade[] grades) =>
        RefundCalculator.Settle(policy, new OrderFacts(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, null, null, "EUR", [line]), 0,
            [new SettleItem(line, 1, reason, others, grades)], Resolution.Refund, ReturnMethod.DropOff);

    [Fact]
    public void Settle_UsedUnit_LosesFifteenPercentOfItsValue()
    {
        var b = Settle(new ReturnPolicy(), Line(), Grade.Used);
        Assert.Equal(8.18m, b.Deductions); // 15% of 54.50
        Assert.Equal(54.50m - 8.18m, b.Total);
        Assert.Contains(b.Notes, n => n.Contains("graded used"));
        Assert.Equal(54.50m, Settle(new ReturnPolicy(), Line(), Grade.LikeNew).Total);
    }

    [Theory]
    [InlineData(Grade.WrongItem, 0)]
    [InlineData(Grade.NotReceived, 0)]
    [InlineData(Grade.MissingParts, 40.87)] // a quarter kept back: 13.625 → 13.63
    public void Settle_Mismatches_RefundPartlyOrNothing(Grade grade, decimal total) =>
        Assert.Equal(total, Settle(new ReturnPolicy(), Line(), grade).Total);

    [Fact]
    public void Settle_DefectiveAsReported_NoDeduction_ButDamagedForAnotherReasonIsDeducted()
    {
        Assert.Equal(54.50m, Settle(new ReturnPolicy(), Line(), ReasonCode.Defective, 0, Grade.Defective).Total);
        Assert.Equal(27.25m, Settle(new ReturnPolicy(), Line(), ReasonCode.ChangedMind, 0, Grade.Damaged).Total);
    }

    [Fact]
    public void Settle_UnitsTheStoreRefundedMeanwhile_AreNotRefundedAgain()
    {
        // Two units: the store refunded one, another return holds the other: nothing is left for this one.
        var b = Settle(new ReturnPolicy(), Line(refunded: 1, returned: 2), ReasonCode.TooSmall, 1);
        Assert.Equal(0m, b.Total);
        Assert.Contains(b.Notes, n => n.Contains("already refunded by the store"));
        // Only the store refund: one unit is still refundable.
        Assert.Equal(54.50m, Settle(new ReturnPolicy(), Line(refunded: 1, returned: 1), ReasonCode.TooSmall, 0).Total);
    }

    [Theory]
    [InlineData("JPY", 1999, 1699)]   // 15% of 1999 = 299.85 → 300
    [InlineData("KWD", 9.999, 8.499)] // 1.49985 → 1.500
    public void Settle_RoundsDeductionsInTheCurrency(string currency, decimal price, decimal total)
    {
        var line = new LineFacts("L1", "SKU", null, "apparel", 1, 0, 1, price, 0, 0, false);
        var b = RefundCalculator.Settle(new ReturnPolicy(), new OrderFacts(DateTimeOffset.UtcNow, null, null, null, currency, [line]), 0,
            [new SettleItem(line, 1, ReasonCode.TooSmall, 0, [Grade.Used])], Resolution.Refund, ReturnMethod.DropOff);
        Assert.Equal(total, b.Total);
    }

    [Theory]
    [InlineData(RefundMoment.OnFirstScan, ReturnStatus.AwaitingShipment, false)]
    [InlineData(RefundMoment.OnFirstScan, ReturnStatus.InTransit, true)]
    [InlineData(RefundMoment.OnDelivery, ReturnStatus.InTransit, false)]
    [InlineData(RefundMoment.OnDelivery, ReturnStatus.Delivered, true)]
    [InlineData(RefundMoment.OnDelivery, ReturnStatus.Received, true)]
    [InlineData(RefundMoment.AfterInspection, ReturnStatus.Received, false)]
    [InlineData(RefundMoment.AfterInspection, ReturnStatus.Inspected, true)]
    [InlineData(RefundMoment.AfterInspection, ReturnStatus.Cancelled, false)]
    public void RefundTiming_FollowsThePolicysMoment(RefundMoment moment, ReturnStatus status, bool due) =>
        Assert.Equal(due, RefundTiming.IsDue(moment, ReturnMethod.DropOff, status).Due);

    [Fact]
    public void RefundTiming_KeepIt_IsDueOnApproval()
    {
        Assert.True(RefundTiming.IsDue(RefundMoment.AfterInspection, ReturnMethod.Keep, ReturnStatus.Approved).Due);
        Assert.False(RefundTiming.IsDue(RefundMoment.AfterInspection, ReturnMethod.Keep, ReturnStatus.PendingReview).Due);
    }
}
