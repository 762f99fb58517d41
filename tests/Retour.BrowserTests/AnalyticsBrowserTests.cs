using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Retour.BrowserTests.Support;
using Retour.Features.Demo;
using Retour.Tests.Support;
using Xunit;

namespace Retour.BrowserTests;

/// <summary>The dashboards in Chromium over a generated history of the demo shop: figures, Chart.js charts, drill-down, CSV, what-if and roles.</summary>
[Collection(PortalCollection.Name)]
public sealed class AnalyticsBrowserTests(PortalSite site)
{
    /// <summary>Returns with an apparel line created from <paramref name="from"/> (the shop's local day, Europe/Berlin in the demo).</summary>
    private async Task<int> ApparelReturnsInDbAsync(Guid merchantId, DateOnly from)
    {
        var start = Retour.Core.Policies.Returnability.StartOfDay(from, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
        return await site.App.WithDb(merchantId, db => db.Returns.CountAsync(r => r.CreatedAt >= start && r.Lines.Any(l => l.Category == "apparel")));
    }

    [Fact]
    public async Task AnAnalyst_SeesTheDashboards_DrillsFromABreakdownToItsReturns_AndRunsAWhatIf_WhileAnAgentCannotOpenThem()
    {
        await site.App.Services.GetRequiredService<DemoGenerator>().RunAsync(new GenerateOptions("demo", 300, Months: 3, ChunkReturns: 150), null, default);
        var merchantId = await site.App.WithDb(Guid.Empty, db => db.Merchants.Where(m => m.Slug == "demo").Select(m => m.Id).SingleAsync());

        // The cells follow the raw rows through the outbox; wait until the API's apparel count is the database's.
        var (_, summary) = await site.Api.Get("/api/v1/analytics/summary");
        var from = DateOnly.Parse(summary.Str("from"), CultureInfo.InvariantCulture);
        long apiApparel = -1, dbApparel = -2;
        for (var i = 0; i < 150 && apiApparel != dbApparel; i++)
        {
            if (i > 0) await Task.Delay(100);
            var (_, cats) = await site.Api.Get($"/api/v1/analytics/breakdown?dimension=category&from={summary.Str("from")}&to={summary.Str("to")}");
            apiApparel = cats!["rows"]!.AsArray().FirstOrDefault(r => r.Str("key") == "apparel")?["returns"]?.GetValue<long>() ?? 0;
            dbApparel = await ApparelReturnsInDbAsync(merchantId, from);
        }
        Assert.Equal(dbApparel, apiApparel);
        Assert.True(apiApparel > 20, $"only {apiApparel} apparel returns");
        (_, summary) = await site.Api.Get("/api/v1/analytics/summary");

        var page = await site.SignInAsync("analyst");
        Assert.Equal(1, await page.Locator("nav.main a[href='/console/analytics']").CountAsync());
        await page.GotoAsync("/console/analytics");
        await page.WaitForSelectorAsync("#analytics[data-loaded=true]");
        Assert.True(await page.Locator("#analytics-error").IsHiddenAsync(), await page.InnerTextAsync("#analytics-error"));

        // KPIs are the API's figures, formatted for the reader.
        Assert.Equal(summary!["returns"]!.GetValue<long>().ToString("N0", CultureInfo.GetCultureInfo("en-GB")),
            await page.InnerTextAsync("[data-kpi=returns] .value"));
        Assert.EndsWith("%", await page.InnerTextAsync("[data-kpi=return_rate_units] .value"));
        Assert.StartsWith("€", await page.InnerTextAsync("[data-kpi=refund_total] .value"));
        // Chart.js (served from the build's vendored copy, not a CDN) drew the trend, the breakdown and the funnel.
        var drawn = await page.EvaluateAsync<int[]>("() => ['trend-chart', 'breakdown-chart', 'funnel-chart'].map(id => { const c = Chart.getChart(document.getElementById(id)); return c ? c.data.labels.length : -1; })");
        Assert.All(drawn, n => Assert.True(n > 0, string.Join(",", drawn)));
        Assert.Equal(200, (await page.APIRequest.GetAsync("/console/assets/chart.umd.min.js")).Status);
        // The funnel's waits have their p50 and p90.
        Assert.Equal(6, await page.Locator("#funnel-table tbody tr[data-key]").CountAsync());
        // Insights answer with rows of data (an error or "nothing" is a row without a key): sizing, suppliers with their
        // RTV value, the carrier scorecard, serial returners and the shoppers' words.
        foreach (var table in new[] { "sizing", "suppliers", "carriers", "serial", "words" })
            Assert.True(await page.Locator($"#{table}-table tbody tr[data-key]").CountAsync() > 0, table + ": " + await page.InnerTextAsync($"#{table}-table tbody"));
        Assert.Equal(1, await page.Locator("#suppliers-table tbody tr[data-key=voltco]").CountAsync());
        await PortalSite.ShotAsync(page, "console-analytics");

        // Break down by category: the apparel row's figure, its CSV, and the returns behind it.
        await page.ClickAsync("#breakdown-dims button[data-dimension=category]");
        var apparel = page.Locator("#breakdown-table tbody tr[data-key=apparel]");
        await apparel.WaitForAsync();
        Assert.Equal(apiApparel.ToString("N0", CultureInfo.GetCultureInfo("en-GB")), await apparel.Locator("td").Nth(1).InnerTextAsync());
        var csvHref = await page.GetAttributeAsync("#breakdown-csv", "href");
        Assert.Contains("dimension=category", csvHref);
        var csv = await page.EvaluateAsync<string>("async url => (await fetch(url)).text()", csvHref);
        Assert.StartsWith("key,returns,units,value,rate", csv);
        Assert.Contains("\napparel," + apiApparel + ",", csv);
        await apparel.Locator("a.drill").ClickAsync();
        await page.WaitForURLAsync(u => u.Contains("/console/returns") && u.Contains("category=apparel"));
        Assert.Contains("Category: apparel", await page.InnerTextAsync("#drill-filters"));
        var pages = await page.InnerTextAsync("nav[aria-label='Pages']");
        Assert.Contains($"· {apiApparel.ToString("N0", CultureInfo.GetCultureInfo("en-GB"))} returns", pages);

        // What-if: the form starts as the policy in force, so replaying it unchanged changes nothing.
        await page.GotoAsync("/console/analytics");
        await page.WaitForSelectorAsync("#analytics[data-loaded=true]");
        await page.FillAsync("#w-months", "6");
        await page.ClickAsync("#whatif-run");
        await page.WaitForSelectorAsync("#whatif-table:not([hidden])");
        foreach (var measure in new[] { "returns", "refund_total", "fees_total" })
        {
            var same = await page.Locator($"#whatif-table tr[data-measure={measure}] td").AllInnerTextsAsync();
            Assert.True(same[1] == same[2], measure + ": " + string.Join(" | ", same));
        }
        // A 7-day window keeps fewer returns than the policy in force.
        await page.EvaluateAsync("() => document.querySelector('#whatif-table').hidden = true");
        await page.FillAsync("#w-window", "7");
        await page.FillAsync("#w-months", "6");
        await page.ClickAsync("#whatif-run");
        await page.WaitForSelectorAsync("#whatif-table:not([hidden])");
        var cells = await page.Locator("#whatif-table tr[data-measure=returns] td").AllInnerTextsAsync();
        long Count(string s) => long.Parse(s.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
        Assert.True(Count(cells[2]) < Count(cells[1]), string.Join(" | ", cells));
        Assert.Contains("replayed", await page.InnerTextAsync("#whatif-notes"));
        // Bad input is a readable message, not a broken page.
        await page.FillAsync("#w-months", "99");
        await page.ClickAsync("#whatif-run");
        await page.WaitForSelectorAsync("#whatif-error:not([hidden])");
        Assert.Contains("months", await page.InnerTextAsync("#whatif-error"));
        await PortalSite.ShotAsync(page, "console-analytics-whatif");

        // An agent has no analytics: no link, and the page sends them to "not allowed".
        var agent = await site.SignInAsync("agent");
        Assert.Equal(0, await agent.Locator("nav.main a[href='/console/analytics']").CountAsync());
        await agent.GotoAsync("/console/analytics");
        Assert.Contains("/console/forbidden", agent.Url);
        var status = await agent.EvaluateAsync<int>("async () => (await fetch('/api/v1/analytics/summary')).status");
        Assert.Equal(403, status);
    }
}
