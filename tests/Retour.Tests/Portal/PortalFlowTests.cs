using System.Net;
using System.Text.RegularExpressions;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Portal;

/// <summary>The shopper portal over HTTP, as a browser without JavaScript uses it: forms, cookies, antiforgery tokens, redirects.</summary>
public sealed class PortalFlowTests(RetourApp app) : IClassFixture<RetourApp>
{
    private static readonly byte[] TinyJpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
        0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00, 0x11, 0x22, 0xFF, 0xD9];

    private async Task<(TestMerchant M, string Number)> ShopWithOrderAsync(string email = "ana@example.com", string? number = null)
    {
        var m = await app.NewMerchantAsync();
        number ??= "P" + Random.Shared.Next(100000, 999999);
        (await m.Client.Post("/api/v1/orders", Orders.Order(number, DateTimeOffset.UtcNow.AddDays(-6), DateTimeOffset.UtcNow.AddDays(-3), email: email,
            lines: [Orders.Line("L1", "TEE-M", 20m, 2), Orders.Line("L2", "MUG", 12m, 1, category: "home"), Orders.Line("L3", "SALE", 9m, 1, finalSale: true)])))
            .Expect(HttpStatusCode.Created);
        return (m, number);
    }

    private static string Token(string html) =>
        Regex.Match(html, "name=\"__rt\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value is { Length: > 0 } t ? t : throw new Xunit.Sdk.XunitException("No antiforgery token in the page.");

    private static async Task<(HttpStatusCode Status, string Html, string? Location)> GetPage(HttpClient c, string url)
    {
        var res = await c.GetAsync(url);
        return (res.StatusCode, await res.Content.ReadAsStringAsync(), res.Headers.Location?.ToString());
    }

    private static async Task<(HttpStatusCode Status, string Html, string? Location)> PostForm(HttpClient c, string url, string token, params (string, string)[] fields)
    {
        var res = await c.PostAsync(url, new FormUrlEncodedContent([new("__rt", token), .. fields.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2))]));
        return (res.StatusCode, await res.Content.ReadAsStringAsync(), res.Headers.Location?.ToString());
    }

    private async Task<HttpClient> SignedInAsync(TestMerchant m, string number, string contact = "ana@example.com") =>
        (await SignInAsync(m, number, contact)).Client;

    /// <summary>Signs in; also returns the session cookie as the server set it.</summary>
    private async Task<(HttpClient Client, string Cookie)> SignInAsync(TestMerchant m, string number, string contact = "ana@example.com")
    {
        var c = app.Client(null);
        var page = await GetPage(c, $"/r/{m.Slug}");
        var res = await c.PostAsync($"/r/{m.Slug}", new FormUrlEncodedContent(
            [new("__rt", Token(page.Html)), new("order_number", number), new("contact", contact)]));
        Assert.Equal(HttpStatusCode.Redirect, res.StatusCode);
        Assert.Equal($"/r/{m.Slug}/items", res.Headers.Location?.ToString());
        var cookie = res.Headers.GetValues("Set-Cookie").Single(v => v.StartsWith("retour_portal=")).Split(';')[0];
        return (c, cookie);
    }

    [Fact]
    public async Task Lookup_WrongDetails_GetOneNeutralMessage_WhetherOrNotTheOrderExists()
    {
        var (m, number) = await ShopWithOrderAsync();
        var c = app.Client(null);
        var page = await GetPage(c, $"/r/{m.Slug}");
        var wrongEmail = await PostForm(c, $"/r/{m.Slug}", Token(page.Html), ("order_number", number), ("contact", "eve@example.com"));
        var noOrder = await PostForm(c, $"/r/{m.Slug}", Token(page.Html), ("order_number", "NOPE-1"), ("contact", "ana@example.com"));
        string Message(string html) => Regex.Match(html, "id=\"lookup-error\">([^<]*)<").Groups[1].Value;
        Assert.Equal(HttpStatusCode.OK, wrongEmail.Status);
        Assert.NotEmpty(Message(wrongEmail.Html));
        Assert.Equal(Message(wrongEmail.Html), Message(noOrder.Html));
        // The order number with '#', and the email in another case, or the postal code without its space, all work.
        await SignedInAsync(m, "#" + number, "ANA@Example.com");
        await SignedInAsync(m, number, "101 15");
    }

    [Fact]
    public async Task Lookup_IsLimited_PerOrder_EvenFromManyAddresses()
    {
        var (m, number) = await ShopWithOrderAsync();
        var c = app.Client(null);
        var token = Token((await GetPage(c, $"/r/{m.Slug}")).Html);
        for (var i = 0; i < 10; i++)
            Assert.Equal(HttpStatusCode.OK, (await PostForm(c, $"/r/{m.Slug}", token, ("order_number", number), ("contact", $"guess{i}@example.com"))).Status);
        var blocked = await PostForm(c, $"/r/{m.Slug}", token, ("order_number", number), ("contact", "ana@example.com"));
        Assert.Equal(HttpStatusCode.TooManyRequests, blocked.Status);
        Assert.Matches("try again in \\d+ minutes", blocked.Html);
        // Another order is not blocked by this one's failures.
        var (_, second) = (m, await SecondOrderAsync(m));
        Assert.Equal(HttpStatusCode.Redirect, (await PostForm(c, $"/r/{m.Slug}", token, ("order_number", second), ("contact", "ana@example.com"))).Status);
    }

    private static async Task<string> SecondOrderAsync(TestMerchant m)
    {
        var number = "Q" + Random.Shared.Next(100000, 999999);
        (await m.Client.Post("/api/v1/orders", Orders.Order(number, DateTimeOffset.UtcNow.AddDays(-6), DateTimeOffset.UtcNow.AddDays(-3), email: "ana@example.com")))
            .Expect(HttpStatusCode.Created);
        return number;
    }

    [Fact]
    public async Task FullFlow_CreatesOneReturn_WithPhotosPickupAndASignedStatusLink()
    {
        var (m, number) = await ShopWithOrderAsync();
        var c = await SignedInAsync(m, number);
        var items = await GetPage(c, $"/r/{m.Slug}/items");
        Assert.Equal(HttpStatusCode.OK, items.Status);
        Assert.Contains("data-line=\"L3\" data-returnable=\"false\"", items.Html);
        Assert.Contains("final sale", items.Html);

        // Defective without a photo is refused; with a photo (and a fake one beside it) the good photo is kept.
        var form = new MultipartFormDataContent
        {
            { new StringContent(Token(items.Html)), "__rt" }, { new StringContent("1"), "select_L1" }, { new StringContent("2"), "qty_L1" },
            { new StringContent("defective"), "reason_L1" },
        };
        form.Add(new ByteArrayContent(TinyJpeg), "photos_L1", "photo.jpg");
        form.Add(new ByteArrayContent("not a photo"u8.ToArray()), "photos_L1", "evil.jpg");
        var res = await c.PostAsync($"/r/{m.Slug}/items", form);
        var html = await res.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.UnprocessableEntity, res.StatusCode);
        Assert.Contains("evil.jpg is not a JPEG, PNG or WebP photo", html);
        Assert.Single(Regex.Matches(html, "handler=photo&amp;id="));
        var next = await PostForm(c, $"/r/{m.Slug}/items", Token(html), ("select_L1", "1"), ("qty_L1", "2"), ("reason_L1", "defective"));
        Assert.Equal($"/r/{m.Slug}/options", next.Location);

        var options = await GetPage(c, $"/r/{m.Slug}/options");
        Assert.Contains("value=\"pickup\"", options.Html);
        Assert.DoesNotContain("value=\"keep\"", options.Html); // 40 € is over the default keep-it limit
        var day = Regex.Match(options.Html, "<option value=\"(\\d{4}-\\d{2}-\\d{2})\"").Groups[1].Value;
        var bad = await PostForm(c, $"/r/{m.Slug}/options", Token(options.Html), ("resolution", "refund"), ("method", "pickup"), ("pickup_date", day),
            ("addr_name", "Ana"), ("addr_line1", "Hauptstr. 1"), ("addr_city", "Berlin"), ("addr_postal_code", "1011"), ("addr_country", "DE"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, bad.Status);
        Assert.Contains("not valid for the country, for example 26133", bad.Html);
        var good = await PostForm(c, $"/r/{m.Slug}/options", Token(bad.Html), ("resolution", "refund"), ("method", "pickup"), ("pickup_date", day),
            ("addr_name", "Ana"), ("addr_line1", "Hauptstr. 1"), ("addr_city", "Berlin"), ("addr_postal_code", "10117"), ("addr_country", "de"));
        Assert.Equal($"/r/{m.Slug}/review", good.Location);

        var review = await GetPage(c, $"/r/{m.Slug}/review");
        Assert.Contains("id=\"refund-total\">€40.00", review.Html);
        var confirm = await PostForm(c, $"/r/{m.Slug}/review", Token(review.Html));
        Assert.Equal(HttpStatusCode.Redirect, confirm.Status);
        var again = await PostForm(c, $"/r/{m.Slug}/review", Token(review.Html));
        var rma = Regex.Match(confirm.Location!, "/returns/(R-[0-9A-Z]{4}-[0-9A-Z]{4})").Groups[1].Value;
        Assert.Contains($"/returns/{rma}?", again.Location);

        var list = (await m.Client.Get("/api/v1/returns")).Expect(HttpStatusCode.OK);
        Assert.Single(list["data"]!.AsArray());
        var ret = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
        Assert.Equal("pickup", ret.Str("method"));
        Assert.Equal(day, ret.Str("pickup_date"));
        Assert.Equal("10117", ret.Str("from_address.postal_code"));
        Assert.Equal("DE", ret.Str("from_address.country"));
        var photo = ret["lines"]![0]!["photos"]!.AsArray().Single()!.GetValue<string>();
        var bytes = await m.Client.GetByteArrayAsync(photo);
        Assert.Equal(TinyJpeg, bytes);

        // The signed link opens the status page with no cookie; a changed link or another shop's slug does not.
        var anonymous = app.Client(null);
        var status = await GetPage(anonymous, confirm.Location!);
        Assert.Equal(HttpStatusCode.OK, status.Status);
        Assert.Contains($"id=\"rma\">{rma}<", status.Html);
        var label = await anonymous.GetAsync(Regex.Match(status.Html, "href=\"([^\"]+/label\\?t=[^\"]+)\"").Groups[1].Value.Replace("&amp;", "&"));
        Assert.Equal("application/pdf", label.Content.Headers.ContentType!.MediaType);
        var pdf = await label.Content.ReadAsByteArrayAsync();
        Assert.StartsWith("%PDF-", System.Text.Encoding.ASCII.GetString(pdf, 0, 5));
        Assert.Contains($"Return label {rma}", System.Text.Encoding.Latin1.GetString(pdf));
        Assert.Equal(HttpStatusCode.NotFound, (await GetPage(anonymous, confirm.Location!.Replace("t=", "t=x"))).Status);
        var other = await app.NewMerchantAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await GetPage(anonymous, confirm.Location!.Replace($"/r/{m.Slug}/", $"/r/{other.Slug}/"))).Status);

        // Cancel before pickup: the units come back to the order.
        var cancel = await PostForm(anonymous, Regex.Match(status.Html, "<form[^>]*action=\"([^\"]+/cancel[^\"]*)\"").Groups[1].Value.Replace("&amp;", "&"), Token(status.Html));
        Assert.Equal(HttpStatusCode.Redirect, cancel.Status);
        Assert.Equal("cancelled", (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK).Str("status"));
        var returnability = (await m.Client.Get($"/api/v1/orders/{number}/returnability")).Expect(HttpStatusCode.OK);
        Assert.Equal(2, returnability["lines"]![0]!["returnable_quantity"]!.GetValue<int>());
    }

    [Fact]
    public async Task Session_BelongsToOneShop_AndOneOrder()
    {
        var (a, numberA) = await ShopWithOrderAsync();
        // Shop b has an order with the same number and email: the session must still not open it.
        var (b, _) = await ShopWithOrderAsync(number: numberA);
        var (c, cookie) = await SignInAsync(a, numberA);
        Assert.Equal(HttpStatusCode.OK, (await GetPage(c, $"/r/{a.Slug}/items")).Status);
        // The browser keeps the cookie to /r/{a}; sent by hand, it opens shop a's page and is refused by shop b.
        var bare = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        async Task<HttpResponseMessage> WithCookie(string url)
        {
            var req = new HttpRequestMessage(HttpMethod.Get, url);
            req.Headers.Add("Cookie", cookie);
            return await bare.SendAsync(req);
        }
        Assert.Equal(HttpStatusCode.OK, (await WithCookie($"/r/{a.Slug}/items")).StatusCode);
        var other = await WithCookie($"/r/{b.Slug}/items");
        Assert.Equal(HttpStatusCode.Redirect, other.StatusCode);
        Assert.StartsWith($"/r/{b.Slug}?expired=1", other.Headers.Location?.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await GetPage(c, "/r/no-such-shop")).Status);
    }

    [Theory]
    [InlineData("en", "Start a return")]
    [InlineData("de", "lang=\"de\" dir=\"ltr\"")]
    [InlineData("ar", "lang=\"ar\" dir=\"rtl\"")]
    [InlineData("ko", "lang=\"ko\" dir=\"ltr\"")]
    public async Task Pages_AreInTheChosenLanguage_WithNoRawKeys(string lang, string expected)
    {
        var (m, number) = await ShopWithOrderAsync();
        var c = await SignedInAsync(m, number);
        foreach (var url in new[] { $"/r/{m.Slug}?lang={lang}", $"/r/{m.Slug}/items", $"/r/{m.Slug}/policy" })
        {
            var page = await GetPage(c, url);
            Assert.Equal(HttpStatusCode.OK, page.Status);
            Assert.Contains($"lang=\"{lang}\"", page.Html);
            Assert.DoesNotMatch(new Regex("(portal|policy|status|reason|method|resolution|not_returnable)\\.[a-z_]+\\.?[a-z_]*[^\"=/a-z_]"), Regex.Replace(page.Html, "<script[\\s\\S]*?</script>|<style[\\s\\S]*?</style>", ""));
        }
        Assert.Contains(expected, (await GetPage(c, $"/r/{m.Slug}")).Html);
        // The cookie remembers the choice; Accept-Language decides when there is none.
        var fresh = app.Client(null);
        fresh.DefaultRequestHeaders.AcceptLanguage.ParseAdd("ru-RU,ru;q=0.9");
        Assert.Contains("lang=\"ru\"", (await GetPage(fresh, $"/r/{m.Slug}")).Html);
    }
}
