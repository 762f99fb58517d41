using System.Net;
using Retour.Core.Policies;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

public sealed class ReturnabilityApiTests(RetourApp app) : IClassFixture<RetourApp>
{
    private static readonly ReturnPolicy Policy = ReturnPolicy.Default with
    {
        WindowDays = 30,
        NonReturnableCategories = ["beauty"],
        Categories = new Dictionary<string, CategoryRule> { ["electronics"] = new() { WindowDays = 14, Resolutions = [Retour.Core.Returns.Resolution.Refund] } },
    };

    private async Task<TestMerchant> Setup(string locale = "en")
    {
        var m = await app.NewMerchantAsync(Policy);
        var now = DateTimeOffset.UtcNow;
        (await m.Client.Post("/api/v1/orders", Orders.Order("A1", now.AddDays(-10), now.AddDays(-8), locale: locale, lines:
        [
            Orders.Line("L1", "TEE", 20m, 2),
            Orders.Line("L2", "SALE", 5m, 1, finalSale: true),
            Orders.Line("L3", "SERUM", 29m, 1, "beauty"),
            Orders.Line("L4", "PHONE", 300m, 1, "electronics"),
        ]))).Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/orders", Orders.Order("A2", now.AddDays(-50), now.AddDays(-45), locale: locale))).Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/orders", Orders.Order("A3", now.AddDays(-1), null, locale: locale))).Expect(HttpStatusCode.Created);
        return m;
    }

    [Fact]
    public async Task EachLine_SaysHowManyUntilWhenAndHow_OrWhyNot()
    {
        var m = await Setup();
        var r = (await m.Client.Get("/api/v1/orders/A1/returnability")).Expect(HttpStatusCode.OK);
        var lines = r["lines"]!.AsArray();
        Assert.True(lines[0]!["returnable"]!.GetValue<bool>());
        Assert.Equal(2, lines[0]!["returnable_quantity"]!.GetValue<int>());
        Assert.NotNull(lines[0]!["deadline"]);
        Assert.Equal(["refund", "store_credit", "exchange"], lines[0]!["resolutions"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal("final_sale", lines[1]!.Str("reason_code"));
        Assert.Equal("non_returnable_category", lines[2]!.Str("reason_code"));
        Assert.Equal(["refund"], lines[3]!["resolutions"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal(1, r["policy_version"]!.GetValue<int>());

        Assert.Equal("window_passed", (await m.Client.Get("/api/v1/orders/A2/returnability")).Expect(HttpStatusCode.OK).Str("lines.0.reason_code"));
        Assert.Equal("not_delivered", (await m.Client.Get("/api/v1/orders/A3/returnability")).Expect(HttpStatusCode.OK).Str("lines.0.reason_code"));
    }

    [Theory]
    [InlineData("de", "Dieser Artikel ist vom Umtausch ausgeschlossen")]
    [InlineData("ar", "بيعًا نهائيًا")]
    [InlineData("es", "venta final")]
    [InlineData("ru", "возврату не подлежит")]
    [InlineData("ko", "반품 불가")]
    [InlineData("en", "final sale")]
    public async Task Messages_AreInTheAskedLanguage(string lang, string expected)
    {
        var m = await Setup();
        var r = (await m.Client.Get($"/api/v1/orders/A1/returnability?lang={lang}")).Expect(HttpStatusCode.OK);
        Assert.Equal(lang, r.Str("locale"));
        Assert.Contains(expected, r.Str("lines.1.message"));
    }

    [Fact]
    public async Task Language_FallsBackFromAcceptLanguageToTheCustomersToTheMerchants()
    {
        var m = await Setup(locale: "ko");
        Assert.Equal("de", (await m.Client.Get("/api/v1/orders/A2/returnability", acceptLanguage: "fr-FR, de-AT;q=0.8")).Expect(HttpStatusCode.OK).Str("locale"));
        var ko = (await m.Client.Get("/api/v1/orders/A2/returnability")).Expect(HttpStatusCode.OK);
        Assert.Equal("ko", ko.Str("locale"));
        Assert.Contains("반품 기한", ko.Str("lines.0.message"));
    }

    [Fact]
    public async Task ReturnedUnits_AreNoLongerReturnable()
    {
        var m = await Setup();
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("A1", qty: 1))).Expect(HttpStatusCode.Created);
        var line = (await m.Client.Get("/api/v1/orders/A1/returnability")).Expect(HttpStatusCode.OK)["lines"]!.AsArray()[0]!;
        Assert.Equal(1, line["returnable_quantity"]!.GetValue<int>());
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("A1", qty: 1))).Expect(HttpStatusCode.Created);
        line = (await m.Client.Get("/api/v1/orders/A1/returnability")).Expect(HttpStatusCode.OK)["lines"]!.AsArray()[0]!;
        Assert.Equal("already_returned", line.Str("reason_code"));
    }
}
