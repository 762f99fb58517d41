using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Orders;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

/// <summary>Against the real Shopify payloads in shared/realdata/shopify, signed as Shopify signs them.</summary>
public sealed class ShopifyWebhookTests(RetourApp app) : IClassFixture<RetourApp>
{
    private const string Secret = "shpss_test_secret_Ünïcode";

    private static byte[] Sample(string file) => File.ReadAllBytes(RealData.Path("shopify", "orders", file));

    /// <summary>The webhook body is the inner order object, without the {"order": …} wrapper.</summary>
    private static byte[] WebhookBody(string file, Action<JsonObject>? edit = null)
    {
        var order = JsonNode.Parse(Sample(file))!["order"]!.AsObject();
        edit?.Invoke(order);
        return Encoding.UTF8.GetBytes(order.ToJsonString());
    }

    private async Task<HttpResponseMessage> Deliver(TestMerchant m, byte[] body, string topic = "orders/create", string? signature = null, string? webhookId = null, bool sign = true)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/integrations/shopify/webhooks") { Content = new ByteArrayContent(body) };
        req.Content.Headers.ContentType = new("application/json");
        req.Headers.Add("X-Shopify-Topic", topic);
        req.Headers.Add("X-Shopify-Shop-Domain", m.Slug + ".myshopify.com");
        req.Headers.Add("X-Shopify-API-Version", "2024-04");
        req.Headers.Add("X-Shopify-Webhook-Id", webhookId ?? Guid.NewGuid().ToString());
        if (sign) req.Headers.Add("X-Shopify-Hmac-Sha256", signature ?? ShopifyWebhook.Sign(body, Secret));
        return await app.Client(null).SendAsync(req);
    }

    [Fact]
    public async Task OrderCreate_WithAValidSignature_StoresTheOrder_MappedFromShopify()
    {
        var m = await app.NewMerchantAsync(shopifySecret: Secret, currency: "USD");
        var res = await Deliver(m, WebhookBody("order_test_8.json"));
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);

        var order = (await m.Client.Get("/api/v1/orders/1001")).Expect(HttpStatusCode.OK);
        Assert.Equal("450789469", order.Str("external_id"));
        Assert.Equal("shopify", order.Str("source"));
        Assert.Equal("USD", order.Str("currency"));
        Assert.Equal("bob.norman@mail.example.com", order.Str("customer.email"));
        Assert.Equal("Bob Norman", order.Str("customer.name"));
        Assert.Equal("US", order.Str("shipping_address.country"));
        Assert.Equal("2008-01-10T16:00:00Z", order.Str("placed_at"));
        var lines = order["lines"]!.AsArray();
        Assert.Equal(["466157049", "518995019", "703073504"], lines.Select(l => l!.Str("id")));
        Assert.Equal("199.00", lines[1]!.Str("unit_price"));
        Assert.Equal("3.98", lines[1]!.Str("tax"));
        Assert.Equal("3.33", lines[1]!.Str("discount"));
        // The order's refund covers 703073504 and 466157049: one unit each.
        Assert.Equal([1, 0, 1], lines.Select(l => l!["refunded_quantity"]!.GetValue<int>()));
    }

    [Fact]
    public async Task RefundsAlreadyMadeInTheStore_ReduceWhatIsReturnable()
    {
        var m = await app.NewMerchantAsync(shopifySecret: Secret, currency: "USD");
        // Mark the order delivered recently, so only the refunds decide.
        var recent = DateTimeOffset.UtcNow.AddDays(-2).ToString("O");
        (await Deliver(m, WebhookBody("order_test_8.json", o =>
        {
            o["created_at"] = DateTimeOffset.UtcNow.AddDays(-5).ToString("O");
            o["fulfillments"]!.AsArray()[0]!["shipment_status"] = "delivered";
            o["fulfillments"]!.AsArray()[0]!["updated_at"] = recent;
        }))).EnsureSuccessStatusCode();

        var lines = (await m.Client.Get("/api/v1/orders/1001/returnability")).Expect(HttpStatusCode.OK)["lines"]!.AsArray();
        Assert.Equal("already_returned", lines[0]!["reason_code"]!.GetValue<string>());
        Assert.True(lines[1]!["returnable"]!.GetValue<bool>());
        Assert.Equal("already_returned", lines[2]!["reason_code"]!.GetValue<string>());

        // refunds/create for the remaining line (refund_test_2.json: line 518995019, one unit).
        var refund = File.ReadAllBytes(RealData.Path("shopify", "refunds", "refund_test_2.json"));
        var body = Encoding.UTF8.GetBytes(JsonNode.Parse(refund)!["refund"]!.ToJsonString());
        (await Deliver(m, body, "refunds/create")).EnsureSuccessStatusCode();
        lines = (await m.Client.Get("/api/v1/orders/1001/returnability")).Expect(HttpStatusCode.OK)["lines"]!.AsArray();
        Assert.Equal("already_returned", lines[1]!["reason_code"]!.GetValue<string>());

        // The same refund again, inside an orders/updated, does not count twice.
        (await Deliver(m, WebhookBody("order_test_8.json", o =>
        {
            o["updated_at"] = DateTimeOffset.UtcNow.ToString("O");
            o["refunds"]!.AsArray().Add(JsonNode.Parse(refund)!["refund"]!.DeepClone());
        }), "orders/updated")).EnsureSuccessStatusCode();
        var order = (await m.Client.Get("/api/v1/orders/1001")).Expect(HttpStatusCode.OK);
        Assert.Equal([1, 1, 1], order["lines"]!.AsArray().Select(l => l!["refunded_quantity"]!.GetValue<int>()));
    }

    [Fact]
    public async Task SameOrderSentAgain_IsUpdated_NeverDuplicated()
    {
        var m = await app.NewMerchantAsync(shopifySecret: Secret, currency: "USD");
        (await Deliver(m, WebhookBody("order_test_8.json"))).EnsureSuccessStatusCode();
        var again = await Deliver(m, WebhookBody("order_test_11.json"), "orders/updated");
        Assert.Contains("\"updated\"", await again.Content.ReadAsStringAsync());
        Assert.Equal(1, await app.WithDb(m.Id, db => db.Orders.CountAsync()));
    }

    [Fact]
    public async Task OlderUpdateArrivingLate_IsIgnored()
    {
        var m = await app.NewMerchantAsync(shopifySecret: Secret, currency: "USD");
        (await Deliver(m, WebhookBody("order_test_11.json"))).EnsureSuccessStatusCode(); // updated_at 2024-04-02
        // order_test_13 is the cancel response: its notice says cancelled, but cancelled_at is null and its updated_at is older.
        var late = await Deliver(m, WebhookBody("order_test_13.json"), "orders/updated");
        Assert.Contains("\"stale\"", await late.Content.ReadAsStringAsync());
        var order = (await m.Client.Get("/api/v1/orders/1001")).Expect(HttpStatusCode.OK);
        Assert.Null(order["cancelled_at"]);
    }

    [Fact]
    public async Task CancelledOrder_IsNotReturnable()
    {
        var m = await app.NewMerchantAsync(shopifySecret: Secret, currency: "USD");
        (await Deliver(m, WebhookBody("order_test_8.json", o => o["cancelled_at"] = DateTimeOffset.UtcNow.ToString("O")))).EnsureSuccessStatusCode();
        var lines = (await m.Client.Get("/api/v1/orders/1001/returnability")).Expect(HttpStatusCode.OK)["lines"]!.AsArray();
        Assert.All(lines, l => Assert.Equal("order_cancelled", l!["reason_code"]!.GetValue<string>()));
    }

    [Fact]
    public async Task OrderWithoutCustomerOrAddress_IsAccepted()
    {
        var m = await app.NewMerchantAsync(shopifySecret: Secret, currency: "EUR"); // order_test_16 is in EUR
        (await Deliver(m, WebhookBody("order_test_16.json"))).EnsureSuccessStatusCode();
        var order = (await m.Client.Get("/api/v1/orders/1002")).Expect(HttpStatusCode.OK);
        Assert.Null(order["customer"]!["email"]);
        Assert.Null(order["shipping_address"]);
        Assert.Equal("EUR", order.Str("currency"));
    }

    [Fact]
    public async Task WrappedOrderObject_IsAcceptedToo()
    {
        var m = await app.NewMerchantAsync(shopifySecret: Secret, currency: "USD");
        (await Deliver(m, Sample("order.json"))).EnsureSuccessStatusCode();
        (await m.Client.Get("/api/v1/orders/1001")).Expect(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("bad")]
    [InlineData("")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]
    public async Task BadSignature_Gets401_AndNothingIsStored(string signature)
    {
        var m = await app.NewMerchantAsync(shopifySecret: Secret, currency: "USD");
        var res = await Deliver(m, WebhookBody("order_test_8.json"), signature: signature, sign: signature.Length > 0);
        Assert.Equal(HttpStatusCode.Unauthorized, res.StatusCode);
        Assert.Equal(0, await app.WithDb(m.Id, db => db.Orders.CountAsync()));
    }

    [Fact]
    public async Task SignatureOverDifferentBytes_Gets401()
    {
        var m = await app.NewMerchantAsync(shopifySecret: Secret, currency: "USD");
        var body = WebhookBody("order_test_8.json");
        var signature = ShopifyWebhook.Sign(body, Secret);
        // Same JSON, re-serialised with different whitespace: the signature is over the exact bytes received.
        var reformatted = Encoding.UTF8.GetBytes(JsonNode.Parse(body)!.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Deliver(m, reformatted, signature: signature)).StatusCode);
    }

    [Fact]
    public async Task SignedWithAnotherMerchantsSecret_Gets401()
    {
        var a = await app.NewMerchantAsync(shopifySecret: Secret, currency: "USD");
        var b = await app.NewMerchantAsync(shopifySecret: "other-secret", currency: "USD");
        var body = WebhookBody("order_test_8.json");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Deliver(b, body, signature: ShopifyWebhook.Sign(body, Secret))).StatusCode);
        Assert.Equal(0, await app.WithDb(b.Id, db => db.Orders.CountAsync()));
        Assert.Equal(0, await app.WithDb(a.Id, db => db.Orders.CountAsync()));
    }

    [Fact]
    public async Task RepeatedDelivery_WithTheSameWebhookId_IsProcessedOnce()
    {
        var m = await app.NewMerchantAsync(shopifySecret: Secret, currency: "USD");
        var id = Guid.NewGuid().ToString();
        (await Deliver(m, WebhookBody("order_test_8.json"), webhookId: id)).EnsureSuccessStatusCode();
        var again = await Deliver(m, WebhookBody("order_test_8.json"), webhookId: id);
        Assert.Contains("\"duplicate\"", await again.Content.ReadAsStringAsync());
        Assert.Equal(1, await app.WithDb(m.Id, db => db.OutboxMessages.CountAsync(x => x.MerchantId == m.Id && x.Type.StartsWith("order."))));
    }

    [Fact]
    public async Task AnOrderInAnotherCurrencyThanTheShop_IsRefused()
    {
        var m = await app.NewMerchantAsync(shopifySecret: Secret, currency: "EUR");
        var res = await Deliver(m, WebhookBody("order_test_8.json"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, res.StatusCode);
        Assert.Equal(0, await app.WithDb(m.Id, db => db.Orders.CountAsync()));
    }

    [Fact]
    public async Task UnusedTopic_IsAcknowledgedAndIgnored()
    {
        var m = await app.NewMerchantAsync(shopifySecret: Secret, currency: "USD");
        var res = await Deliver(m, Encoding.UTF8.GetBytes("{}"), "products/update");
        Assert.Contains("\"ignored\"", await res.Content.ReadAsStringAsync());
    }
}
