using System.Text.Json;
using Microsoft.Playwright;
using Retour.BrowserTests.Support;
using Retour.Tests.Support;
using Xunit;

namespace Retour.BrowserTests;

/// <summary>The keyboard-only run, the neutral lookup error, photo limits (in the browser and on the server) and the language switcher.</summary>
[Collection(PortalCollection.Name)]
public sealed class PortalInteractionTests(PortalSite site)
{
    private Task<string> OrderAsync(string email, string sku = "TEE-S-BLA") => site.NewOrderAsync("K",
        new { email, name = "Kim Keys", locale = "en" },
        new { name = "Kim Keys", line1 = "Hauptstr. 1", city = "Berlin", postal_code = "10115", country = "DE" },
        PortalSite.Line("L1", sku, "TEE", "Organic cotton tee", "apparel", 19.99m, 1, new Dictionary<string, string> { ["size"] = "S", ["color"] = "black" }));

    private static async Task<string> LookupAsync(IPage page, string number, string contact)
    {
        await page.FillAsync("#order_number", number);
        await page.FillAsync("#contact", contact);
        await page.ClickAsync("form button[type=submit]");
        await page.WaitForLoadStateAsync();
        return page.Url;
    }

    /// <summary>Presses Tab until the focus is on <paramref name="selector"/>; the focused element must show a visible focus ring.</summary>
    private static async Task TabToAsync(IPage page, string selector, int max = 120)
    {
        for (var i = 0; i < max; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            if (!await page.EvaluateAsync<bool>("s => !!document.activeElement && document.activeElement.matches(s)", selector)) continue;
            var ring = await page.EvaluateAsync<string>("() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle + ' ' + s.outlineWidth; }");
            Assert.False(ring.StartsWith("none", StringComparison.Ordinal) || ring.EndsWith(" 0px", StringComparison.Ordinal), $"No visible focus on {selector}: {ring}");
            return;
        }
        throw new Xunit.Sdk.XunitException($"Tab never reached {selector} on {page.Url}");
    }

    /// <summary>Changes the focused select or radio group with the arrow keys until <paramref name="done"/> holds.</summary>
    private static async Task ArrowUntilAsync(IPage page, string done, int max = 30)
    {
        for (var i = 0; i < max; i++)
        {
            if (await page.EvaluateAsync<bool>(done)) return;
            await page.Keyboard.PressAsync("ArrowDown");
        }
        throw new Xunit.Sdk.XunitException($"Arrow keys never reached: {done}");
    }

    [Fact]
    public async Task KeyboardOnly_FromLookupToLabel()
    {
        var number = await OrderAsync("kim@example.com");
        var page = await site.NewPageAsync();
        await page.GotoAsync("/r/demo?lang=en");
        // The first Tab reaches the skip link, which becomes visible.
        await page.Keyboard.PressAsync("Tab");
        Assert.True(await page.EvaluateAsync<bool>("() => document.activeElement.classList.contains('skip')"));
        Assert.True((await page.Locator(".skip").BoundingBoxAsync())!.X >= 0);
        await TabToAsync(page, "#order_number");
        await page.Keyboard.TypeAsync(number);
        await TabToAsync(page, "#contact");
        await page.Keyboard.TypeAsync("kim@example.com");
        await page.Keyboard.PressAsync("Enter");

        await page.WaitForURLAsync("**/r/demo/items");
        await TabToAsync(page, "#select_L1");
        await page.Keyboard.PressAsync("Space");
        Assert.True(await page.IsCheckedAsync("#select_L1"));
        await TabToAsync(page, "#reason_L1");
        await ArrowUntilAsync(page, "() => document.querySelector('#reason_L1').value === 'changed_mind'");
        await PortalSite.ShotAsync(page, "keyboard-2-items");
        await TabToAsync(page, "form button[type=submit]");
        await page.Keyboard.PressAsync("Enter");

        await page.WaitForURLAsync("**/r/demo/options");
        await TabToAsync(page, "input[name=resolution]");
        await ArrowUntilAsync(page, "() => document.querySelector('#res_store_credit').checked");
        await TabToAsync(page, "input[name=method]");
        await ArrowUntilAsync(page, "() => document.querySelector('#m_drop_off').checked");
        await PortalSite.ShotAsync(page, "keyboard-3-options");
        await TabToAsync(page, "form button[type=submit]");
        await page.Keyboard.PressAsync("Enter");

        await page.WaitForURLAsync("**/r/demo/review");
        await TabToAsync(page, "#confirm");
        await page.Keyboard.PressAsync("Enter");

        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/r/demo/returns/R-"));
        var rma = await page.InnerTextAsync("#rma");
        await PortalSite.ShotAsync(page, "keyboard-5-status");
        await TabToAsync(page, "#label");
        var download = await page.RunAndWaitForDownloadAsync(() => page.Keyboard.PressAsync("Enter"));
        var path = Path.Combine(PortalSite.Screenshots, $"label-keyboard-{rma}.pdf");
        await download.SaveAsAsync(path);
        Assert.Contains(rma, Poppler.Text(path));
    }

    [Fact]
    public async Task WrongEmail_GetsTheSameNeutralMessage_AsAnOrderThatDoesNotExist()
    {
        var number = await OrderAsync("real@example.com");
        var page = await site.NewPageAsync();
        await page.GotoAsync("/r/demo?lang=en");
        await LookupAsync(page, number, "someone.else@example.com");
        var wrongEmail = await page.InnerTextAsync("#lookup-error");
        Assert.Equal("alert", await page.GetAttributeAsync("#lookup-error", "role"));
        Assert.Equal(number, await page.InputValueAsync("#order_number"));
        Assert.EndsWith("/r/demo", new Uri(page.Url).AbsolutePath);
        await PortalSite.ShotAsync(page, "lookup-wrong-email");
        await LookupAsync(page, "NO-SUCH-ORDER-1", "real@example.com");
        Assert.Equal(wrongEmail, await page.InnerTextAsync("#lookup-error"));
        Assert.Contains("could not find an order", wrongEmail);
        // The right details still work afterwards.
        await LookupAsync(page, number, "real@example.com");
        Assert.EndsWith("/r/demo/items", page.Url);
    }

    private static FilePayload Png(string name, byte shade) => new() { Name = name, MimeType = "image/png", Buffer = TestImages.Png(32, 32, (shade, 80, 120)) };

    [Fact]
    public async Task PhotoLimits_AreCheckedInTheBrowser_AndOnTheServer()
    {
        var number = await OrderAsync("pia@example.com");
        var page = await site.NewPageAsync();
        await page.GotoAsync("/r/demo?lang=en");
        await LookupAsync(page, number, "pia@example.com");
        await page.CheckAsync("#select_L1");
        await page.SelectOptionAsync("#reason_L1", "defective");
        var error = page.Locator("[data-photo-error-for=L1]");

        // In the browser: six photos, or one over 10 MB, are refused before anything is uploaded.
        await page.SetInputFilesAsync("#photos_L1", Enumerable.Range(1, 6).Select(i => Png($"p{i}.png", (byte)(i * 30))));
        Assert.Contains("at most 5 photos", await error.InnerTextAsync());
        Assert.Equal(0, await page.EvaluateAsync<int>("() => document.querySelector('#photos_L1').files.length"));
        await PortalSite.ShotAsync(page, "photos-1-too-many");
        var big = new byte[10 * 1024 * 1024 + 1];
        TestImages.Png(8, 8, (1, 2, 3)).CopyTo(big, 0);
        await page.SetInputFilesAsync("#photos_L1", new FilePayload { Name = "huge.png", MimeType = "image/png", Buffer = big });
        Assert.Contains("huge.png is larger than 10 MB", await error.InnerTextAsync());

        // Defective with no photo is refused by the server.
        await page.ClickAsync("form button[type=submit]");
        await page.WaitForSelectorAsync("text=Please add at least one photo");

        // On the server: the type is read from the bytes, so a text file named .jpg is refused and the real photo kept.
        await page.CheckAsync("#select_L1");
        await page.SelectOptionAsync("#reason_L1", "defective");
        await page.SetInputFilesAsync("#photos_L1", new[] { Png("real.png", 200), new FilePayload { Name = "notes.jpg", MimeType = "image/jpeg", Buffer = "hello"u8.ToArray() } });
        await page.ClickAsync("form button[type=submit]");
        await page.WaitForSelectorAsync("text=notes.jpg is not a JPEG, PNG or WebP photo");
        var thumbs = page.Locator("[data-line=L1] .photos img");
        Assert.Equal(1, await thumbs.CountAsync());
        Assert.True(await thumbs.First.EvaluateAsync<bool>("img => img.complete && img.naturalWidth === 32"), "The kept photo is shown.");
        await PortalSite.ShotAsync(page, "photos-2-server-checked");
        await page.ClickAsync("form button[type=submit]");
        await page.WaitForURLAsync("**/r/demo/options");

        // Without JavaScript the server enforces the count: five are kept, the sixth refused.
        var noJs = await site.NewPageAsync(javaScript: false);
        var second = await OrderAsync("pia2@example.com");
        await noJs.GotoAsync("/r/demo?lang=en");
        await LookupAsync(noJs, second, "pia2@example.com");
        await noJs.CheckAsync("#select_L1");
        await noJs.SelectOptionAsync("#reason_L1", "damaged");
        await noJs.SetInputFilesAsync("#photos_L1", Enumerable.Range(1, 6).Select(i => Png($"n{i}.png", (byte)(i * 30))));
        await noJs.ClickAsync("form button[type=submit]");
        await noJs.WaitForSelectorAsync("text=at most 5 photos");
        Assert.Equal(5, await noJs.Locator("[data-line=L1] .photos img").CountAsync());
        await PortalSite.ShotAsync(noJs, "photos-3-server-limit-no-js");
    }

    [Fact]
    public async Task LanguageSwitcher_ChangesTheLanguageOnEveryPage_AndRemembersIt()
    {
        var page = await site.NewPageAsync(acceptLanguage: "en-US,en;q=0.9");
        await page.GotoAsync("/r/demo/policy");
        foreach (var (lang, dir) in new[] { ("ar", "rtl"), ("es", "ltr"), ("ru", "ltr"), ("de", "ltr"), ("ko", "ltr"), ("en", "ltr") })
        {
            await page.ClickAsync($"nav.langs a[hreflang={lang}]");
            await page.WaitForFunctionAsync("l => document.documentElement.lang === l", lang);
            Assert.Equal(dir, await page.GetAttributeAsync("html", "dir"));
            Assert.Equal("true", await page.GetAttributeAsync($"nav.langs a[hreflang={lang}]", "aria-current"));
            await PortalSite.ShotAsync(page, $"language-{lang}-policy");
            // The choice is remembered: the start page, opened without ?lang, is in the same language.
            await page.GotoAsync("/r/demo");
            Assert.Equal(lang, await page.GetAttributeAsync("html", "lang"));
            Assert.Equal(Text(lang, "portal.lookup.title"), await page.InnerTextAsync("h1"));
            Assert.Equal(Text(lang, "portal.lookup.submit"), await page.InnerTextAsync("form button[type=submit]"));
            await page.GotoAsync("/r/demo/policy");
            Assert.True(lang == await page.GetAttributeAsync("html", "lang"), $"policy page after {lang}: {await page.GetAttributeAsync("html", "lang")} {page.Url}");
        }
    }

    private static string Text(string lang, string key)
    {
        using var stream = typeof(Program).Assembly.GetManifestResourceStream($"texts/{lang}.json")!;
        return JsonSerializer.Deserialize<Dictionary<string, string>>(stream)![key];
    }
}
