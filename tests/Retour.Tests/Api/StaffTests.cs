using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Retour.Core.Policies;
using Retour.Features.Console;
using Retour.Features.Staff;
using Retour.Tests.Support;
using Xunit;
using StaffHelp = Retour.Tests.Support.Staff;

namespace Retour.Tests.Api;

/// <summary>Staff accounts and console sessions: sign-in, lockout, TOTP, roles as API scopes, tenancy, invitations, CSRF.</summary>
public sealed class StaffTests(RetourApp app) : IClassFixture<RetourApp>
{
    private static readonly ReturnPolicy ReviewEverything = new() { AutoApproval = new AutoApprovalRules { Enabled = false } };

    private async Task<(TestMerchant M, string ReturnId, string Rma)> MerchantWithPendingReturnAsync()
    {
        var m = await app.NewMerchantAsync(ReviewEverything);
        var number = "S" + Random.Shared.Next(100000, 999999);
        (await m.Client.Post("/api/v1/orders", Orders.Delivered(number, Orders.Line("L1", "TEE-1", 30m, 2)))).Expect(HttpStatusCode.Created);
        var r = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf(number))).Expect(HttpStatusCode.Created);
        Assert.Equal("pending_review", r.Str("status"));
        return (m, r.Str("id"), r.Str("rma"));
    }

    private static string Email(string role) => $"{role}-{Guid.NewGuid():N}"[..20] + "@example.com";

    [Fact]
    public async Task EachRole_GetsItsScopes_OnTheApi_WithASession()
    {
        var (m, id, _) = await MerchantWithPendingReturnAsync();
        var clients = new Dictionary<string, HttpClient>();
        foreach (var role in StaffRoles.All)
        {
            var email = Email(role);
            await StaffHelp.AddAsync(app, m.Id, email, role);
            clients[role] = await StaffHelp.SessionAsync(app, email);
        }
        // Everyone can read the return.
        foreach (var c in clients.Values) (await c.Get($"/api/v1/returns/{id}")).Expect(HttpStatusCode.OK);
        // The analyst and the warehouse cannot decide it; the reply names the role.
        var denied = (await clients[StaffRoles.Analyst].Post($"/api/v1/returns/{id}/approve", new { })).Expect(HttpStatusCode.Forbidden);
        Assert.Equal("forbidden", denied.Str("code"));
        Assert.Contains("analyst", denied.Str("detail"));
        (await clients[StaffRoles.Warehouse].Post($"/api/v1/returns/{id}/approve", new { })).Expect(HttpStatusCode.Forbidden);
        // Only the admin manages people and keys.
        (await clients[StaffRoles.Agent].Get("/api/v1/staff")).Expect(HttpStatusCode.Forbidden);
        (await clients[StaffRoles.Admin].Get("/api/v1/staff")).Expect(HttpStatusCode.OK);
        // The warehouse may scan parcels in; the analyst may not.
        (await clients[StaffRoles.Analyst].Post("/api/v1/warehouse/receipts", new { code = "NOPE-1" })).Expect(HttpStatusCode.Forbidden);
        (await clients[StaffRoles.Warehouse].Post("/api/v1/warehouse/receipts", new { code = "NOPE-" + Guid.NewGuid().ToString("N")[..6] })).Expect(HttpStatusCode.Created);
        // The agent approves; the audit trail names the person.
        var approved = (await clients[StaffRoles.Agent].Post($"/api/v1/returns/{id}/approve", new { reason = "ok" })).Expect(HttpStatusCode.OK);
        Assert.Equal("approved", approved.Str("status"));
        var timeline = (await m.Client.Get($"/api/v1/returns/{id}")).Expect(HttpStatusCode.OK)["timeline"]!.AsArray();
        Assert.Contains(timeline, e => e!["actor_type"]!.GetValue<string>() == "staff" && e["actor"]!.GetValue<string>().StartsWith("agent-"));
        // An API key with the same scopes decides the same way: the matrix is one.
        var me = (await clients[StaffRoles.Analyst].Get("/api/v1/me")).Expect(HttpStatusCode.OK);
        Assert.Equal("session", me.Str("kind"));
        Assert.DoesNotContain("returns:write", me["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
    }

    [Fact]
    public async Task ASession_SeesOnlyItsMerchant_OnTheApiAndInTheConsole()
    {
        var (a, _, _) = await MerchantWithPendingReturnAsync();
        var (_, otherId, otherRma) = await MerchantWithPendingReturnAsync();
        var email = Email("agent");
        await StaffHelp.AddAsync(app, a.Id, email, StaffRoles.Agent);
        var c = await StaffHelp.SessionAsync(app, email);
        (await c.Get($"/api/v1/returns/{otherId}")).Expect(HttpStatusCode.NotFound);
        (await c.Post($"/api/v1/returns/{otherId}/approve", new { })).Expect(HttpStatusCode.NotFound);
        var page = await c.GetAsync($"/console/returns/{otherRma}");
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("id=\"not-found\"", html);
        Assert.DoesNotContain("shopper@example.com", html); // nothing of the other merchant's return is shown
        Assert.DoesNotContain("TEE-1", html);
        var list = (await c.Get("/api/v1/returns")).Expect(HttpStatusCode.OK)["data"]!.AsArray();
        Assert.NotEmpty(list);
        Assert.DoesNotContain(list, r => r!["id"]!.GetValue<string>() == otherId);
    }

    [Fact]
    public async Task RoleChanges_AndRemoval_TakeEffectAtTheNextRequest()
    {
        var (m, id, _) = await MerchantWithPendingReturnAsync();
        var email = Email("agent");
        var userId = await StaffHelp.AddAsync(app, m.Id, email, StaffRoles.Agent);
        var c = await StaffHelp.SessionAsync(app, email);
        (await c.Get("/api/v1/me")).Expect(HttpStatusCode.OK);
        (await m.Client.Send(HttpMethod.Patch, $"/api/v1/staff/{userId}", new { role = "analyst" })).Expect(HttpStatusCode.NoContent);
        (await c.Post($"/api/v1/returns/{id}/approve", new { })).Expect(HttpStatusCode.Forbidden);
        (await m.Client.Send(HttpMethod.Delete, $"/api/v1/staff/{userId}")).Expect(HttpStatusCode.NoContent);
        (await c.Get($"/api/v1/returns/{id}")).Expect(HttpStatusCode.Unauthorized);
        var console = await c.GetAsync("/console/returns");
        Assert.Equal(HttpStatusCode.Redirect, console.StatusCode);
        Assert.StartsWith("/console/login", console.Headers.Location!.PathAndQuery);
    }

    [Fact]
    public async Task InternalNotes_AreWrittenByAgents_ReadByAll_AndNamed()
    {
        var (m, id, rma) = await MerchantWithPendingReturnAsync();
        var agent = Email("agent");
        var analyst = Email("analyst");
        await StaffHelp.AddAsync(app, m.Id, agent, StaffRoles.Agent);
        await StaffHelp.AddAsync(app, m.Id, analyst, StaffRoles.Analyst);
        var a = await StaffHelp.SessionAsync(app, agent);
        var bad = (await a.Post($"/api/v1/returns/{id}/notes", new { body = "  " })).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.NotNull(bad["errors"]!["body"]);
        var note = (await a.Post($"/api/v1/returns/{rma}/notes", new { body = "Called the shopper: coat was a gift." })).Expect(HttpStatusCode.Created);
        Assert.Equal(agent, note.Str("author"));
        var b = await StaffHelp.SessionAsync(app, analyst);
        (await b.Post($"/api/v1/returns/{id}/notes", new { body = "x" })).Expect(HttpStatusCode.Forbidden);
        var notes = (await b.Get($"/api/v1/returns/{id}/notes")).Expect(HttpStatusCode.OK).AsArray();
        Assert.Equal("Called the shopper: coat was a gift.", Assert.Single(notes)!.Str("body"));
        Assert.Contains("Called the shopper", await b.GetStringAsync($"/console/returns/{rma}"));
        var other = await app.NewMerchantAsync();
        (await other.Client.Get($"/api/v1/returns/{id}/notes")).Expect(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TheLastAdmin_CannotBeDemotedOrRemoved()
    {
        var m = await app.NewMerchantAsync();
        var admin = await StaffHelp.AddAsync(app, m.Id, Email("admin"), StaffRoles.Admin);
        var r = (await m.Client.Send(HttpMethod.Patch, $"/api/v1/staff/{admin}", new { role = "agent" })).Expect(HttpStatusCode.Conflict);
        Assert.Equal("last_admin", r.Str("code"));
        (await m.Client.Send(HttpMethod.Delete, $"/api/v1/staff/{admin}")).Expect(HttpStatusCode.Conflict);
        var bad = (await m.Client.Send(HttpMethod.Patch, $"/api/v1/staff/{admin}", new { role = "owner" })).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.NotNull(bad["errors"]!["role"]);
    }

    [Fact]
    public async Task FiveWrongPasswords_LockTheAccount_EvenForTheRightOne()
    {
        var m = await app.NewMerchantAsync();
        var email = Email("agent");
        await StaffHelp.AddAsync(app, m.Id, email, StaffRoles.Agent);
        var c = StaffHelp.Browser(app);
        for (var i = 0; i < 5; i++)
        {
            var wrong = await StaffHelp.SignInAsync(c, email, "not-the-password");
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode); // the form again, with a message
        }
        var locked = await StaffHelp.SignInAsync(c, email);
        Assert.Equal(HttpStatusCode.OK, locked.StatusCode);
        Assert.Contains("Too many failed attempts", await locked.Content.ReadAsStringAsync());
        (await c.Get("/api/v1/me")).Expect(HttpStatusCode.Unauthorized);
        // An unknown address gets the same message as a wrong password.
        var unknown = await StaffHelp.SignInAsync(StaffHelp.Browser(app), "nobody@example.com");
        Assert.Contains("The email or password is not right.", await unknown.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TwoFactor_AsksForTheAuthenticatorCode_AndAcceptsARecoveryCodeOnce()
    {
        var m = await app.NewMerchantAsync();
        var email = Email("admin");
        await StaffHelp.AddAsync(app, m.Id, email, StaffRoles.Admin);
        string key; IReadOnlyList<string> recovery;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<StaffUser>>();
            var user = (await users.FindByEmailAsync(email))!;
            await users.ResetAuthenticatorKeyAsync(user);
            key = (await users.GetAuthenticatorKeyAsync(user))!;
            await users.SetTwoFactorEnabledAsync(user, true);
            recovery = [.. (await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 3))!];
        }
        var c = StaffHelp.Browser(app);
        var step = await StaffHelp.SignInAsync(c, email);
        Assert.Equal(HttpStatusCode.OK, step.StatusCode);
        Assert.Contains("id=\"code\"", await step.Content.ReadAsStringAsync());
        (await c.Get("/api/v1/me")).Expect(HttpStatusCode.Unauthorized); // a password alone is not a session
        var wrong = await StaffHelp.PostFormAsync(c, "/console/login?handler=Code", new Dictionary<string, string> { ["code"] = "000000" }, "/console/login");
        Assert.Contains("That code is not right", await wrong.Content.ReadAsStringAsync());
        var ok = await StaffHelp.PostFormAsync(c, "/console/login?handler=Code", new Dictionary<string, string> { ["code"] = StaffHelp.Totp(key, DateTimeOffset.UtcNow) }, "/console/login");
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        (await c.Get("/api/v1/me")).Expect(HttpStatusCode.OK);

        // A recovery code works once.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var b = StaffHelp.Browser(app);
            await StaffHelp.SignInAsync(b, email);
            var res = await StaffHelp.PostFormAsync(b, "/console/login?handler=Code", new Dictionary<string, string> { ["code"] = recovery[0] }, "/console/login");
            Assert.Equal(attempt == 0 ? HttpStatusCode.Redirect : HttpStatusCode.OK, res.StatusCode);
        }
    }

    [Fact]
    public async Task AnInvitation_MakesAMember_AndAnExistingUserGainsASecondMerchant()
    {
        var a = await app.NewMerchantAsync();
        var b = await app.NewMerchantAsync();
        var email = Email("agent");
        var invite = (await a.Client.Post("/api/v1/staff/invitations", new { email, role = "agent" })).Expect(HttpStatusCode.Created);
        var url = new Uri(invite.Str("accept_url")).PathAndQuery;
        Assert.Equal("open", invite.Str("state"));
        // Bad input is named per field.
        var bad = (await a.Client.Post("/api/v1/staff/invitations", new { email = "not an email", role = "boss" })).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.NotNull(bad["errors"]!["email"]);
        Assert.NotNull(bad["errors"]!["role"]);

        var c = StaffHelp.Browser(app);
        var mismatch = await StaffHelp.PostFormAsync(c, url, new Dictionary<string, string> { ["name"] = "Ana", ["password"] = StaffHelp.Password, ["confirm"] = "other-password-123" });
        Assert.Contains("The two passwords differ.", await mismatch.Content.ReadAsStringAsync());
        var shortPw = await StaffHelp.PostFormAsync(c, url, new Dictionary<string, string> { ["name"] = "Ana", ["password"] = "short", ["confirm"] = "short" });
        Assert.Contains("At least 10 characters.", await shortPw.Content.ReadAsStringAsync());
        var accepted = await StaffHelp.PostFormAsync(c, url, new Dictionary<string, string> { ["name"] = "Ana", ["password"] = StaffHelp.Password, ["confirm"] = StaffHelp.Password });
        Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        var me = (await c.Get("/api/v1/me")).Expect(HttpStatusCode.OK);
        Assert.Equal("agent", me.Str("role"));
        Assert.Equal(a.Id.ToString(), me.Str("merchant_id"));
        // The link is used up.
        var again = await StaffHelp.Browser(app).GetStringAsync(url);
        Assert.Contains("This invitation has been used.", again);

        // Merchant B invites the same person as analyst: they confirm with their password and now have two merchants.
        var second = (await b.Client.Post("/api/v1/staff/invitations", new { email, role = "analyst" })).Expect(HttpStatusCode.Created);
        var c2 = StaffHelp.Browser(app);
        var joined = await StaffHelp.PostFormAsync(c2, new Uri(second.Str("accept_url")).PathAndQuery, new Dictionary<string, string> { ["password"] = StaffHelp.Password });
        Assert.Equal(HttpStatusCode.Redirect, joined.StatusCode);
        Assert.Equal(b.Id.ToString(), (await c2.Get("/api/v1/me")).Expect(HttpStatusCode.OK).Str("merchant_id"));
        Assert.Equal("analyst", (await c2.Get("/api/v1/me")).Expect(HttpStatusCode.OK).Str("role"));
        // Switching to merchant A gives the agent role there; a merchant they do not belong to is refused.
        var switched = await StaffHelp.PostFormAsync(c2, "/console/switch", new Dictionary<string, string> { ["merchant"] = a.Id.ToString() }, "/console/account");
        Assert.Equal(HttpStatusCode.Redirect, switched.StatusCode);
        Assert.Equal("agent", (await c2.Get("/api/v1/me")).Expect(HttpStatusCode.OK).Str("role"));
        var stranger = await app.NewMerchantAsync();
        await StaffHelp.PostFormAsync(c2, "/console/switch", new Dictionary<string, string> { ["merchant"] = stranger.Id.ToString() }, "/console/account");
        Assert.Equal(a.Id.ToString(), (await c2.Get("/api/v1/me")).Expect(HttpStatusCode.OK).Str("merchant_id"));
        // Inviting someone who is already a member is a clear conflict.
        (await a.Client.Post("/api/v1/staff/invitations", new { email, role = "admin" })).Expect(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task ASessionCannotChangeData_FromAnotherSite()
    {
        var (m, id, _) = await MerchantWithPendingReturnAsync();
        var email = Email("agent");
        await StaffHelp.AddAsync(app, m.Id, email, StaffRoles.Agent);
        var c = await StaffHelp.SessionAsync(app, email);
        var req = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/returns/{id}/approve") { Content = JsonContent(new { }) };
        req.Headers.Add("Origin", "https://evil.example");
        var res = await c.SendAsync(req);
        Assert.Equal(HttpStatusCode.Forbidden, res.StatusCode);
        Assert.Contains("cross_site_request", await res.Content.ReadAsStringAsync());
        Assert.Equal("pending_review", (await m.Client.Get($"/api/v1/returns/{id}")).Expect(HttpStatusCode.OK).Str("status"));
        // The same request from the console's own origin goes through.
        var same = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/returns/{id}/approve") { Content = JsonContent(new { }) };
        same.Headers.Add("Origin", c.BaseAddress!.GetLeftPart(UriPartial.Authority));
        Assert.Equal(HttpStatusCode.OK, (await c.SendAsync(same)).StatusCode);
    }

    [Fact]
    public async Task ApiKeys_AreShownOnce_AndStopWorkingWhenRevoked()
    {
        var m = await app.NewMerchantAsync();
        var bad = (await m.Client.Post("/api/v1/api-keys", new { name = "", scopes = new[] { "returns:read", "everything" } })).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.NotNull(bad["errors"]!["name"]);
        Assert.Contains("everything", bad["errors"]!["scopes"]!.ToJsonString());
        var made = (await m.Client.Post("/api/v1/api-keys", new { name = "warehouse scanner", scopes = new[] { "returns:read" } })).Expect(HttpStatusCode.Created);
        var secret = made.Str("key");
        var k = app.Client(secret);
        (await k.Get("/api/v1/returns")).Expect(HttpStatusCode.OK);
        (await k.Post("/api/v1/returns/x/approve", new { })).Expect(HttpStatusCode.Forbidden);
        var listed = (await m.Client.Get("/api/v1/api-keys")).Expect(HttpStatusCode.OK).AsArray();
        Assert.DoesNotContain(secret, listed.ToJsonString());
        (await m.Client.Send(HttpMethod.Delete, $"/api/v1/api-keys/{made.Str("id")}")).Expect(HttpStatusCode.NoContent);
        (await k.Get("/api/v1/returns")).Expect(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ConsolePages_AreForSignedInStaff_AndByRole()
    {
        var m = await app.NewMerchantAsync();
        var anon = StaffHelp.Browser(app);
        var res = await anon.GetAsync("/console/returns");
        Assert.Equal(HttpStatusCode.Redirect, res.StatusCode);
        Assert.StartsWith("/console/login?return_url=", res.Headers.Location!.PathAndQuery);
        var email = Email("warehouse");
        await StaffHelp.AddAsync(app, m.Id, email, StaffRoles.Warehouse);
        var c = await StaffHelp.SessionAsync(app, email);
        Assert.Equal("/console/warehouse", (await c.GetAsync("/console")).Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("/console/warehouse")).StatusCode);
        var settings = await c.GetAsync("/console/settings");
        Assert.Equal(HttpStatusCode.Redirect, settings.StatusCode);
        Assert.StartsWith("/console/forbidden", settings.Headers.Location!.PathAndQuery);
        // A return_url pointing elsewhere is not followed after sign-in.
        var other = StaffHelp.Browser(app);
        var signed = await StaffHelp.PostFormAsync(other, "/console/login", new Dictionary<string, string>
            { ["email"] = email, ["password"] = StaffHelp.Password, ["return_url"] = "https://evil.example/" });
        Assert.Equal("/console", signed.Headers.Location!.OriginalString);
    }

    [Fact]
    public void ConsoleTexts_AreCompleteInEveryConsoleLanguage_AndEveryUsedKeyExists()
    {
        var texts = new ConsoleTexts();
        var en = texts.All("en").Keys.ToHashSet();
        foreach (var l in ConsoleTexts.Locales)
        {
            Assert.Equal(en.Order(), texts.All(l).Keys.Order());
            Assert.All(texts.All(l), kv => Assert.False(string.IsNullOrWhiteSpace(kv.Value), $"{l}:{kv.Key} is empty"));
        }
        var root = Path.Combine(RepoRoot(), "src", "Retour", "Features", "Console");
        var used = Directory.EnumerateFiles(root, "*.cs*", SearchOption.AllDirectories)
            .SelectMany(f => Regex.Matches(File.ReadAllText(f), "T\\(\"([a-z_0-9.]+)\"").Select(m => m.Groups[1].Value))
            // The dashboards' script looks its texts up with t("…").
            .Concat(Directory.EnumerateFiles(root, "*.js", SearchOption.AllDirectories)
                .SelectMany(f => Regex.Matches(File.ReadAllText(f), "\\bt\\(\"([a-z_0-9.]+)\"").Select(m => m.Groups[1].Value)))
            .Where(k => !k.EndsWith('.') && !k.EndsWith('_')).Distinct().ToList();
        Assert.True(used.Count > 150, $"only {used.Count} keys found: is the scan looking in the right place?");
        Assert.DoesNotContain(used, k => !en.Contains(k));
        // German is not English with another flag on it.
        Assert.NotEqual(texts.Get("en", "queue.bulk_approve"), texts.Get("de", "queue.bulk_approve"));
    }

    private static StringContent JsonContent(object body) => new(JsonSerializer.Serialize(body), System.Text.Encoding.UTF8, "application/json");

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Retour.slnx"))) return dir.FullName;
        throw new InvalidOperationException("No repository root");
    }
}
