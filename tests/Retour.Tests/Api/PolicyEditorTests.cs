using System.Net;
using System.Text.Json;
using Retour.Core.Policies;
using Retour.Features.Console;
using Retour.Tests.Support;
using Xunit;
using StaffHelp = Retour.Tests.Support.Staff;

namespace Retour.Tests.Api;

/// <summary>
/// The policy editor's server side: "what would happen to this order" under a draft (nothing saved, field errors for a
/// bad draft, only the merchant's own orders), and the public page previewed under a draft, only for that shop's staff.
/// </summary>
public sealed class PolicyEditorTests(RetourApp app) : IClassFixture<RetourApp>
{
    private static System.Text.Json.Nodes.JsonNode Draft(ReturnPolicy p) =>
        System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.Serialize(p, Retour.Infrastructure.Http.Json.Options))!;

    [Fact]
    public async Task TheOrderTester_JudgesAnOrderUnderADraft_WithoutSavingIt()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/orders", Orders.Order("PT-1", DateTimeOffset.UtcNow.AddDays(-20), DateTimeOffset.UtcNow.AddDays(-15)))).Expect(HttpStatusCode.Created);
        var versions = (await m.Client.Get("/api/v1/policy")).Expect(HttpStatusCode.OK)["version"]!.GetValue<int>();

        // Today it can come back (30 days); under a 10-day draft it cannot.
        var check = (await m.Client.Post("/api/v1/policy/check", new { order_number = "PT-1", policy = Draft(ReturnPolicy.Default with { WindowDays = 10 }) })).Expect(HttpStatusCode.OK);
        var line = check["lines"]![0]!;
        Assert.True(line["current"]!["returnable"]!.GetValue<bool>());
        Assert.False(line["draft"]!["returnable"]!.GetValue<bool>());
        Assert.Equal("window_passed", line["draft"].Str("reason_code"));
        Assert.True(line["changed"]!.GetValue<bool>());
        Assert.Equal(1, check["changed"]!.GetValue<int>());
        // A day in the past: the draft's 10 days had not run out then.
        var earlier = (await m.Client.Post("/api/v1/policy/check", new { order_number = "PT-1", policy = Draft(ReturnPolicy.Default with { WindowDays = 10 }), at = DateTimeOffset.UtcNow.AddDays(-12) }))
            .Expect(HttpStatusCode.OK);
        Assert.True(earlier["lines"]![0]!["draft"]!["returnable"]!.GetValue<bool>());
        // Without a draft: the current policy on both sides, nothing changes.
        Assert.Equal(0, (await m.Client.Post("/api/v1/policy/check", new { order_number = "PT-1" })).Expect(HttpStatusCode.OK)["changed"]!.GetValue<int>());
        Assert.Equal(versions, (await m.Client.Get("/api/v1/policy")).Expect(HttpStatusCode.OK)["version"]!.GetValue<int>());

        var bad = (await m.Client.Post("/api/v1/policy/check", new { policy = Draft(ReturnPolicy.Default with { WindowDays = -1 }) })).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.NotNull(bad["errors"]!["order_number"]);
        Assert.NotNull(bad["errors"]!["policy.window_days"]);
        (await m.Client.Post("/api/v1/policy/check", new { order_number = "PT-1", policy = new { window_days = 10, teleport = true } })).Expect(HttpStatusCode.UnprocessableEntity);
        var other = await app.NewMerchantAsync();
        (await other.Client.Post("/api/v1/policy/check", new { order_number = "PT-1" })).Expect(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ThePublicPage_PreviewsADraft_OnlyForTheShopsOwnStaff()
    {
        var m = await app.NewMerchantAsync();
        var admin = $"pe.{Guid.NewGuid():N}@example.com";
        await StaffHelp.AddAsync(app, m.Id, admin, "admin");
        var session = await StaffHelp.SessionAsync(app, admin);
        var draft = JsonSerializer.Serialize(ReturnPolicy.Default with { WindowDays = 61 }, Retour.Infrastructure.Http.Json.Options);
        var url = $"/r/{m.Slug}/policy?handler=Preview&lang=en";

        var res = await StaffHelp.PostFormAsync(session, url, new Dictionary<string, string> { ["policy"] = draft }, tokenFrom: "/console/settings/policy");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var html = await res.Content.ReadAsStringAsync();
        Assert.Contains("data-preview", html);
        Assert.Contains("61 days", html);
        Assert.Contains("frame-ancestors 'self'", res.Headers.GetValues("Content-Security-Policy").Single());
        // The public page itself still shows the saved policy.
        Assert.DoesNotContain("61 days", await app.Client(null).GetStringAsync($"/r/{m.Slug}/policy?lang=en"));
        // A broken draft lists its problems instead of a page.
        var broken = await StaffHelp.PostFormAsync(session, url, new Dictionary<string, string> { ["policy"] = "{\"window_days\": -4}" }, tokenFrom: "/console/settings/policy");
        Assert.Contains("data-preview-errors", await broken.Content.ReadAsStringAsync());

        // Another shop's staff, and nobody signed in, get nothing.
        var other = await app.NewMerchantAsync();
        var stranger = $"pe.{Guid.NewGuid():N}@example.com";
        await StaffHelp.AddAsync(app, other.Id, stranger, "admin");
        var theirs = await StaffHelp.SessionAsync(app, stranger);
        var refused = await StaffHelp.PostFormAsync(theirs, url, new Dictionary<string, string> { ["policy"] = draft }, tokenFrom: "/console/settings/policy");
        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        // Signed in elsewhere, by session or by key, the shop's public pages are still the shop's.
        Assert.Equal(HttpStatusCode.OK, (await theirs.GetAsync($"/r/{m.Slug}/policy?lang=en")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await other.Client.GetAsync($"/r/{m.Slug}/policy?lang=en")).StatusCode);
        var anonymous = StaffHelp.Browser(app);
        var anon = await StaffHelp.PostFormAsync(anonymous, url, new Dictionary<string, string> { ["policy"] = draft }, tokenFrom: $"/r/{m.Slug}");
        Assert.Equal(HttpStatusCode.NotFound, anon.StatusCode);

        // The settings pages are the admin's: an agent is sent to the forbidden page.
        var agentEmail = $"pa.{Guid.NewGuid():N}@example.com";
        await StaffHelp.AddAsync(app, m.Id, agentEmail, "agent");
        var agent = await StaffHelp.SessionAsync(app, agentEmail);
        foreach (var page in new[] { "/console/settings/policy", "/console/settings/logistics", "/console/settings/notifications" })
        {
            var r = await agent.GetAsync(page);
            Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
            Assert.Contains("/console/forbidden", r.Headers.Location!.ToString());
            Assert.Equal(HttpStatusCode.OK, (await session.GetAsync(page)).StatusCode);
        }
    }
}
