using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Retour.BrowserTests.Support;
using Retour.Tests.Support;
using Xunit;

namespace Retour.BrowserTests;

/// <summary>
/// The shopper portal in headless Chromium, end to end against the real host and the demo shop: as a shopper clicks,
/// types and downloads. Each step leaves a screenshot under artifacts/screenshots/.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class PortalBrowserTests(PortalSite site)
{
    private static readonly Dictionary<string, string> Blue = new() { ["size"] = "M", ["color"] = "blue" };

    private Task<string> GermanOrderAsync(string email) => site.NewOrderAsync("B",
        new { email, name = "Sam Shopper", locale = "en" },
        new { name = "Sam Shopper", line1 = "Hauptstr. 1", city = "Berlin", postal_code = "10115", country = "DE" },
        PortalSite.Line("L1", "TEE-M-BLU", "TEE", "Organic cotton tee", "apparel", 19.99m, 2, Blue),
        PortalSite.Line("L2", "TEE-OUT-M-ORA", "TEE-OUT", "Clearance tee", "apparel", 7.50m, 1, finalSale: true));

    private static async Task FindOrderAsync(IPage page, string number, string contact)
    {
        await page.FillAsync("#order_number", number);
        await page.FillAsync("#contact", contact);
        await page.ClickAsync("form button[type=submit]");
    }

    private static async Task<string> DownloadLabelAsync(IPage page, string rma)
    {
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#label"));
        var path = Path.Combine(PortalSite.Screenshots, $"label-{rma}.pdf");
        await download.SaveAsAsync(path);
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.Equal("%PDF-", System.Text.Encoding.ASCII.GetString(bytes, 0, 5));
        Assert.Contains(rma, Poppler.Text(path));
        return path;
    }

    [Fact]
    public async Task FullFlow_InEnglish_ExchangeWithPickup_EndsWithARmaAndALabel()
    {
        var number = await GermanOrderAsync("sam.en@example.com");
        var page = await site.NewPageAsync();
        await page.GotoAsync("/r/demo?lang=en");
        Assert.Equal("ltr", await page.GetAttributeAsync("html", "dir"));
        // The demo shop's uploaded logo loads (a broken image has naturalWidth 0).
        Assert.Equal(128, await page.EvalOnSelectorAsync<int>("header.brand img", "i => i.complete ? i.naturalWidth : -1"));
        await PortalSite.ShotAsync(page, "en-1-find-order");
        await FindOrderAsync(page, "#" + number, "Sam.EN@example.com");

        await page.WaitForURLAsync("**/r/demo/items");
        var finalSale = page.Locator("[data-line=L2]");
        Assert.Equal("false", await finalSale.GetAttributeAsync("data-returnable"));
        Assert.Contains("final sale", await finalSale.InnerTextAsync());
        Assert.Contains("You can return this item until", await page.Locator("[data-line=L1]").InnerTextAsync());
        await page.CheckAsync("#select_L1");
        await page.SelectOptionAsync("#qty_L1", "2");
        // Sub-reasons follow the reason: hidden until a reason that has them is chosen.
        Assert.False(await page.IsVisibleAsync("#sub_L1"));
        await page.SelectOptionAsync("#reason_L1", "too_small");
        Assert.True(await page.IsVisibleAsync("#sub_L1"));
        await page.SelectOptionAsync("#sub_L1", "too_tight");
        await page.FillAsync("#comment_L1", "Tight around the shoulders.");
        await PortalSite.ShotAsync(page, "en-2-items");
        await page.ClickAsync("form button[type=submit]");

        await page.WaitForURLAsync("**/r/demo/options");
        Assert.Contains("10%", await page.Locator(".option:has(#res_store_credit)").InnerTextAsync());
        await page.CheckAsync("#res_exchange");
        // The size and colour picker lists the product's variants with their stock; sold-out ones cannot be picked.
        var variants = page.Locator("input[name=exchange_L1]");
        Assert.Equal(12, await variants.CountAsync());
        foreach (var v in await variants.AllAsync())
        {
            var stock = await page.InnerTextAsync($"label[for='{await v.GetAttributeAsync("id")}'] span");
            Assert.Equal(stock == "Out of stock", await v.IsDisabledAsync());
        }
        await page.CheckAsync("#ex_L1_TEE-L-BLU");
        await page.CheckAsync("#m_pickup");
        Assert.Equal("10115", await page.InputValueAsync("#addr_postal_code"));
        Assert.Equal("Hauptstr. 1", await page.InputValueAsync("#addr_line1"));
        // A postcode that is not German is refused with the country's example, and the form keeps what was typed.
        await page.FillAsync("#addr_postal_code", "1011");
        await page.FillAsync("#addr_line2", "Hinterhaus, 2. OG");
        await page.ClickAsync("form button[type=submit]");
        await page.WaitForSelectorAsync("#err_addr_postal_code");
        Assert.Contains("26133", await page.InnerTextAsync("#err_addr_postal_code"));
        Assert.Equal("Hinterhaus, 2. OG", await page.InputValueAsync("#addr_line2"));
        Assert.True(await page.IsCheckedAsync("#ex_L1_TEE-L-BLU"));
        await PortalSite.ShotAsync(page, "en-3-options-postcode-error");
        await page.FillAsync("#addr_postal_code", "10117");
        var pickupDay = (await page.Locator("#pickup_date option").AllInnerTextsAsync())[1];
        await page.SelectOptionAsync("#pickup_date", new SelectOptionValue { Index = 1 });
        await PortalSite.ShotAsync(page, "en-3-options");
        await page.ClickAsync("form button[type=submit]");

        await page.WaitForURLAsync("**/r/demo/review");
        var review = await page.InnerTextAsync("main");
        Assert.Contains("Organic cotton tee", review);
        Assert.Contains("Too tight", review);
        Assert.Contains("TEE-L-BLU", review);
        Assert.Contains(pickupDay, review);
        Assert.Contains("10117", review);
        await PortalSite.ShotAsync(page, "en-4-review");
        await page.ClickAsync("#confirm");

        await page.WaitForURLAsync(new Regex("/r/demo/returns/R-[0-9A-Z]{4}-[0-9A-Z]{4}\\?t="));
        var rma = await page.InnerTextAsync("#rma");
        Assert.Matches("^R-[0-9A-Z]{4}-[0-9A-Z]{4}$", rma);
        Assert.Contains("Thank you", await page.InnerTextAsync("main"));
        Assert.True(await page.Locator("main ol li").CountAsync() >= 2, "Step-by-step instructions are shown.");
        await PortalSite.ShotAsync(page, "en-5-status");
        await DownloadLabelAsync(page, rma);

        // The API sees what the shopper chose.
        var ret = (await site.Api.Get($"/api/v1/returns/{rma}")).Expect(System.Net.HttpStatusCode.OK);
        Assert.Equal("exchange", ret.Str("resolution"));
        Assert.Equal("TEE-L-BLU", ret.Str("lines.0.exchange_sku"));
        Assert.Equal("too_tight", ret.Str("lines.0.sub_reason"));
        Assert.Equal("10117", ret.Str("from_address.postal_code"));

        // The status link works in another browser, with no session.
        var other = await site.NewPageAsync();
        await other.GotoAsync(page.Url);
        Assert.Equal(rma, await other.InnerTextAsync("#rma"));
    }

    [Fact]
    public async Task FullFlow_InArabic_IsRightToLeft_WithNoEnglishText_AndAShapedLabel()
    {
        var number = await site.NewOrderAsync("A",
            new { email = "layla@example.com", name = "ليلى حسن", locale = "ar" },
            new { name = "ليلى حسن", line1 = "شارع الشيخ زايد ١٢", city = "دبي", region = "دبي", country = "AE", phone = "+971501234567" },
            PortalSite.Line("L1", "DRESS-M-SAN", "DRESS", "Linen summer dress", "apparel", 89m, 1, new Dictionary<string, string> { ["size"] = "M", ["color"] = "sand" }));
        var page = await site.NewPageAsync(acceptLanguage: "ar-AE,ar;q=0.9");
        await page.GotoAsync("/r/demo");
        Assert.Equal("rtl", await page.GetAttributeAsync("html", "dir"));
        Assert.Equal("ar", await page.GetAttributeAsync("html", "lang"));
        var data = new[] { "Demo Outfitters", "Linen summer dress", "DRESS", "sand", "UPS", "DHL Paket", "Hermes", number, "layla@example.com", "PDF", "QR", "JPEG", "PNG", "WebP", "green" };
        await AssertNoEnglishAsync(page, data);
        await PortalSite.ShotAsync(page, "ar-1-find-order");
        await FindOrderAsync(page, number, "layla@example.com");

        await page.WaitForURLAsync("**/r/demo/items");
        await AssertNoEnglishAsync(page, data);
        await page.CheckAsync("#select_L1");
        await page.SelectOptionAsync("#reason_L1", "too_large");
        await page.SelectOptionAsync("#sub_L1", "too_long");
        await page.FillAsync("#comment_L1", "الفستان طويل جداً");
        await AssertNoEnglishAsync(page, data);
        // Logical CSS: in right-to-left the checkbox sits on the right of its label.
        var box = (await page.Locator("#select_L1").BoundingBoxAsync())!;
        var label = (await page.Locator("label[for=select_L1]").BoundingBoxAsync())!;
        Assert.True(box.X > label.X, "The checkbox is on the right in Arabic.");
        await PortalSite.ShotAsync(page, "ar-2-items");
        await page.ClickAsync("form button[type=submit]");

        await page.WaitForURLAsync("**/r/demo/options");
        await page.CheckAsync("#res_refund");
        await page.CheckAsync("#m_pickup");
        Assert.Equal("شارع الشيخ زايد ١٢", await page.InputValueAsync("#addr_line1"));
        await AssertNoEnglishAsync(page, data);
        await PortalSite.ShotAsync(page, "ar-3-options");
        await page.ClickAsync("form button[type=submit]");

        await page.WaitForURLAsync("**/r/demo/review");
        await AssertNoEnglishAsync(page, data);
        await PortalSite.ShotAsync(page, "ar-4-review");
        await page.ClickAsync("#confirm");

        await page.WaitForURLAsync(new Regex("/r/demo/returns/R-"));
        var rma = await page.InnerTextAsync("#rma");
        await AssertNoEnglishAsync(page, [.. data, rma]);
        await PortalSite.ShotAsync(page, "ar-5-status");
        var pdf = await DownloadLabelAsync(page, rma);
        // The label's Arabic is drawn as joined letter forms (Arabic presentation forms), in an order that reads back as the address.
        var text = Poppler.Text(pdf);
        Assert.Contains("\uFEA9\uFE91\uFEF2", text); // دبي: dal, initial beh, final yeh
        Assert.Contains("شارع الشيخ زايد", text.Normalize(System.Text.NormalizationForm.FormKC));
    }

    /// <summary>
    /// No English text leaks into a page in another language: no English interface string appears in it, and every
    /// Latin word on it is shop data (names, products, order and return numbers, carriers).
    /// </summary>
    private static async Task AssertNoEnglishAsync(IPage page, IEnumerable<string> data)
    {
        var text = await page.EvaluateAsync<string>("""
            () => {
              const c = document.body.cloneNode(true);
              c.querySelectorAll('nav.langs, script, style').forEach(e => e.remove());
              const attrs = [...c.querySelectorAll('[alt],[title],[placeholder],[aria-label]')]
                .flatMap(e => ['alt', 'title', 'placeholder', 'aria-label'].map(a => e.getAttribute(a) || ''));
              const options = [...c.querySelectorAll('optgroup')].map(g => g.label);
              return [c.textContent, document.title, ...attrs, ...options].join('\n');
            }
            """);
        foreach (var english in EnglishInterfaceTexts.Value)
            Assert.False(text.Contains(english, StringComparison.Ordinal), $"English text \"{english}\" on {page.Url}");
        var allowed = data.SelectMany(d => Regex.Matches(d, "[A-Za-z]+").Select(m => m.Value)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var latin = Regex.Matches(text, "[A-Za-z]{2,}").Select(m => m.Value).Where(w => !allowed.Contains(w)).Distinct().ToList();
        Assert.True(latin.Count == 0, $"Latin words on {page.Url}: {string.Join(", ", latin)}");
    }

    /// <summary>The English interface texts (placeholders cut out), from the resource file the host serves.</summary>
    private static readonly Lazy<IReadOnlyList<string>> EnglishInterfaceTexts = new(() =>
    {
        using var stream = typeof(Program).Assembly.GetManifestResourceStream("texts/en.json")!;
        var texts = JsonSerializer.Deserialize<Dictionary<string, string>>(stream)!;
        return texts.Where(kv => !kv.Key.StartsWith("language.", StringComparison.Ordinal))
            .SelectMany(kv => Regex.Split(kv.Value, "\\{[a-z_]+\\}"))
            .Select(s => s.Trim(' ', '.', ',', ':', '(', ')', '—', '-'))
            .Where(s => s.Length >= 6 && s.Contains(' '))
            .Distinct().ToList();
    });
}
