using System.Net;
using System.Net.Http.Headers;
using Microsoft.Playwright;
using Retour.BrowserTests.Support;
using Retour.Tests.Support;
using Xunit;

namespace Retour.BrowserTests;

/// <summary>The staff console in Chromium, signed in as the demo staff (admin, agent, warehouse, analyst @demo.test).</summary>
[Collection(PortalCollection.Name)]
public sealed class ConsoleBrowserTests(PortalSite site)
{
    private static readonly object Address = new { name = "Cora Console", line1 = "Hauptstr. 1", city = "Berlin", postal_code = "10115", country = "DE" };

    /// <summary>A return in the demo shop: an expensive coat goes to review (the demo approves up to 500 EUR on its own).</summary>
    private async Task<(string Id, string Rma, string Status)> ReturnAsync(decimal price)
    {
        var number = await site.NewOrderAsync("C", new { email = "cora@example.com", name = "Cora Console", locale = "de" }, Address,
            PortalSite.Line("L1", "COAT-M", "COAT", "Wool coat", "apparel", price));
        var (status, body) = await site.Api.Post("/api/v1/returns", new
        {
            order_number = number, lines = new[] { new { order_line_id = "L1", quantity = 1, reason = "too_large", comment = "Zu groß" } },
            resolution = "refund", method = "drop_off",
        });
        Assert.True(status == HttpStatusCode.Created, body?.ToJsonString());
        return (body.Str("id"), body.Str("rma"), body.Str("status"));
    }

    /// <summary>
    /// The focus lands where <paramref name="predicate"/> (on <c>e</c>, the focused element) says. A page's autofocus is
    /// applied at the browser's next rendering opportunity after load, not at load, so this waits up to 5 s for it.
    /// </summary>
    private static async Task AssertFocusedAsync(IPage page, string predicate, string what)
    {
        try { await page.WaitForFunctionAsync($"() => {{ const e = document.activeElement; return !!e && ({predicate}); }}", null, new() { Timeout = 5000 }); }
        catch (TimeoutException)
        {
            Assert.Fail($"{what} should have the focus; it is on {await page.EvaluateAsync<string>("() => document.activeElement ? document.activeElement.outerHTML.slice(0, 160) : 'nothing'")}");
        }
    }

    [Fact]
    public async Task AnAgent_SignsIn_FiltersTheQueue_AndApprovesAPendingReturn()
    {
        var (_, rma, status) = await ReturnAsync(650m);
        Assert.Equal("pending_review", status);
        var page = await site.SignInAsync("agent");
        Assert.Contains("/console/returns", page.Url); // agents start at the queue, needs-review view
        // Filter: needs review, reason "too large", searched by the RMA.
        await page.GotoAsync("/console/returns");
        await page.CheckAsync("#f-review");
        await page.SelectOptionAsync("#f-reason", "too_large");
        await page.FillAsync("#q", rma);
        await page.ClickAsync("#apply-filters");
        await page.WaitForURLAsync(u => u.Contains("reason=too_large"));
        var rows = page.Locator("#queue tbody tr");
        Assert.Equal(1, await rows.CountAsync());
        Assert.Equal(rma, await rows.First.GetAttributeAsync("data-rma"));
        Assert.Equal("pending_review", await rows.First.GetAttributeAsync("data-status"));
        Assert.Contains("Page 1 of 1 · 1 returns", await page.InnerTextAsync("nav[aria-label='Pages']"));
        await PortalSite.ShotAsync(page, "console-queue-filtered");
        // Open it and approve.
        await page.ClickAsync($"a[href='/console/returns/{rma}']");
        await page.FillAsync("#approve-reason", "Checked the photos");
        await page.ClickAsync("#approve");
        // Approved, and for a drop-off the label is booked at once (awaiting shipment).
        await page.WaitForFunctionAsync("() => ['approved', 'awaiting_shipment'].includes(document.querySelector('#return-status').dataset.status)");
        Assert.Contains("Checked the photos", await page.InnerTextAsync("#timeline"));
        Assert.Contains("agent@demo.test", await page.InnerTextAsync("#timeline"));
        var (_, after) = await site.Api.Get($"/api/v1/returns/{rma}");
        Assert.Contains(after!["timeline"]!.AsArray(), e => e!["to"]?.GetValue<string>() == "approved" && e["actor_type"]!.GetValue<string>() == "staff");
    }

    [Fact]
    public async Task AWarehouseOperator_ReceivesAndInspects_WithTheKeyboardAlone()
    {
        var (_, rma, status) = await ReturnAsync(40m);
        Assert.Equal("approved", status);
        var page = await site.NewPageAsync();
        await page.GotoAsync("/console/login");
        await AssertFocusedAsync(page, "e.id === 'email'", "the login form's email field"); // the form starts focused
        await page.Keyboard.TypeAsync("warehouse@demo.test");
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync(BrowserApp.StaffPassword);
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync(u => u.EndsWith("/console/warehouse"));
        // A scanner types the code and Enter; the field keeps the focus.
        await AssertFocusedAsync(page, "e.id === 'scan'", "the scan field");
        await page.Keyboard.TypeAsync("RETOUR:" + rma);
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForFunctionAsync("() => document.querySelector('#scan-result').dataset.kind === 'ok'");
        Assert.Contains(rma, await page.InnerTextAsync("#scan-result"));
        Assert.Equal("rgb(30, 107, 52)", await page.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('#scan-result')).backgroundColor"));
        Assert.True(await page.EvaluateAsync<bool>("() => document.activeElement.id === 'scan'"));
        // The same parcel again: amber, "already received".
        await page.Keyboard.TypeAsync(rma);
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForFunctionAsync("() => document.querySelector('#scan-result').dataset.kind === 'again'");
        // An unknown code: red, kept as an unmatched parcel.
        await page.Keyboard.TypeAsync("1Z999NOTOURS");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForFunctionAsync("() => document.querySelector('#scan-result').dataset.kind === 'bad'");
        await PortalSite.ShotAsync(page, "console-receiving");
        // F2 opens the inspection of the last matched parcel; the first grade has the focus.
        await page.Keyboard.PressAsync("F2");
        await page.WaitForURLAsync(u => u.Contains("/console/warehouse/inspect/"));
        await AssertFocusedAsync(page, "e.dataset.field === 'grade'", "the first grade");
        await page.Keyboard.PressAsync("ArrowDown"); // "new"
        await page.Keyboard.PressAsync("ArrowDown"); // "like new"
        Assert.Equal("like_new", await page.EvaluateAsync<string>("() => document.activeElement.value"));
        // Tick every checklist question with Tab and Space.
        var questions = await page.Locator("[data-check]").CountAsync();
        Assert.True(questions > 0);
        for (var i = 0; i < questions; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            await page.Keyboard.PressAsync("Space");
        }
        await page.Keyboard.PressAsync("Tab");
        await page.Keyboard.TypeAsync("Tags on, folded");
        await page.Keyboard.PressAsync("Control+Enter");
        // The page comes back with the proposed disposition, focused; Enter on it confirms.
        await page.WaitForSelectorAsync("#disposition-form");
        await AssertFocusedAsync(page, "e.dataset.field === 'disposition'", "the proposed disposition");
        await page.Keyboard.PressAsync("Control+Enter");
        await page.WaitForSelectorAsync("#all-inspected");
        await page.WaitForFunctionAsync("() => !document.querySelector('#disposition-form')");
        var (_, ret) = await site.Api.Get($"/api/v1/returns/{rma}");
        Assert.Contains(ret.Str("status"), new[] { "inspected", "resolved", "closed" });
        var inspection = ret!["inspections"]!.AsArray().Single()!;
        Assert.Equal("like_new", inspection.Str("grade"));
        Assert.All(inspection["checklist"]!.AsObject(), kv => Assert.True(kv.Value!.GetValue<bool>()));
        Assert.Equal("confirmed", ret["dispositions"]!.AsArray().Single().Str("state"));
        // A photo of the inspected unit, from the same page; a file that is not an image is refused with the API's reason.
        var upload = page.Locator($"[data-inspection='{inspection.Str("id")}'] input[type=file]");
        await upload.SetInputFilesAsync(new FilePayload { Name = "unit.png", MimeType = "image/png", Buffer = TestImages.Png(24, 24, (90, 60, 30)) });
        await page.WaitForFunctionAsync("() => document.querySelector('[data-photo-count]').textContent.trim() === '1'");
        var (_, withPhoto) = await site.Api.Get($"/api/v1/returns/{rma}");
        Assert.Single(withPhoto!["inspections"]![0]!["photos"]!.AsArray());
        await upload.SetInputFilesAsync(new FilePayload { Name = "notes.png", MimeType = "image/png", Buffer = "not an image"u8.ToArray() });
        await page.WaitForFunctionAsync("() => document.querySelector('[data-photo-result]').classList.contains('bad')");
        // Escape goes back to receiving, ready for the next parcel.
        await page.Keyboard.PressAsync("Escape");
        await page.WaitForURLAsync(u => u.EndsWith("/console/warehouse"));
    }

    [Fact]
    public async Task AnAnalyst_SeesNoApproveButton_AndTheRequestGets403()
    {
        var (id, rma, _) = await ReturnAsync(700m);
        var page = await site.SignInAsync("analyst", "de-DE,de;q=0.9");
        await page.GotoAsync($"/console/returns/{rma}");
        Assert.Equal(0, await page.Locator("#approve").CountAsync());
        Assert.Equal(0, await page.Locator("#reject").CountAsync());
        Assert.Contains("Analyst", await page.InnerTextAsync("#read-only"));
        Assert.Equal("de", await page.GetAttributeAsync("html", "lang")); // the console in German
        // The same request the button would make, from this page with this session: refused by the API.
        var answer = await page.EvaluateAsync<int[]>(
            "async id => { const r = await fetch('/api/v1/returns/' + id + '/approve', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }); " +
            "const p = await r.json(); return [r.status, p.code === 'forbidden' ? 1 : 0]; }", id);
        Assert.Equal([403, 1], answer);
        var (_, after) = await site.Api.Get($"/api/v1/returns/{id}");
        Assert.Equal("pending_review", after.Str("status"));
    }

    [Fact]
    public async Task AUserOfOneMerchant_CannotOpenAnotherMerchantsReturn_ByItsUrl()
    {
        var other = await site.App.NewMerchantAsync();
        using var b = new HttpClient { BaseAddress = new Uri(site.BaseUrl) };
        b.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", other.ApiKey);
        var number = "B" + Random.Shared.Next(100000, 999999);
        (await b.Post("/api/v1/orders", new
        {
            number, placed_at = DateTimeOffset.UtcNow.AddDays(-8), delivered_at = DateTimeOffset.UtcNow.AddDays(-4), currency = "EUR",
            customer = new { email = "bea@example.com", name = "Bea Other" }, shipping_address = Address, shipping_total = "0",
            lines = new[] { PortalSite.Line("L1", "TEE-B", "TEE", "Other tee", "apparel", 25m) },
        })).Expect(HttpStatusCode.Created);
        var theirs = (await b.Post("/api/v1/returns", new
        {
            order_number = number, lines = new[] { new { order_line_id = "L1", quantity = 1, reason = "too_small" } }, resolution = "refund", method = "drop_off",
        })).Expect(HttpStatusCode.Created);

        var page = await site.SignInAsync("admin");
        var response = await page.GotoAsync($"/console/returns/{theirs.Str("rma")}");
        Assert.Equal(404, response!.Status);
        Assert.True(await page.Locator("#not-found").IsVisibleAsync());
        Assert.DoesNotContain("TEE-B", await page.ContentAsync());
        var api = await page.EvaluateAsync<int>("async id => (await fetch('/api/v1/returns/' + id)).status", theirs.Str("id"));
        Assert.Equal(404, api);
        // Nor in their list or search.
        await page.GotoAsync($"/console/returns?q={theirs.Str("rma")}");
        Assert.True(await page.Locator("#queue-empty").IsVisibleAsync());
    }

    [Fact]
    public async Task AnAdmin_EditsThePolicyWithALivePreviewAndTheOrderTester_AndAMessageTemplateWithItsPreview()
    {
        var number = await site.NewOrderAsync("P", new { email = "pia@example.com", name = "Pia Policy", locale = "de" }, Address,
            PortalSite.Line("L1", "TEE-P", "TEE", "Policy tee", "apparel", 30m));
        var before = (await site.Api.Get("/api/v1/policy")).Expect(HttpStatusCode.OK);
        var window = before["policy"]!["window_days"]!.GetValue<int>();
        var page = await site.SignInAsync("admin");
        await page.GotoAsync("/console/settings/policy");
        var preview = page.FrameLocator("#policy-preview");
        await preview.Locator("[data-preview]").WaitForAsync();

        // A longer window: the public page in the frame says so, in the chosen language, before anything is saved.
        await page.FillAsync("#pe-window", "75");
        await preview.Locator("text=75").First.WaitForAsync();
        Assert.Contains("\"window_days\": 75", await page.InputValueAsync("#policy-json"));
        await page.SelectOptionAsync("#preview-lang", "de");
        await preview.Locator("text=75 Tage").First.WaitForAsync();
        // Editing the JSON moves the fields; a broken document says where.
        var json = await page.InputValueAsync("#policy-json");
        await page.ClickAsync("#policy-advanced summary");
        await page.FillAsync("#policy-json", System.Text.RegularExpressions.Regex.Replace(json, "\"store_credit_bonus_percent\": \"?[0-9.]+\"?", "\"store_credit_bonus_percent\": 7"));
        Assert.Equal("7", await page.InputValueAsync("#pe-bonus"));
        await page.FillAsync("#policy-json", "{ nope");
        Assert.True(await page.Locator("#policy-errors").IsVisibleAsync());
        await page.FillAsync("#policy-json", json);

        // What would happen to this order: the deadline moves under the draft.
        await page.FillAsync("#pt-order", number);
        await page.ClickAsync("#policy-test button[type=submit]");
        var row = page.Locator("#policy-test-table tbody tr[data-line=L1]");
        await row.WaitForAsync();
        Assert.Equal("true", await row.GetAttributeAsync("data-changed"));
        await PortalSite.ShotAsync(page, "console-policy-editor");

        // A draft the API refuses shows its field error; a valid one saves as a new version (the window put back, so the shop keeps its rules).
        await page.FillAsync("#pe-window", "-3");
        await page.ClickAsync("#policy-save");
        await page.Locator("#policy-errors").WaitForAsync();
        Assert.Contains("window_days", await page.InnerTextAsync("#policy-errors"));
        await page.FillAsync("#pe-window", window.ToString());
        await page.ClickAsync("#policy-save");
        await page.WaitForFunctionAsync("() => document.querySelector('#status')?.textContent.length > 0");
        var after = (await site.Api.Get("/api/v1/policy")).Expect(HttpStatusCode.OK);
        Assert.Equal(before["version"]!.GetValue<int>() + 1, after["version"]!.GetValue<int>());
        Assert.Equal(window, after["policy"]!["window_days"]!.GetValue<int>());
        Assert.Contains("admin@demo.test", after.Str("created_by"));

        // A message template: the preview follows the typing; saving makes it the shop's own; resetting brings the default back.
        await page.GotoAsync("/console/settings/notifications");
        await page.SelectOptionAsync("#te-locale", "de");
        await page.SelectOptionAsync("#te-template", "return_approved");
        await page.WaitForFunctionAsync("() => document.querySelector('#te-subject').value.includes('{{rma}}')");
        await page.FillAsync("#te-subject", "Gute Nachricht zu {{rma}}");
        await page.WaitForFunctionAsync("() => document.querySelector('#pv-subject').textContent === 'Gute Nachricht zu RT-2025-000123'");
        await page.FillAsync("#te-body", "Hallo {{nme}}");
        await page.Locator("#te-errors").WaitForAsync();
        Assert.Contains("{{nme}}", await page.InnerTextAsync("#te-errors"));
        await page.FillAsync("#te-body", "{{greeting}}\n\nIhre Rücksendung {{rma}} ist genehmigt: {{status_url}}");
        await page.ClickAsync("#te-save");
        await page.WaitForFunctionAsync("() => document.querySelector('#te-status').textContent.length > 0");
        var saved = (await site.Api.Get("/api/v1/notification-templates/return_approved/email/de")).Expect(HttpStatusCode.OK);
        Assert.True(saved["customized"]!.GetValue<bool>());
        Assert.Equal("Gute Nachricht zu {{rma}}", saved.Str("subject"));
        await PortalSite.ShotAsync(page, "console-template-editor");
        await page.ClickAsync("#te-reset");
        await page.WaitForFunctionAsync("() => document.querySelector('#te-subject').value.startsWith('Ihre Rücksendung')");
        Assert.False((await site.Api.Get("/api/v1/notification-templates/return_approved/email/de")).Expect(HttpStatusCode.OK)["customized"]!.GetValue<bool>());
    }
}
