using Retour.Core.Policies;
using Retour.Core.Returns;
using Xunit;

namespace Retour.Tests.Core;

public sealed class ReturnRequestTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
    private static readonly DateTimeOffset Now = new(2026, 6, 10, 12, 0, 0, TimeSpan.Zero);

    private static readonly ReturnPolicy Policy = new()
    {
        Methods = [ReturnMethod.Pickup, ReturnMethod.DropOff, ReturnMethod.Keep],
        KeepItThreshold = 10m,
        Categories = new Dictionary<string, CategoryRule> { ["electronics"] = new() { Resolutions = [Resolution.Refund] } },
    };

    private static readonly OrderFacts Order = new(Now.AddDays(-5), Now.AddDays(-3), null, null, "EUR",
    [
        new LineFacts("L1", "TEE", null, "apparel", 2, 0, 0, 20m, 0, 0, false),
        new LineFacts("L2", "PHONE", null, "electronics", 1, 0, 0, 300m, 0, 0, false),
        new LineFacts("L3", "SALE", null, "apparel", 1, 0, 0, 5m, 0, 0, true),
        new LineFacts("L4", "SOCKS", null, "apparel", 3, 0, 0, 4m, 0, 0, false),
    ]);

    private static (ReturnQuote? Quote, IReadOnlyList<Retour.Core.FieldError> Errors) Evaluate(
        IReadOnlyList<RequestedLine> lines, string? resolution = "refund", string? method = "drop_off", bool exceptions = false) =>
        ReturnRequest.Evaluate(Returnability.Evaluate(Order, Policy, Now, Berlin), lines, resolution, method, exceptions, Policy, Order, 0m, new CustomerHistory(0, 0));

    private static void AssertError((ReturnQuote? Quote, IReadOnlyList<Retour.Core.FieldError> Errors) r, string field, string contains)
    {
        Assert.Null(r.Quote);
        Assert.Contains(r.Errors, e => e.Field == field && e.Message.Contains(contains));
    }

    [Fact]
    public void ValidRequest_IsPricedAndDecided()
    {
        var (quote, errors) = Evaluate([new RequestedLine("L1", 2, "too_small", null)]);
        Assert.Empty(errors);
        Assert.Equal(40m, quote!.Estimate.Total);
        Assert.Equal(DecisionOutcome.Approved, quote.Decision.Outcome);
    }

    [Fact]
    public void NoLines_IsRefused() => AssertError(Evaluate([]), "lines", "at least one");

    [Fact]
    public void QuantityZero_IsRefused_NamingTheLine() => AssertError(Evaluate([new RequestedLine("L1", 0, "too_small", null)]), "lines[0].quantity", "'L1'");

    [Fact]
    public void QuantityOverReturnable_IsRefused_NamingTheLine() =>
        AssertError(Evaluate([new RequestedLine("L1", 3, "too_small", null)]), "lines[0].quantity", "quantity 3 is over the returnable quantity 2");

    [Fact]
    public void UnknownReason_IsRefused_ListingTheCodes() =>
        AssertError(Evaluate([new RequestedLine("L1", 1, "ugly", null)]), "lines[0].reason", "Unknown reason code 'ugly'. Use one of: too_small, too_large");

    [Fact]
    public void UnknownLine_IsRefused() => AssertError(Evaluate([new RequestedLine("L9", 1, "too_small", null)]), "lines[0].order_line_id", "'L9'");

    [Fact]
    public void SameLineTwice_IsRefused() =>
        AssertError(Evaluate([new RequestedLine("L1", 1, "too_small", null), new RequestedLine("L1", 1, "too_large", null)]), "lines[1].order_line_id", "more than once");

    [Fact]
    public void UnknownResolutionAndMethod_AreRefused()
    {
        var r = Evaluate([new RequestedLine("L1", 1, "too_small", null)], "cash", "teleport");
        AssertError(r, "resolution", "Unknown resolution 'cash'");
        AssertError(r, "method", "Unknown method 'teleport'");
    }

    [Fact]
    public void ResolutionNotOfferedForTheCategory_IsRefused() =>
        AssertError(Evaluate([new RequestedLine("L2", 1, "defective", null)], "exchange"), "resolution", "not offered for order line 'L2'");

    [Fact]
    public void FinalSaleLine_IsRefused_UnlessAnExceptionIsAllowed()
    {
        AssertError(Evaluate([new RequestedLine("L3", 1, "too_small", null)]), "lines[0]", "final_sale");
        var (quote, _) = Evaluate([new RequestedLine("L3", 1, "too_small", null)], exceptions: true);
        Assert.Equal(DecisionOutcome.PendingReview, quote!.Decision.Outcome);
    }

    [Fact]
    public void KeepIt_ForValueUnderTheThreshold_IsAccepted()
    {
        var (quote, errors) = Evaluate([new RequestedLine("L4", 2, "changed_mind", null)], method: "keep");
        Assert.Empty(errors);
        Assert.Equal(ReturnMethod.Keep, quote!.Method);
    }

    [Fact]
    public void KeepIt_ForValueAtOrOverTheThreshold_IsRefused() =>
        AssertError(Evaluate([new RequestedLine("L4", 3, "changed_mind", null)], method: "keep"), "method", "Keep-it applies below 10.00 EUR");

    [Fact]
    public void LongComment_IsRefused() =>
        AssertError(Evaluate([new RequestedLine("L1", 1, "too_small", new string('x', 2001))]), "lines[0].comment", "longer than 2000");
}
