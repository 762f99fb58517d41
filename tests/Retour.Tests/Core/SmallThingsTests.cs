using System.Text.RegularExpressions;
using Retour.Core.Money;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Xunit;

namespace Retour.Tests.Core;

public sealed class RmaTests
{
    [Fact]
    public void Rma_IsHumanFriendly()
    {
        for (var i = 0; i < 1000; i++)
            Assert.Matches(new Regex("^R-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{4}-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{4}$"), Rma.New());
    }

    [Fact]
    public void Rma_IsNotSequential_AndDoesNotRepeat()
    {
        var many = Enumerable.Range(0, 100_000).Select(_ => Rma.New()).ToList();
        Assert.Equal(many.Count, many.Distinct().Count());
        Assert.NotEqual(many.OrderBy(x => x, StringComparer.Ordinal), many);
    }

    [Theory]
    [InlineData("r-7k3m-9qx2", "R-7K3M-9QX2")]
    [InlineData("R7K3M9QX2", "R-7K3M-9QX2")]
    [InlineData(" R-7K3M-9QXO ", "R-7K3M-9QX0")]
    [InlineData("R-IK3M-9QXL", "R-1K3M-9QX1")]
    [InlineData("R-7K3M-9QX", null)]
    [InlineData("X-7K3M-9QX2", null)]
    [InlineData("R-7K3M-9QXU", null)]
    public void Rma_IsReadBackAsPeopleTypeIt(string typed, string? expected) => Assert.Equal(expected, Rma.Normalize(typed));
}

public sealed class CurrencyTests
{
    [Theory]
    [InlineData("EUR", 2)]
    [InlineData("JPY", 0)]
    [InlineData("KRW", 0)]
    [InlineData("KWD", 3)]
    [InlineData("BHD", 3)]
    public void Decimals_FollowIso4217(string code, int decimals) => Assert.Equal(decimals, Currencies.Decimals(code));

    [Theory]
    [InlineData(19.995, "EUR", "20.00")]
    [InlineData(1500.5, "JPY", "1501")]
    [InlineData(1.0005, "KWD", "1.001")]
    [InlineData(-2.345, "EUR", "-2.35")]
    public void Format_RoundsHalfAwayFromZero(decimal amount, string currency, string expected) => Assert.Equal(expected, Currencies.Format(amount, currency));

    [Theory]
    [InlineData("EUR", true)]
    [InlineData("eur", false)]
    [InlineData("EURO", false)]
    [InlineData(null, false)]
    public void IsValid_WantsThreeCapitals(string? code, bool valid) => Assert.Equal(valid, Currencies.IsValid(code));
}

public sealed class PolicyValidatorTests
{
    [Fact]
    public void DefaultPolicy_IsValid() => Assert.Empty(PolicyValidator.Validate(ReturnPolicy.Default));

    [Fact]
    public void BadValues_AreNamedByTheirField()
    {
        var p = ReturnPolicy.Default with
        {
            WindowDays = -1,
            RestockingFee = new Fee(FeeKind.Percent, 150m),
            Categories = new Dictionary<string, CategoryRule> { ["Home Goods"] = new() { WindowDays = 5000, Methods = [] } },
            SeasonalExtensions = [new SeasonalExtension("x", "13-01", "12-24", "02-30")],
            AutoApproval = new AutoApprovalRules { HistoryOrders = 0, MaxReturnRatePercent = 120m },
            Resolutions = [],
        };
        var fields = PolicyValidator.Validate(p).Select(e => e.Field).ToHashSet();
        Assert.Superset(new HashSet<string>
        {
            "window_days", "restocking_fee.value", "categories.Home Goods", "categories.Home Goods.window_days", "categories.Home Goods.methods",
            "seasonal_extensions[0].placed_from", "seasonal_extensions[0].returnable_until", "auto_approval.history_orders",
            "auto_approval.max_return_rate_percent", "resolutions",
        }, fields);
    }

    [Theory]
    [InlineData("02-29", true)]
    [InlineData("1-15", false)]
    [InlineData("00-10", false)]
    [InlineData("04-31", false)]
    public void MonthDay_Parses(string text, bool ok) => Assert.Equal(ok, MonthDay.TryParse(text, out _));

    [Theory]
    [InlineData("Home & Garden ", "home_garden")]
    [InlineData("electronics", "electronics")]
    [InlineData("", "uncategorized")]
    [InlineData(null, "uncategorized")]
    public void Categories_AreNormalised(string? input, string expected) => Assert.Equal(expected, Categories.Normalize(input));
}
