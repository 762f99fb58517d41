using System.Net;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

/// <summary>GET and PATCH /api/v1/merchant: the shop's name, brand colour, logo and language, as the portal shows them.</summary>
public sealed class MerchantApiTests(RetourApp app) : IClassFixture<RetourApp>
{
    [Fact]
    public async Task Patch_ChangesTheBranding_ThePortalShowsIt_AndOtherShopsAreUntouched()
    {
        var m = await app.NewMerchantAsync();
        var other = await app.NewMerchantAsync();
        var before = (await m.Client.Get("/api/v1/merchant")).Expect(HttpStatusCode.OK);
        Assert.Equal(m.Slug, before.Str("slug"));
        Assert.Null(before["brand_color"]);

        var res = (await m.Client.Send(HttpMethod.Patch, "/api/v1/merchant", new { brand_color = "#FFD500", logo_url = "https://cdn.example.com/logo.png", default_locale = "de" }))
            .Expect(HttpStatusCode.OK);
        Assert.Equal("#ffd500", res.Str("brand_color"));
        Assert.Equal("https://cdn.example.com/logo.png", res.Str("logo_url"));
        Assert.Equal("de", res.Str("default_locale"));

        var page = await app.Client(null).GetStringAsync($"/r/{m.Slug}");
        Assert.Contains("<img src=\"https://cdn.example.com/logo.png\"", page);
        Assert.Contains("lang=\"de\"", page);
        // Yellow fails AA with white text, so the portal darkens it.
        Assert.DoesNotContain("--brand: #ffd500", page);
        Assert.Matches("--brand: #[0-9a-f]{6};", page);

        var untouched = (await other.Client.Get("/api/v1/merchant")).Expect(HttpStatusCode.OK);
        Assert.Equal(other.Slug, untouched.Str("slug"));
        Assert.Null(untouched["logo_url"]);
        Assert.DoesNotContain("cdn.example.com", await app.Client(null).GetStringAsync($"/r/{other.Slug}"));

        // An empty string clears.
        var cleared = (await m.Client.Send(HttpMethod.Patch, "/api/v1/merchant", new { logo_url = "" })).Expect(HttpStatusCode.OK);
        Assert.Null(cleared["logo_url"]);
        Assert.Equal("#ffd500", cleared.Str("brand_color"));
    }

    [Fact]
    public async Task Patch_RefusesBadValues_FieldByField_AndChangesNothing()
    {
        var m = await app.NewMerchantAsync();
        var (status, body) = await m.Client.Send(HttpMethod.Patch, "/api/v1/merchant",
            new { name = "", brand_color = "red", logo_url = "http://insecure.example.com/l.png", default_locale = "fr" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, status);
        var fields = body!["errors"]!.AsObject().Select(e => e.Key).ToHashSet();
        Assert.Equal(new HashSet<string> { "name", "brand_color", "logo_url", "default_locale" }, fields);
        var after = (await m.Client.Get("/api/v1/merchant")).Expect(HttpStatusCode.OK);
        Assert.StartsWith("Test shop", after.Str("name"));
        Assert.Equal("en", after.Str("default_locale"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client(null).Send(HttpMethod.Patch, "/api/v1/merchant", new { name = "x" })).Status);
    }
}
