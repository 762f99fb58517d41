using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

public sealed class OrdersApiTests(RetourApp app) : IClassFixture<RetourApp>
{
    [Fact]
    public async Task CreateOrder_ThenGetIt_InRetoursOwnShape()
    {
        var m = await app.NewMerchantAsync();
        var created = (await m.Client.Post("/api/v1/orders", Orders.Delivered("1001", Orders.Line("L1", "TEE-M-BLU", 19.99m, 2, tax: 3.80m)))).Expect(HttpStatusCode.Created);
        Assert.Equal("1001", created.Str("number"));
        Assert.Equal("19.99", created.Str("lines.0.unit_price"));
        Assert.Equal("3.80", created.Str("lines.0.tax"));
        Assert.Equal("M", created.Str("lines.0.variant.size"));
        Assert.EndsWith("Z", created.Str("placed_at"));

        var got = (await m.Client.Get("/api/v1/orders/1001")).Expect(HttpStatusCode.OK);
        Assert.Equal("shopper@example.com", got.Str("customer.email"));
        Assert.Equal("DE", got.Str("shipping_address.country"));
    }

    [Fact]
    public async Task SameOrderAgain_UpdatesIt_NeverDuplicates()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("2001", Orders.Line("L1", "A", 10m)))).Expect(HttpStatusCode.Created);
        var updated = (await m.Client.Post("/api/v1/orders", Orders.Delivered("2001", Orders.Line("L1", "A", 10m), Orders.Line("L2", "B", 5m)))).Expect(HttpStatusCode.OK);
        Assert.Equal(2, updated["lines"]!.AsArray().Count);
        var count = await app.WithDb(m.Id, db => db.Orders.CountAsync(o => o.Number == "2001"));
        Assert.Equal(1, count);
    }

    [Fact]
    public async Task ListOrders_PagesWithACursor_NewestFirst()
    {
        var m = await app.NewMerchantAsync();
        for (var i = 0; i < 5; i++) (await m.Client.Post("/api/v1/orders", Orders.Delivered($"P{i}"))).Expect(HttpStatusCode.Created);
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = (await m.Client.Get("/api/v1/orders?limit=2" + (cursor is null ? "" : "&cursor=" + cursor))).Expect(HttpStatusCode.OK);
            seen.AddRange(page["data"]!.AsArray().Select(o => o!.Str("number")));
            cursor = page["next_cursor"]?.GetValue<string>();
            Assert.Equal(cursor is not null, page["has_more"]!.GetValue<bool>());
        } while (cursor is not null);
        Assert.Equal(["P4", "P3", "P2", "P1", "P0"], seen);
    }

    [Fact]
    public async Task InvalidOrder_Gets422_WithFieldErrors_AndNothingIsWritten()
    {
        var m = await app.NewMerchantAsync();
        var body = new
        {
            number = "bad/number", placed_at = (DateTimeOffset?)null, currency = "euro", customer = new { email = "not-an-email" },
            lines = new object[] { new { id = "L1", title = "", quantity = 0, unit_price = "-1" }, new { id = "L1", title = "x", quantity = 1, unit_price = "1" } },
        };
        var problem = (await m.Client.Post("/api/v1/orders", body)).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("/problems/validation_failed", problem.Str("type"));
        var errors = problem["errors"]!.AsObject().Select(kv => kv.Key).ToHashSet();
        Assert.Superset(new HashSet<string> { "number", "placed_at", "currency", "customer.email", "lines[0].title", "lines[0].quantity", "lines[0].unit_price", "lines[1].id" }, errors);
        Assert.Equal(0, await app.WithDb(m.Id, db => db.Orders.CountAsync()));
    }

    [Fact]
    public async Task MalformedJson_Gets400()
    {
        var m = await app.NewMerchantAsync();
        var problem = (await m.Client.Post("/api/v1/orders", "{\"number\": \"1\", ")).Expect(HttpStatusCode.BadRequest);
        Assert.Equal("malformed_json", problem.Str("code"));
    }

    [Fact]
    public async Task WrongType_Gets400_NamingTheField()
    {
        var m = await app.NewMerchantAsync();
        var problem = (await m.Client.Post("/api/v1/orders", """{"number":"1","lines":[{"id":"L1","quantity":"many"}]}""")).Expect(HttpStatusCode.BadRequest);
        Assert.Contains("lines[0].quantity", problem["errors"]!.AsObject().Select(kv => kv.Key));
    }

    [Fact]
    public async Task BodyOverOneMegabyte_Gets413()
    {
        var m = await app.NewMerchantAsync();
        var big = "{\"number\":\"" + new string('x', 1024 * 1024 + 10) + "\"}";
        var problem = (await m.Client.Post("/api/v1/orders", big)).Expect(HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("payload_too_large", problem.Str("code"));
    }

    [Fact]
    public async Task BodyOverOneMegabyte_WithoutContentLength_Gets413()
    {
        var m = await app.NewMerchantAsync();
        var bytes = Encoding.UTF8.GetBytes("{\"number\":\"" + new string('x', 1024 * 1024 + 10) + "\"}");
        using var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders") { Content = new StreamContent(new NoLengthStream(bytes)) };
        req.Content.Headers.ContentType = new("application/json");
        var res = await m.Client.SendAsync(req);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, res.StatusCode);
    }

    [Fact]
    public async Task UnknownOrder_Gets404Problem()
    {
        var m = await app.NewMerchantAsync();
        var problem = (await m.Client.Get("/api/v1/orders/NOPE")).Expect(HttpStatusCode.NotFound);
        Assert.Equal("application/problem+json", (await m.Client.GetAsync("/api/v1/orders/NOPE")).Content.Headers.ContentType!.MediaType);
        Assert.Equal(404, problem["status"]!.GetValue<int>());
    }

    /// <summary>A stream of unknown length, so the request is sent chunked.</summary>
    private sealed class NoLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
