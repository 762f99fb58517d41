using Retour.Core.Policies;
using Retour.Core.Returns;
using Xunit;

namespace Retour.Tests.Core;

public sealed class ReturnabilityTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private static readonly TimeZoneInfo Tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");

    private static LineFacts Line(string id = "L1", string category = "apparel", string? sku = "SKU-1", string? product = "P-1",
        int qty = 2, int refunded = 0, int returned = 0, decimal price = 20m, bool finalSale = false, decimal tax = 0) =>
        new(id, sku, product, category, qty, refunded, returned, price, tax, 0m, finalSale);

    private static OrderFacts Order(DateTimeOffset placed, DateTimeOffset? delivered, params LineFacts[] lines) =>
        new(placed, delivered, null, null, "EUR", lines.Length > 0 ? lines : [Line()]);

    private static LineVerdict Judge(OrderFacts order, ReturnPolicy policy, DateTimeOffset now, TimeZoneInfo? zone = null) =>
        Returnability.Evaluate(order, policy, now, zone ?? Berlin)[0];

    private static readonly ReturnPolicy Policy = new() { WindowDays = 30 };

    [Fact]
    public void ReturnWindow_CountsFromDeliveryDayInMerchantTimeZone()
    {
        // 23:30 UTC on 10 March is already 11 March in Berlin: the 30 days run to the end of 10 April, Berlin time (CEST).
        var delivered = new DateTimeOffset(2026, 3, 10, 23, 30, 0, TimeSpan.Zero);
        var v = Judge(Order(delivered.AddDays(-3), delivered), Policy, delivered.AddDays(1));
        Assert.Equal(new DateTimeOffset(2026, 4, 10, 21, 59, 59, TimeSpan.Zero), v.Deadline);
    }

    [Fact]
    public void ReturnWindow_SameInstant_EndsEarlierInTokyo()
    {
        var delivered = new DateTimeOffset(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);
        var tokyo = Judge(Order(delivered.AddDays(-3), delivered), Policy, delivered, Tokyo);
        Assert.Equal(new DateTimeOffset(2026, 4, 9, 14, 59, 59, TimeSpan.Zero), tokyo.Deadline);
    }

    [Fact]
    public void ReturnWindow_LastSecondIsStillReturnable_NextSecondIsNot()
    {
        var delivered = new DateTimeOffset(2026, 6, 1, 10, 0, 0, TimeSpan.Zero);
        var order = Order(delivered.AddDays(-2), delivered);
        var deadline = Judge(order, Policy, delivered).Deadline!.Value;
        Assert.True(Judge(order, Policy, deadline).Returnable);
        Assert.True(Judge(order, Policy, deadline.AddMilliseconds(999)).Returnable);
        var late = Judge(order, Policy, deadline.AddSeconds(1));
        Assert.Equal(NotReturnableReason.WindowPassed, late.Reason);
    }

    [Fact]
    public void ReturnWindow_CategoryWindow_OverridesThePolicyWindow()
    {
        var policy = Policy with { Categories = new Dictionary<string, CategoryRule> { ["electronics"] = new() { WindowDays = 14 } } };
        var delivered = new DateTimeOffset(2026, 6, 1, 10, 0, 0, TimeSpan.Zero);
        var v = Judge(Order(delivered.AddDays(-2), delivered, Line(category: "electronics")), policy, delivered.AddDays(15));
        Assert.Equal(NotReturnableReason.WindowPassed, v.Reason);
        Assert.Contains("category 'electronics'", v.Explanation);
    }

    [Fact]
    public void ReturnWindow_ProductWindow_OverridesItsCategoryWindow()
    {
        var policy = Policy with
        {
            Categories = new Dictionary<string, CategoryRule> { ["electronics"] = new() { WindowDays = 14 } },
            ProductWindows = new Dictionary<string, int> { ["P-1"] = 60 },
        };
        var delivered = new DateTimeOffset(2026, 6, 1, 10, 0, 0, TimeSpan.Zero);
        var v = Judge(Order(delivered.AddDays(-2), delivered, Line(category: "electronics")), policy, delivered.AddDays(45));
        Assert.True(v.Returnable);
        Assert.Contains("product 'P-1'", v.Explanation);
    }

    [Fact]
    public void ReturnWindow_ProductWindowBySku_WinsOverProductCode()
    {
        var policy = Policy with { ProductWindows = new Dictionary<string, int> { ["SKU-1"] = 5, ["P-1"] = 60 } };
        var delivered = new DateTimeOffset(2026, 6, 1, 10, 0, 0, TimeSpan.Zero);
        Assert.Equal(NotReturnableReason.WindowPassed, Judge(Order(delivered, delivered), policy, delivered.AddDays(10)).Reason);
    }

    private static readonly ReturnPolicy Holiday = Policy with { SeasonalExtensions = [new SeasonalExtension("holiday", "11-15", "12-24", "01-31")] };

    [Fact]
    public void ReturnWindow_HolidayPurchase_ExtendedToJanuary31()
    {
        var placed = new DateTimeOffset(2025, 11, 20, 9, 0, 0, TimeSpan.Zero);
        var v = Judge(Order(placed, placed.AddDays(2)), Holiday, new DateTimeOffset(2026, 1, 30, 12, 0, 0, TimeSpan.Zero));
        Assert.True(v.Returnable);
        Assert.Equal(new DateTimeOffset(2026, 1, 31, 22, 59, 59, TimeSpan.Zero), v.Deadline); // end of 31 Jan in Berlin (CET)
        Assert.Contains("holiday", v.Explanation);
    }

    [Fact]
    public void ReturnWindow_HolidayExtension_EndsOnFebruaryFirst()
    {
        var placed = new DateTimeOffset(2025, 12, 24, 9, 0, 0, TimeSpan.Zero);
        var v = Judge(Order(placed, placed.AddDays(2)), Holiday, new DateTimeOffset(2026, 2, 1, 12, 0, 0, TimeSpan.Zero));
        Assert.Equal(NotReturnableReason.WindowPassed, v.Reason);
    }

    [Fact]
    public void ReturnWindow_PurchaseOutsideTheSeason_IsNotExtended()
    {
        var placed = new DateTimeOffset(2025, 11, 10, 9, 0, 0, TimeSpan.Zero);
        var v = Judge(Order(placed, placed.AddDays(2)), Holiday, new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
        Assert.Equal(NotReturnableReason.WindowPassed, v.Reason);
    }

    [Fact]
    public void ReturnWindow_ExtensionShorterThanTheWindow_KeepsTheWindow()
    {
        var policy = Holiday with { WindowDays = 100 };
        var placed = new DateTimeOffset(2025, 12, 1, 9, 0, 0, TimeSpan.Zero);
        var v = Judge(Order(placed, placed.AddDays(1)), policy, placed);
        Assert.Equal(2026, v.Deadline!.Value.Year);
        Assert.Equal(3, v.Deadline.Value.Month);
    }

    [Theory]
    [InlineData("12-20", "01-05", "2025-12-28", true)]  // a season across New Year
    [InlineData("12-20", "01-05", "2026-01-03", true)]
    [InlineData("12-20", "01-05", "2026-01-06", false)]
    [InlineData("11-15", "12-24", "2025-11-15", true)]
    [InlineData("11-15", "12-24", "2025-12-25", false)]
    public void SeasonalExtension_AppliesToOrdersPlacedInItsRange(string from, string to, string placed, bool applies)
    {
        var end = Returnability.ExtensionEnd(new SeasonalExtension("s", from, to, "01-31"), DateOnly.Parse(placed));
        Assert.Equal(applies, end is not null);
        if (end is { } e) Assert.True(e >= DateOnly.Parse(placed));
    }

    [Fact]
    public void FinalSale_IsNotReturnable()
    {
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(NotReturnableReason.FinalSale, Judge(Order(now.AddDays(-3), now.AddDays(-1), Line(finalSale: true)), Policy, now).Reason);
    }

    [Fact]
    public void NonReturnableCategory_IsNotReturnable()
    {
        var now = DateTimeOffset.UtcNow;
        var policy = Policy with { NonReturnableCategories = ["beauty"] };
        Assert.Equal(NotReturnableReason.NonReturnableCategory, Judge(Order(now.AddDays(-3), now.AddDays(-1), Line(category: "beauty")), policy, now).Reason);
    }

    [Fact]
    public void NotDelivered_IsNotReturnable()
    {
        var now = DateTimeOffset.UtcNow;
        var v = Judge(Order(now.AddDays(-3), null), Policy, now);
        Assert.Equal(NotReturnableReason.NotDelivered, v.Reason);
        Assert.Null(v.Deadline);
    }

    [Fact]
    public void NotDelivered_AssumedDeliveredAfterFulfilmentPlusDays_WhenThePolicySaysSo()
    {
        var now = DateTimeOffset.UtcNow;
        var policy = Policy with { AssumeDeliveredAfterDays = 5 };
        var order = new OrderFacts(now.AddDays(-10), null, now.AddDays(-9), null, "EUR", [Line()]);
        Assert.True(Judge(order, policy, now).Returnable);
        var recent = order with { FulfilledAt = now.AddDays(-2) };
        Assert.Equal(NotReturnableReason.NotDelivered, Judge(recent, policy, now).Reason);
    }

    [Theory]
    [InlineData(2, 0, 2, true)]   // both units in returns
    [InlineData(2, 2, 0, true)]   // both refunded in the store
    [InlineData(2, 1, 1, true)]
    [InlineData(2, 1, 0, false)]  // one unit left
    public void AlreadyReturned_WhenEveryUnitIsInAReturnOrRefunded(int qty, int refunded, int returned, bool refused)
    {
        var now = DateTimeOffset.UtcNow;
        var v = Judge(Order(now.AddDays(-3), now.AddDays(-1), Line(qty: qty, refunded: refunded, returned: returned)), Policy, now);
        Assert.Equal(refused ? NotReturnableReason.AlreadyReturned : null, v.Reason);
        if (!refused) Assert.Equal(qty - refunded - returned, v.ReturnableQuantity);
    }

    [Fact]
    public void CancelledOrder_IsNotReturnable()
    {
        var now = DateTimeOffset.UtcNow;
        var order = new OrderFacts(now.AddDays(-3), now.AddDays(-1), null, now.AddDays(-2), "EUR", [Line()]);
        Assert.Equal(NotReturnableReason.OrderCancelled, Judge(order, Policy, now).Reason);
    }

    [Fact]
    public void ResolutionsAndMethods_FollowTheCategoryRule()
    {
        var now = DateTimeOffset.UtcNow;
        var policy = Policy with
        {
            Categories = new Dictionary<string, CategoryRule>
            {
                ["electronics"] = new() { Resolutions = [Resolution.Refund], Methods = [ReturnMethod.Pickup] },
            },
        };
        var verdicts = Returnability.Evaluate(Order(now.AddDays(-3), now.AddDays(-1), Line("L1", "electronics"), Line("L2", "apparel")), policy, now, Berlin);
        Assert.Equal([Resolution.Refund], verdicts[0].Resolutions);
        Assert.Equal([ReturnMethod.Pickup], verdicts[0].Methods);
        Assert.Equal(policy.Resolutions, verdicts[1].Resolutions);
    }

    [Theory]
    [InlineData(9.99, true)]
    [InlineData(10.00, false)]
    [InlineData(25.00, false)]
    public void KeepIt_IsOfferedOnlyBelowTheThreshold(decimal unitPrice, bool offered)
    {
        var now = DateTimeOffset.UtcNow;
        var policy = Policy with { Methods = [ReturnMethod.DropOff, ReturnMethod.Keep], KeepItThreshold = 10m };
        var v = Judge(Order(now.AddDays(-3), now.AddDays(-1), Line(price: unitPrice)), policy, now);
        Assert.Equal(offered, v.Methods.Contains(ReturnMethod.Keep));
    }

    [Fact]
    public void EndOfDay_OnADaylightSavingChangeDay_IsTheLastSecondOfThatLocalDay()
    {
        // 29 March 2026: Berlin moves from CET to CEST; the day ends at 22:00 UTC.
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 21, 59, 59, TimeSpan.Zero), Returnability.EndOfDay(new DateOnly(2026, 3, 29), Berlin));
    }

    [Fact]
    public void StartOfDay_IsLocalMidnightInUtc_AndTheFirstValidTimeWhereDaylightSavingSkipsMidnight()
    {
        // Berlin on the day after the change (CEST) starts at 22:00 UTC the evening before; the result is always UTC.
        var start = Returnability.StartOfDay(new DateOnly(2026, 3, 30), Berlin);
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 22, 0, 0, TimeSpan.Zero), start);
        Assert.Equal(TimeSpan.Zero, start.Offset);
        // Santiago skips from 00:00 to 01:00 on 6 September 2026: the day starts at 01:00 local (04:00 UTC).
        var santiago = TimeZoneInfo.FindSystemTimeZoneById("America/Santiago");
        Assert.Equal(new DateTimeOffset(2026, 9, 6, 4, 0, 0, TimeSpan.Zero), Returnability.StartOfDay(new DateOnly(2026, 9, 6), santiago));
    }
}
