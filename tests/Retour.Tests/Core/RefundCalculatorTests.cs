using Retour.Core.Policies;
using Retour.Core.Returns;
using Xunit;

namespace Retour.Tests.Core;

public sealed class RefundCalculatorTests
{
    private static LineFacts Line(string id = "L1", decimal price = 50m, int qty = 2, decimal tax = 19m, decimal discount = 10m, string category = "apparel", int returned = 0) =>
        new(id, "SKU-" + id, null, category, qty, 0, returned, price, tax, discount, false);

    private static OrderFacts Order(string currency = "EUR", params LineFacts[] lines) =>
        new(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, null, null, currency, lines.Length > 0 ? lines : [Line()]);

    private static RefundBreakdown Estimate(ReturnPolicy policy, OrderFacts order, int qty = 1, ReasonCode reason = ReasonCode.TooSmall,
        Resolution resolution = Resolution.Refund, ReturnMethod method = ReturnMethod.DropOff, decimal shipping = 0) =>
        RefundCalculator.Estimate(policy, order, shipping, [new RefundItem(order.Lines[0], qty, reason)], resolution, method);

    [Fact]
    public void Items_AreThePriceAfterTheLinesDiscount_PlusItsShareOfTax()
    {
        // 2 × 50.00 with 10.00 off the line and 19.00 tax: one unit is 45.00 + 9.50.
        var b = Estimate(new ReturnPolicy(), Order());
        Assert.Equal(45.00m, b.Items);
        Assert.Equal(9.50m, b.Tax);
        Assert.Equal(54.50m, b.Total);
    }

    [Theory]
    [InlineData(FeeKind.Percent, 15, 6.75)]  // 15% of 45.00
    [InlineData(FeeKind.Fixed, 3, 3.00)]     // per unit
    public void RestockingFee_PercentOrFixed(FeeKind kind, decimal value, decimal expected)
    {
        var b = Estimate(new ReturnPolicy { RestockingFee = new Fee(kind, value) }, Order());
        Assert.Equal(expected, b.RestockingFee);
        Assert.Equal(54.50m - expected, b.Total);
    }

    [Fact]
    public void RestockingFee_OfTheCategory_OverridesThePolicyFee()
    {
        var policy = new ReturnPolicy
        {
            RestockingFee = new Fee(FeeKind.Fixed, 1m),
            Categories = new Dictionary<string, CategoryRule> { ["electronics"] = new() { RestockingFee = new Fee(FeeKind.Percent, 10m) } },
        };
        Assert.Equal(4.50m, Estimate(policy, Order("EUR", Line(category: "electronics"))).RestockingFee);
        Assert.Equal(1.00m, Estimate(policy, Order("EUR", Line(category: "apparel"))).RestockingFee);
    }

    [Theory]
    [InlineData(ReasonCode.Defective)]
    [InlineData(ReasonCode.WrongItem)]
    [InlineData(ReasonCode.Damaged)]
    public void ReturnShippingFee_IsWaived_ForTheMerchantsFaults(ReasonCode reason)
    {
        var policy = new ReturnPolicy { ReturnShippingFee = 4.95m, RestockingFee = new Fee(FeeKind.Fixed, 2m) };
        var b = Estimate(policy, Order(), reason: reason);
        Assert.Equal(0m, b.ReturnShippingFee);
        Assert.Equal(0m, b.RestockingFee);
        Assert.Contains(b.Notes, n => n.Contains("waived"));
    }

    [Theory]
    [InlineData(ReasonCode.TooSmall)]
    [InlineData(ReasonCode.ChangedMind)]
    [InlineData(ReasonCode.BetterPrice)]
    public void ReturnShippingFee_IsCharged_ForTheShoppersReasons(ReasonCode reason) =>
        Assert.Equal(4.95m, Estimate(new ReturnPolicy { ReturnShippingFee = 4.95m }, Order(), reason: reason).ReturnShippingFee);

    [Fact]
    public void ReturnShippingFee_IsChargedOnce_WhenAnyLineIsTheShoppersReason()
    {
        var order = Order("EUR", Line("L1"), Line("L2"));
        var b = RefundCalculator.Estimate(new ReturnPolicy { ReturnShippingFee = 4.95m }, order, 0,
            [new RefundItem(order.Lines[0], 1, ReasonCode.Defective), new RefundItem(order.Lines[1], 1, ReasonCode.TooLarge)],
            Resolution.Refund, ReturnMethod.Pickup);
        Assert.Equal(4.95m, b.ReturnShippingFee);
    }

    [Theory]
    [InlineData(ReturnMethod.Keep, Resolution.Refund)]
    [InlineData(ReturnMethod.InStore, Resolution.Refund)]
    [InlineData(ReturnMethod.DropOff, Resolution.Exchange)]
    public void ReturnShippingFee_IsNotCharged_WithoutACarrierOrForExchanges(ReturnMethod method, Resolution resolution) =>
        Assert.Equal(0m, Estimate(new ReturnPolicy { ReturnShippingFee = 4.95m }, Order(), resolution: resolution, method: method).ReturnShippingFee);

    [Fact]
    public void OriginalShipping_IsRefunded_OnlyWhenTheWholeOrderComesBack()
    {
        var policy = new ReturnPolicy { RefundOriginalShipping = true };
        Assert.Equal(0m, Estimate(policy, Order(), qty: 1, shipping: 5.90m).Shipping);
        Assert.Equal(5.90m, Estimate(policy, Order(), qty: 2, shipping: 5.90m).Shipping);
        // The other unit came back in an earlier return: this one completes the order.
        Assert.Equal(5.90m, Estimate(policy, Order("EUR", Line(returned: 1)), qty: 1, shipping: 5.90m).Shipping);
        Assert.Equal(0m, Estimate(policy with { RefundOriginalShipping = false }, Order(), qty: 2, shipping: 5.90m).Shipping);
    }

    [Fact]
    public void StoreCreditBonus_IsAPercentageOfItemsAndTax_OnlyForStoreCredit()
    {
        var policy = new ReturnPolicy { StoreCreditBonusPercent = 10m };
        var credit = Estimate(policy, Order(), resolution: Resolution.StoreCredit);
        Assert.Equal(5.45m, credit.Bonus);
        Assert.Equal(59.95m, credit.Total);
        Assert.Equal(0m, Estimate(policy, Order(), resolution: Resolution.Refund).Bonus);
    }

    [Theory]
    [InlineData("JPY", 1999, 333, 0, 1999, 333)]
    [InlineData("KWD", 12.3456, 1.2345, 0, 12.346, 1.235)]
    [InlineData("EUR", 10.005, 0.015, 0, 10.01, 0.02)]
    public void Rounding_UsesTheCurrencysOwnDecimals(string currency, decimal price, decimal tax, decimal discount, decimal items, decimal roundedTax)
    {
        var order = Order(currency, new LineFacts("L1", "S", null, "apparel", 1, 0, 0, price, tax, discount, false));
        var b = Estimate(new ReturnPolicy(), order);
        Assert.Equal(items, b.Items);
        Assert.Equal(roundedTax, b.Tax);
        Assert.Equal(b.Items + b.Tax, b.Total);
    }

    [Fact]
    public void Parts_AlwaysAddUpToTheTotal()
    {
        var policy = new ReturnPolicy { ReturnShippingFee = 3.33m, RestockingFee = new Fee(FeeKind.Percent, 12.5m), StoreCreditBonusPercent = 7m, RefundOriginalShipping = true };
        var order = Order("EUR", Line("L1", 33.33m, 3, 19.01m, 7.77m), Line("L2", 12.34m, 1, 2.34m, 0m));
        var b = RefundCalculator.Estimate(policy, order, 4.99m,
            [new RefundItem(order.Lines[0], 3, ReasonCode.TooSmall), new RefundItem(order.Lines[1], 1, ReasonCode.Quality)],
            Resolution.StoreCredit, ReturnMethod.Pickup);
        Assert.Equal(b.Items + b.Tax + b.Shipping - b.RestockingFee - b.ReturnShippingFee + b.Bonus, b.Total);
        Assert.Equal(b.Lines.Sum(l => l.Items), b.Items);
    }

    [Fact]
    public void Total_IsNeverNegative_AndFeesAreCappedSoThePartsStillAddUp()
    {
        var order = Order("EUR", new LineFacts("L1", "S", null, "apparel", 1, 0, 0, 2m, 0m, 0m, false));
        var b = Estimate(new ReturnPolicy { ReturnShippingFee = 4.95m, RestockingFee = new Fee(FeeKind.Fixed, 3m) }, order);
        Assert.Equal(0m, b.Total);
        Assert.Equal(2.00m, b.ReturnShippingFee);
        Assert.Equal(0m, b.RestockingFee);
        Assert.Equal(b.Items + b.Tax + b.Shipping - b.RestockingFee - b.ReturnShippingFee + b.Bonus, b.Total);
    }

    [Theory]
    [InlineData(new[] { 1, 1, 1 })]
    [InlineData(new[] { 2, 1 })]
    [InlineData(new[] { 1, 2 })]
    [InlineData(new[] { 3 })]
    public void PartialReturns_OfALine_AddUpToExactlyWhatItCost(int[] batches)
    {
        // 3 units for 10.00 with 1.00 tax: thirds do not round evenly.
        var returned = 0;
        decimal items = 0, tax = 0;
        foreach (var q in batches)
        {
            var line = new LineFacts("L1", "S", null, "apparel", 3, 0, returned, 10m / 3, 1m, 0m, false);
            var b = Estimate(new ReturnPolicy(), Order("EUR", line), qty: q);
            items += b.Items;
            tax += b.Tax;
            returned += q;
        }
        Assert.Equal(10.00m, items);
        Assert.Equal(1.00m, tax);
    }
}
