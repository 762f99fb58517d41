using System.Net;
using System.Text.Json.Nodes;
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
