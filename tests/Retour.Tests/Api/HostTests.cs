using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

public sealed class HostTests(RetourApp app) : IClassFixture<RetourApp>
{
    [Fact]
    public async Task OpenApiDocument_DescribesTheApi()
    {
        var res = await app.Client(null).GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var doc = JsonNode.Parse(await res.Content.ReadAsStringAsync())!;
        var paths = doc["paths"]!.AsObject().Select(p => p.Key).ToHashSet();
        Assert.Superset(new HashSet<string>
        {
            "/api/v1/orders", "/api/v1/orders/{number}", "/api/v1/orders/{number}/returnability", "/api/v1/returns",
            "/api/v1/returns/{idOrRma}", "/api/v1/returns/{idOrRma}/approve", "/api/v1/returns/{idOrRma}/reject",
            "/api/v1/returns/{idOrRma}/cancel", "/api/v1/policy", "/api/v1/integrations/shopify/webhooks",
        }, paths);
        Assert.Contains("snake_case", doc["info"]!["description"]!.GetValue<string>());
        Assert.Equal("bearer", doc["components"]!["securitySchemes"]!["api_key"]!["scheme"]!.GetValue<string>());
        Assert.NotNull(doc["paths"]!["/api/v1/returns"]!["post"]!["responses"]!["201"]);
    }

    [Fact]
    public async Task Health_ReportsTheDatabase()
    {
        var res = await app.Client(null).GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("Healthy", await res.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task LiveAndReady_NameTheRole_AndTheChecks()
    {
        var live = await app.Client(null).Get("/health/live");
        Assert.Equal(HttpStatusCode.OK, live.Status);
        Assert.Equal("healthy", live.Body.Str("status"));
        Assert.Equal("all", live.Body.Str("role"));
        Assert.Empty(live.Body!["checks"]!.AsObject()); // liveness checks no dependency
        var ready = (await app.Client(null).Get("/health/ready")).Expect(HttpStatusCode.OK);
        Assert.Equal("healthy", ready.Str("status"));
        Assert.Equal(["database", "lifecycle", "schema"], ready["checks"]!.AsObject().Select(kv => kv.Key).Order().ToArray());
        Assert.StartsWith("schema version ", ready.Str("checks.schema.description"));
        Assert.Contains(":", ready.Str("instance"));
    }

    [Fact]
    public async Task UnknownRoute_IsAProblem()
    {
        var m = await app.NewMerchantAsync();
        var res = await m.Client.GetAsync("/api/v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, res.StatusCode);
        Assert.Equal("application/problem+json", res.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task ProblemTypes_ResolveToAPage()
    {
        var res = await app.Client(null).GetAsync("/problems/validation_failed");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Contains("field", await res.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SecurityHeaders_AreSent()
    {
        var res = await app.Client(null).GetAsync("/health");
        Assert.Equal("nosniff", res.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", res.Headers.GetValues("X-Frame-Options").Single());
    }
}

public sealed class RateLimitedApp() : RetourApp(null, new Dictionary<string, string?> { ["RETOUR_RATE_LIMIT"] = "2" });

public sealed class RateLimitTests(RateLimitedApp app) : IClassFixture<RateLimitedApp>
{
    [Fact]
    public async Task AKeyOverItsLimit_Gets429_WithRetryAfter()
    {
        var m = await app.NewMerchantAsync();
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 20 && limited is null; i++)
        {
            var res = await m.Client.GetAsync("/api/v1/orders");
            if (res.StatusCode == HttpStatusCode.TooManyRequests) limited = res;
        }
        Assert.NotNull(limited);
        Assert.True(limited.Headers.Contains("Retry-After"));
        Assert.Contains("rate_limited", await limited.Content.ReadAsStringAsync());
        // Another merchant's key has its own allowance.
        var other = await app.NewMerchantAsync();
        Assert.Equal(HttpStatusCode.OK, (await other.Client.GetAsync("/api/v1/orders")).StatusCode);
    }
}

public sealed class WebRoleApp() : RetourApp(null, new Dictionary<string, string?> { ["RETOUR_ROLE"] = "web", ["RETOUR_PUBLIC_URL"] = "https://returns.example.com" });

public sealed class WorkerRoleApp() : RetourApp(null, new Dictionary<string, string?> { ["RETOUR_ROLE"] = "worker", ["RETOUR_PUBLIC_URL"] = "https://returns.example.com" });

/// <summary>`retour web` serves and does no background work; `retour worker` does the background work and serves only its health.</summary>
public sealed class RoleTests(WebRoleApp web, WorkerRoleApp worker) : IClassFixture<WebRoleApp>, IClassFixture<WorkerRoleApp>
{
    [Fact]
    public async Task TheWebRole_Serves_AndLeavesTheOutboxToTheWorkers()
    {
        var m = await web.NewMerchantAsync();
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("R-1"))).Expect(HttpStatusCode.Created);
        Assert.Equal("web", (await web.Client(null).Get("/health/ready")).Expect(HttpStatusCode.OK).Str("role"));
        await Task.Delay(1500);
        // The order's event waits in the outbox: a web node publishes, a worker delivers.
        Assert.True(await web.WithDb(m.Id, db => db.OutboxMessages.AnyAsync(o => o.ProcessedAt == null && o.MerchantId == m.Id)));
    }

    [Fact]
    public void AWebOrWorkerNode_MustBeToldWhereShoppersReachRetour()
    {
        IConfiguration Config(params (string, string)[] pairs) => new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Item1, p.Item2))).Build();
        foreach (var role in new[] { "web", "worker" })
        {
            var e = Assert.Throws<InvalidOperationException>(() => Retour.Infrastructure.RetourSettings.From(Config(("RETOUR_ROLE", role), ("RETOUR_URLS", "http://127.0.0.1:7001"))));
            Assert.Contains("RETOUR_PUBLIC_URL", e.Message);
            Assert.Equal("https://r.example.com", Retour.Infrastructure.RetourSettings.From(Config(("RETOUR_ROLE", role), ("RETOUR_PUBLIC_URL", "https://r.example.com/"))).PublicUrl);
        }
        Assert.Equal("http://127.0.0.1:7001", Retour.Infrastructure.RetourSettings.From(Config(("RETOUR_URLS", "http://127.0.0.1:7001"))).PublicUrl);
        Assert.Throws<InvalidOperationException>(() => Retour.Infrastructure.RetourSettings.From(Config(("RETOUR_ROLE", "both"))));
    }

    [Fact]
    public async Task TheWorkerRole_DoesTheBackgroundWork_AndServesOnlyItsHealth()
    {
        var m = await worker.NewMerchantAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await m.Client.Get("/api/v1/returns")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await worker.Client(null).Get("/console/login")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await worker.Client(null).Get("/openapi/v1.json")).Status);
        Assert.Equal("worker", (await worker.Client(null).Get("/health/ready")).Expect(HttpStatusCode.OK).Str("role"));
        // An event written by a web node (here: straight into the outbox) is delivered by the worker.
        var id = await worker.WithDb(m.Id, async db =>
        {
            var message = db.Publish("order.created", new { order_id = Guid.NewGuid() }, DateTimeOffset.UtcNow);
            await db.SaveChangesAsync();
            return message.Id;
        });
        var processed = false;
        for (var i = 0; i < 100 && !processed; i++)
        {
            await Task.Delay(200);
            processed = await worker.WithDb(m.Id, db => db.OutboxMessages.AnyAsync(o => o.Id == id && o.ProcessedAt != null));
        }
        Assert.True(processed, worker.RecentErrors);
    }
}
