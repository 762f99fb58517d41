using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Retour.Core.Webhooks;
using Retour.Features.Tenancy;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

/// <summary>A host whose webhook retries come fast and that gives up after three seconds, so retry and give-up tests take seconds.</summary>
public sealed class FastWebhookApp() : RetourApp(null, new Dictionary<string, string?>
{
    ["RETOUR_WEBHOOK_RETRY_MS"] = "100", ["RETOUR_WEBHOOK_GIVE_UP_MS"] = "3000", ["RETOUR_WEBHOOK_TIMEOUT_MS"] = "1000",
    ["RETOUR_WEBHOOK_ALLOW_LOCAL"] = "true", // the test receiver listens on 127.0.0.1
});

/// <summary>A real HTTP receiver on 127.0.0.1 that records every delivery and answers with the status the test chooses.</summary>
public sealed class Receiver : IAsyncDisposable
{
    public sealed record Hit(string EventId, string EventType, string Signature, byte[] Body, int Answered);

    private readonly WebApplication _app;
    public ConcurrentQueue<Hit> Hits { get; } = new();
    /// <summary>The status for the n-th request (0-based).</summary>
    public Func<int, int> Answer { get; set; } = _ => 200;
    public string Url { get; }

    private Receiver(WebApplication app, string url) => (_app, Url) = (app, url);

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        Receiver? self = null;
        var count = -1;
        app.MapPost("/hook", async (HttpContext ctx) =>
        {
            using var ms = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(ms);
            var status = self!.Answer(Interlocked.Increment(ref count));
            self.Hits.Enqueue(new Hit(ctx.Request.Headers["Retour-Event-Id"].ToString(), ctx.Request.Headers["Retour-Event-Type"].ToString(),
                ctx.Request.Headers["Retour-Signature"].ToString(), ms.ToArray(), status));
            ctx.Response.StatusCode = status;
            await ctx.Response.WriteAsync(status == 200 ? "ok" : "receiver says no");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        self = new Receiver(app, address + "/hook");
        return self;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

/// <summary>
/// Outgoing webhooks: subscription with the secret shown once, deliveries signed as documented (verified here as a
/// receiver would), retried after a 500 with the same event id, logged, replayable, given up on and the endpoint
/// disabled after the retry window; kept within their merchant and behind their scopes; bad input gets field errors.
/// </summary>
public sealed class WebhookTests(FastWebhookApp app) : IClassFixture<FastWebhookApp>
{
    private static async Task<T> UntilAsync<T>(Func<Task<T?>> probe, string what, int seconds = 15) where T : class
    {
        for (var i = 0; i < seconds * 20; i++)
        {
            if (await probe() is { } v) return v;
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"{what} did not happen within {seconds} s");
    }

    private static async Task<string> ReturnAsync(TestMerchant m, string number)
    {
        (await m.Client.Post("/api/v1/orders", Orders.Delivered(number, Orders.Line("L1", "TEE-M", 20m, 2)))).Expect(HttpStatusCode.Created);
        return (await m.Client.Post("/api/v1/returns", Orders.ReturnOf(number))).Expect(HttpStatusCode.Created).Str("rma");
    }

    [Fact]
    public async Task Deliveries_AreSigned_RetriedAfterA500_WithTheSameEventId_Logged_AndReplayable()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.Answer = n => n < 2 ? 500 : 200; // the first two requests fail
        var m = await app.NewMerchantAsync();
        var created = (await m.Client.Post("/api/v1/webhooks", new { url = receiver.Url, events = new[] { "return.requested", "return.approved" }, description = "ERP" }))
            .Expect(HttpStatusCode.Created);
        var id = created.Str("id");
        var secret = created.Str("secret");
        Assert.StartsWith("whsec_", secret);
        var listed = (await m.Client.Get("/api/v1/webhooks")).Expect(HttpStatusCode.OK).AsArray().Single()!;
        Assert.Null(listed["secret"]); // shown once

        var rma = await ReturnAsync(m, "W-1");
        var hits = await UntilAsync(async () =>
        {
            await Task.Yield();
            var ok = receiver.Hits.Where(h => h.Answered == 200).ToList();
            return ok.Select(h => h.EventType).Distinct().Count() == 2 ? receiver.Hits.ToList() : null;
        }, "both events delivered");

        var now = DateTimeOffset.UtcNow;
        foreach (var h in hits)
        {
            Assert.Equal(WebhookSignature.Result.Valid, WebhookSignature.Verify(h.Signature, secret, h.Body, now));
            Assert.Matches("^t=[0-9]+,v1=[0-9a-f]{64}$", h.Signature);
            var body = JsonNode.Parse(h.Body)!;
            Assert.Equal(h.EventId, body.Str("id"));
            Assert.Equal(h.EventType, body.Str("type"));
            Assert.Equal(rma, body.Str("data.rma"));
            Assert.NotNull(body["created_at"]);
        }
        // The same body signed with another secret, or tampered with, does not verify.
        Assert.Equal(WebhookSignature.Result.Mismatch, WebhookSignature.Verify(hits[0].Signature, "whsec_other", hits[0].Body, now));
        Assert.Equal(WebhookSignature.Result.Mismatch, WebhookSignature.Verify(hits[0].Signature, secret, [.. hits[0].Body, (byte)' '], now));
        Assert.Equal(WebhookSignature.Result.TooOld, WebhookSignature.Verify(hits[0].Signature, secret, hits[0].Body, now.AddMinutes(10)));

        // The failed attempts were retries of the same events (same id), and the log says so.
        var failed = hits.Where(h => h.Answered == 500).ToList();
        Assert.Equal(2, failed.Count);
        Assert.All(failed, f => Assert.Contains(hits, h => h.Answered == 200 && h.EventId == f.EventId));
        // The receiver has answered; Retour records the outcome right after.
        var log = await UntilAsync(async () =>
        {
            var data = (await m.Client.Get($"/api/v1/webhooks/{id}/deliveries")).Expect(HttpStatusCode.OK)["data"]!.AsArray();
            return data.Count == 2 && data.All(d => d!.Str("status") == "delivered") ? data : null;
        }, "both deliveries logged as delivered");
        Assert.Equal(4, log.Sum(d => d!["attempts"]!.GetValue<int>()));
        var retried = log.First(d => d!["attempts"]!.GetValue<int>() > 1)!;
        Assert.Equal(200, retried["last_status_code"]!.GetValue<int>());
        var one = (await m.Client.Get($"/api/v1/webhooks/{id}/deliveries/{retried.Str("id")}")).Expect(HttpStatusCode.OK);
        Assert.Equal(retried.Str("event_id"), one.Str("payload.id"));
        var page = (await m.Client.Get($"/api/v1/webhooks/{id}/deliveries?status=delivered&limit=1")).Expect(HttpStatusCode.OK);
        Assert.Single(page["data"]!.AsArray());
        Assert.True(page["has_more"]!.GetValue<bool>()); // the log pages

        // Replay from the log: the same event again, which a receiver deduplicates by its id.
        var before = receiver.Hits.Count;
        (await m.Client.Post($"/api/v1/webhooks/{id}/deliveries/{retried.Str("id")}/replay", null)).Expect(HttpStatusCode.OK);
        var replayed = await UntilAsync(async () => { await Task.Yield(); return receiver.Hits.Skip(before).FirstOrDefault(); }, "the replay");
        Assert.Equal(retried.Str("event_id"), replayed.EventId);
    }

    [Fact]
    public async Task AnEndpointThatKeepsFailing_IsGivenUpOn_AndDisabled_AndTheMerchantIsTold()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.Answer = _ => 503;
        var m = await app.NewMerchantAsync();
        var id = (await m.Client.Post("/api/v1/webhooks", new { url = receiver.Url, events = new[] { "*" } })).Expect(HttpStatusCode.Created).Str("id");
        await ReturnAsync(m, "W-2");
        var disabled = await UntilAsync(async () =>
        {
            var e = (await m.Client.Get($"/api/v1/webhooks/{id}")).Expect(HttpStatusCode.OK);
            return e["active"]!.GetValue<bool>() ? null : e;
        }, "the endpoint disabled");
        Assert.Contains("failed", disabled.Str("disabled_reason"));
        Assert.True(receiver.Hits.Count >= 3, $"{receiver.Hits.Count} attempts");
        var log = (await m.Client.Get($"/api/v1/webhooks/{id}/deliveries?status=dead")).Expect(HttpStatusCode.OK)["data"]!.AsArray();
        Assert.NotEmpty(log);
        Assert.Equal(503, log[0]!["last_status_code"]!.GetValue<int>());
        Assert.Equal("receiver says no", log[0]!.Str("last_response"));
        var told = await app.WithDb(m.Id, db => db.OutboxMessages.CountAsync(o => o.MerchantId == m.Id && o.Type == "webhook_endpoint.disabled"));
        Assert.Equal(1, told);
        (await m.Client.Post($"/api/v1/webhooks/{id}/deliveries/{log[0]!.Str("id")}/replay", null)).Expect(HttpStatusCode.Conflict);

        // Switched back on, a replay goes out again.
        receiver.Answer = _ => 200;
        var on = (await m.Client.Send(HttpMethod.Patch, $"/api/v1/webhooks/{id}", new { active = true })).Expect(HttpStatusCode.OK);
        Assert.Null(on["disabled_reason"]);
        (await m.Client.Post($"/api/v1/webhooks/{id}/deliveries/{log[0]!.Str("id")}/replay", null)).Expect(HttpStatusCode.OK);
        for (var i = 0; i < 300 && !receiver.Hits.Any(h => h.Answered == 200); i++) await Task.Delay(50);
        Assert.True(receiver.Hits.Any(h => h.Answered == 200),
            $"the replay after re-activation did not arrive: {(await m.Client.Get($"/api/v1/webhooks/{id}/deliveries")).Body?.ToJsonString()}");
    }

    [Fact]
    public async Task WebhooksStayInTheirShop_AndBehindTheirScopes_AndBadInputGetsFieldErrors()
    {
        await using var receiver = await Receiver.StartAsync();
        var m = await app.NewMerchantAsync();
        var other = await app.NewMerchantAsync();
        var id = (await m.Client.Post("/api/v1/webhooks", new { url = receiver.Url, events = new[] { "*" } })).Expect(HttpStatusCode.Created).Str("id");
        (await other.Client.Get($"/api/v1/webhooks/{id}")).Expect(HttpStatusCode.NotFound);
        (await other.Client.Get($"/api/v1/webhooks/{id}/deliveries")).Expect(HttpStatusCode.NotFound);
        (await other.Client.Send(HttpMethod.Delete, $"/api/v1/webhooks/{id}")).Expect(HttpStatusCode.NotFound);
        Assert.Empty((await other.Client.Get("/api/v1/webhooks")).Expect(HttpStatusCode.OK).AsArray());

        // Another shop's events never reach this endpoint; this shop's do.
        var theirs = await ReturnAsync(other, "W-9");
        var ours = await ReturnAsync(m, "W-3");
        await UntilAsync(async () => { await Task.Yield(); return receiver.Hits.FirstOrDefault(h => Encoding.UTF8.GetString(h.Body).Contains(ours)); }, "our event");
        await Task.Delay(300);
        Assert.DoesNotContain(receiver.Hits, h => Encoding.UTF8.GetString(h.Body).Contains(theirs));
        // This host has no SMTP server: writing to the shopper says so instead of queueing mail that never leaves.
        Assert.Equal("email_not_configured", (await m.Client.Post($"/api/v1/returns/{ours}/messages", new { subject = "Hi", body = "A question" }))
            .Expect(HttpStatusCode.Conflict).Str("code"));

        var secret = ApiKey.NewSecret();
        await app.WithDb(m.Id, async db =>
        {
            db.ApiKeys.Add(new ApiKey { Name = "reader", Prefix = ApiKey.PrefixOf(secret), Hash = ApiKey.HashOf(secret), Scopes = "returns:read webhooks:read", CreatedAt = DateTimeOffset.UtcNow });
            return await db.SaveChangesAsync();
        });
        var reader = app.Client(secret);
        (await reader.Get("/api/v1/webhooks")).Expect(HttpStatusCode.OK);
        (await reader.Post("/api/v1/webhooks", new { url = receiver.Url, events = new[] { "*" } })).Expect(HttpStatusCode.Forbidden);
        (await reader.Post($"/api/v1/webhooks/{id}/rotate-secret", null)).Expect(HttpStatusCode.Forbidden);

        var bad = (await m.Client.Post("/api/v1/webhooks", new { url = "http://example.com/hook", events = new[] { "return.approved", "return.teleported" } }))
            .Expect(HttpStatusCode.UnprocessableEntity)["errors"]!.AsObject();
        Assert.Contains("url", bad.Select(kv => kv.Key));
        Assert.Contains("events[1]", bad.Select(kv => kv.Key));
        foreach (var url in new[] { "ftp://example.com/x", "https://user:pw@example.com/x", "https://10.0.0.5/hook", "not a url" })
            Assert.Contains("url", (await m.Client.Post("/api/v1/webhooks", new { url, events = new[] { "*" } })).Expect(HttpStatusCode.UnprocessableEntity)["errors"]!.AsObject().Select(kv => kv.Key));
        (await m.Client.Post("/api/v1/webhooks", new { url = receiver.Url, events = Array.Empty<string>() })).Expect(HttpStatusCode.UnprocessableEntity);
        (await m.Client.Post("/api/v1/webhooks", new { url = receiver.Url, events = "return.approved" })).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("return.requested", (await m.Client.Get("/api/v1/webhooks/events")).Expect(HttpStatusCode.OK).AsArray().Select(e => e!.GetValue<string>()));

        var rotated = (await m.Client.Post($"/api/v1/webhooks/{id}/rotate-secret", null)).Expect(HttpStatusCode.OK);
        Assert.StartsWith("whsec_", rotated.Str("secret"));
        (await m.Client.Send(HttpMethod.Delete, $"/api/v1/webhooks/{id}")).Expect(HttpStatusCode.NoContent);
        (await m.Client.Get($"/api/v1/webhooks/{id}")).Expect(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("https://erp.example.com/retour", false, null)]
    [InlineData("http://127.0.0.1:8080/hook", true, null)]
    [InlineData("http://127.0.0.1:8080/hook", false, "does not send webhooks to itself")]
    [InlineData("https://localhost/hook", false, "does not send webhooks to itself")]
    [InlineData("https://[::ffff:10.0.0.5]/hook", false, "private network")]
    [InlineData("https://[::ffff:169.254.169.254]/latest", false, "private network")]
    [InlineData("https://[::]/hook", false, "private network")]
    [InlineData("https://192.168.1.20/hook", false, "private network")]
    [InlineData("http://erp.example.com/retour", false, "Use https")]
    public void WebhookUrls_ArePublicHttps_UnlessThisMachineIsAllowedForDevelopment(string url, bool allowLocal, string? problem)
    {
        var found = Retour.Features.Webhooks.WebhookEndpoints.UrlProblem(url, allowLocal);
        if (problem is null) Assert.Null(found);
        else Assert.Contains(problem, found);
    }
}
