using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Security;
using Retour.Features.Carriers;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

/// <summary>
/// POST /api/v1/tracking/{provider}/{slug}: real provider payloads (../shared/realdata) re-addressed to a parcel the sandbox
/// carrier booked on approval, signed as each provider signs; the return follows the parcel, never backwards.
/// </summary>
public sealed class TrackingWebhookTests(RetourApp app) : IClassFixture<RetourApp>
{
    private const string AfterShipSecret = "aftership-secret-0123456789";
    private const string EasyPostSecret = "ｅａｓｙｐｏｓｔ-secret-0123456789"; // full-width: the key is its NFKD form
    private const string ShippoToken = "shippo-token-0123456789abcdef";
    private const string BatchSecret = "batch-secret-0123456789abcdef";

    private async Task<TestMerchant> ShopAsync()
    {
        var m = await app.NewMerchantAsync();
        await app.WithDb(m.Id, async db =>
        {
            db.Carriers.Add(new Carrier { Code = "sbx", Name = "Sandbox Express", Services = "pickup,drop_off", CreatedAt = DateTimeOffset.UtcNow });
            return await db.SaveChangesAsync();
        });
        var patched = (await m.Client.Send(HttpMethod.Patch, "/api/v1/merchant",
            new { aftership_secret = AfterShipSecret, easypost_secret = EasyPostSecret, shippo_token = ShippoToken, sandbox_secret = BatchSecret })).Expect(HttpStatusCode.OK);
        Assert.All(patched["tracking_webhooks"]!.AsArray(), w => Assert.True(w!["configured"]!.GetValue<bool>()));
        Assert.DoesNotContain(AfterShipSecret, patched.ToJsonString());
        return m;
    }

    /// <summary>A return approved on creation; the sandbox books it from the outbox. Returns its RMA and tracking number.</summary>
    private static async Task<(string Rma, string Tracking)> BookedReturnAsync(TestMerchant m, string number)
    {
        (await m.Client.Post("/api/v1/orders", Orders.Delivered(number))).Expect(HttpStatusCode.Created);
        var rma = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf(number))).Expect(HttpStatusCode.Created).Str("rma");
        for (var i = 0; i < 200; i++)
        {
            var ret = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
            // The return and its shipment are two reads; the booking may commit between them, so wait for both.
            if (ret["shipment"] is JsonObject s && ret.Str("status") == "awaiting_shipment")
            {
                Assert.Equal("sbx", s.Str("carrier"));
                Assert.Equal("drop_off", s.Str("service"));
                Assert.Equal("info_received", s.Str("status"));
                Assert.Equal("LABEL", s["events"]![0]!.Str("raw_code"));
                return (rma, s.Str("tracking_number"));
            }
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"The sandbox carrier did not book {rma} (a shipment and awaiting_shipment) within 10 s.");
    }

    private static byte[] AfterShipBody(string tracking)
    {
        var t = JsonNode.Parse(File.ReadAllBytes(RealData.Path("tracking", "aftership", "api_responses", "GetTrackingResult.json")))!["data"]!["tracking"]!;
        t["tracking_number"] = tracking;
        // Pretty-printed on purpose: the signature is over these exact bytes.
        return Encoding.UTF8.GetBytes(new JsonObject { ["event"] = "tracking_update", ["msg"] = t.DeepClone() }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body)> PostAfterShip(string slug, byte[] body, string? signature)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/tracking/aftership/{slug}") { Content = new ByteArrayContent(body) };
        req.Content.Headers.ContentType = new("application/json");
        if (signature is not null) req.Headers.Add("aftership-hmac-sha256", signature);
        var res = await app.Client(null).SendAsync(req);
        var text = await res.Content.ReadAsStringAsync();
        return (res.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null);
    }

    private Task<int> EventCount(TestMerchant m) => app.WithDb(m.Id, db => db.TrackingEvents.CountAsync());

    [Fact]
    public async Task AfterShip_SignedEvents_MoveTheReturnToDelivered_OnceEach_AndBadSignaturesStoreNothing()
    {
        var m = await ShopAsync();
        var (rma, tracking) = await BookedReturnAsync(m, "T-1");
        var body = AfterShipBody(tracking);
        var before = await EventCount(m);
        Assert.Equal(1, await app.WithDb(m.Id, db => db.OutboxMessages.CountAsync(x => x.MerchantId == m.Id && x.Type == "shipment.requested")));

        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAfterShip(m.Slug, body, null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAfterShip(m.Slug, body, WebhookSignatures.Base64Hmac(body, "wrong-secret-0123456789"))).Status);
        var tampered = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("\"Picked up\"", "\"Picked uq\""));
        Assert.NotEqual(body, tampered);
        var (status, problem) = await PostAfterShip(m.Slug, tampered, WebhookSignatures.Base64Hmac(body, AfterShipSecret));
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_signature", problem.Str("code"));
        Assert.Equal(before, await EventCount(m));

        var ack = (await PostAfterShip(m.Slug, body, WebhookSignatures.Base64Hmac(body, AfterShipSecret))).Expect(HttpStatusCode.OK);
        var received = ack["received"]!.GetValue<int>();
        Assert.True(received >= 5);
        Assert.Equal(received, ack["stored"]!.GetValue<int>());
        Assert.Equal("stored", ack.Str("status"));

        var again = (await PostAfterShip(m.Slug, body, WebhookSignatures.Base64Hmac(body, AfterShipSecret))).Expect(HttpStatusCode.OK);
        Assert.Equal(0, again["stored"]!.GetValue<int>());
        Assert.Equal(received, again["duplicates"]!.GetValue<int>());
        Assert.Equal(before + received, await EventCount(m));

        var ret = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
        Assert.Equal("delivered", ret.Str("status"));
        Assert.Equal("delivered", ret.Str("shipment.status"));
        var events = ret["shipment"]!["events"]!.AsArray();
        Assert.Contains(events, e => e!["raw_code"]!.GetValue<string>() == "FPX_L_RPIF|InTransit_002|InTransit" && e["status"]!.GetValue<string>() == "picked_up"
                                     && e["message"]!.GetValue<string>() == "Picked up");
        var moves = ret["timeline"]!.AsArray().Where(e => e!["action"]!.GetValue<string>() == "status_changed").Select(e => e!["to"]!.GetValue<string>()).ToList();
        Assert.Equal(["approved", "awaiting_shipment", "in_transit", "delivered"], moves[^4..]);
        Assert.Equal("application/pdf", (await m.Client.GetAsync(ret.Str("shipment.label_url"))).Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task EasyPost_OutOfOrder_IsRecorded_ButNeverMovesBack()
    {
        var m = await ShopAsync();
        var (rma, tracking) = await BookedReturnAsync(m, "T-2");
        async Task<JsonNode> Send(string status, string at)
        {
            var tracker = JsonNode.Parse(File.ReadAllBytes(RealData.Path("tracking", "easypost", "docs__responses__trackers__trackers-retrieve.json")))!;
            tracker["tracking_code"] = tracking;
            tracker["status"] = status;
            tracker["tracking_details"] = new JsonArray(new JsonObject
            {
                ["object"] = "TrackingDetail", ["message"] = "Scan " + status, ["status"] = status, ["status_detail"] = "status_update", ["datetime"] = at,
                ["source"] = "USPS", ["carrier_code"] = "",
            });
            var body = Encoding.UTF8.GetBytes(new JsonObject { ["object"] = "Event", ["description"] = "tracker.updated", ["result"] = tracker }.ToJsonString());
            var req = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/tracking/easypost/{m.Slug}") { Content = new ByteArrayContent(body) };
            req.Headers.Add("X-Hmac-Signature", WebhookSignatures.EasyPost(body, "easypost-secret-0123456789")); // the NFKD form of the stored secret
            var res = await app.Client(null).SendAsync(req);
            Assert.Equal(HttpStatusCode.OK, res.StatusCode);
            return JsonNode.Parse(await res.Content.ReadAsStringAsync())!;
        }
        await Send("delivered", "2026-11-20T10:00:00Z");
        await Send("in_transit", "2026-11-19T10:00:00Z"); // older, arrives later
        await Send("in_transit", "2026-11-21T10:00:00Z"); // newer, but behind delivered
        var ret = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
        Assert.Equal("delivered", ret.Str("status"));
        Assert.Equal("delivered", ret.Str("shipment.status"));
        Assert.Equal(4, ret["shipment"]!["events"]!.AsArray().Count); // the booking's LABEL and the three scans
    }

    [Fact]
    public async Task Shippo_TokenInTheUrl_AndExceptionsFlagTheReturnForSupport()
    {
        var m = await ShopAsync();
        var (rma, tracking) = await BookedReturnAsync(m, "T-3");
        var track = JsonNode.Parse(File.ReadAllBytes(RealData.Path("tracking", "shippo", "track_test_get_status.decoded.json")))!;
        track["tracking_number"] = tracking;
        track["tracking_history"] = new JsonArray();
        track["tracking_status"] = new JsonObject
        {
            ["object_id"] = "evt-failure-1", ["status"] = "FAILURE", ["status_details"] = "Package damaged in transit", ["status_date"] = "2026-11-20T08:00:00Z",
            ["substatus"] = new JsonObject { ["code"] = "package_damaged", ["text"] = "Package damaged", ["action_required"] = true },
        };
        var body = new StringContent(new JsonObject { ["event"] = "track_updated", ["test"] = true, ["data"] = track }.ToJsonString(), Encoding.UTF8, "application/json");
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client(null).PostAsync($"/api/v1/tracking/shippo/{m.Slug}?token=wrong", body)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client(null).PostAsync($"/api/v1/tracking/shippo/{m.Slug}", body)).StatusCode);
        var res = await app.Client(null).PostAsync($"/api/v1/tracking/shippo/{m.Slug}?token={ShippoToken}", body);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        var ret = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
        Assert.Contains("tracking_exception", ret["flags"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal("damaged", ret.Str("shipment.incident"));
        Assert.Equal("awaiting_shipment", ret.Str("status")); // an exception flags, it does not move the return
        var e = ret["shipment"]!["events"]!.AsArray().Single(x => x!["message"]!.GetValue<string>() == "Package damaged in transit")!;
        Assert.Equal("exception", e.Str("status"));
        Assert.Equal("package_damaged|FAILURE", e.Str("raw_code"));
    }

    [Fact]
    public async Task AnotherShopsSecret_OrParcel_GetsNothing()
    {
        var a = await ShopAsync();
        var b = await app.NewMerchantAsync();
        (await b.Client.Send(HttpMethod.Patch, "/api/v1/merchant", new { aftership_secret = "b-secret-0123456789abcdef" })).Expect(HttpStatusCode.OK);
        var (rma, tracking) = await BookedReturnAsync(a, "T-4");
        var body = AfterShipBody(tracking);
        // B's secret does not open A's endpoint.
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAfterShip(a.Slug, body, WebhookSignatures.Base64Hmac(body, "b-secret-0123456789abcdef"))).Status);
        // B, correctly signed, cannot reach A's parcel: tracking numbers are looked up within the shop only.
        var ack = (await PostAfterShip(b.Slug, body, WebhookSignatures.Base64Hmac(body, "b-secret-0123456789abcdef"))).Expect(HttpStatusCode.OK);
        Assert.Equal("unmatched", ack.Str("status"));
        Assert.Equal(0, ack["stored"]!.GetValue<int>());
        Assert.Equal("awaiting_shipment", (await a.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK).Str("status"));
        // B has no carriers: its approved returns ask for no booking at all (the relay skips them by type).
        (await b.Client.Post("/api/v1/orders", Orders.Delivered("B-1"))).Expect(HttpStatusCode.Created);
        Assert.Equal("approved", (await b.Client.Post("/api/v1/returns", Orders.ReturnOf("B-1"))).Expect(HttpStatusCode.Created).Str("status"));
        Assert.Equal(0, await app.WithDb(b.Id, db => db.OutboxMessages.CountAsync(x => x.MerchantId == b.Id && x.Type == "shipment.requested")));
        Assert.Equal(1, await app.WithDb(b.Id, db => db.OutboxMessages.CountAsync(x => x.MerchantId == b.Id && x.Type == "return.approved")));
        // A shop with no secret set for a provider refuses it; an unknown provider is a 404.
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client(null).PostAsync($"/api/v1/tracking/shippo/{b.Slug}?token=", new StringContent("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client(null).PostAsync($"/api/v1/tracking/dhl/{b.Slug}", new StringContent("{}"))).StatusCode);
        // Bad JSON with a good signature is a 400 that says why.
        var bad = "{\"msg\": {\"checkpoints\": []}}"u8.ToArray();
        var (status, problem) = await PostAfterShip(b.Slug, bad, WebhookSignatures.Base64Hmac(bad, "b-secret-0123456789abcdef"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("tracking_number", problem.Str("detail"));
    }

    [Fact]
    public async Task SignedBatches_StoreEachEventOnce_AcrossParcels_AndABadSignatureStoresNothing()
    {
        var m = await ShopAsync();
        var (rma1, t1) = await BookedReturnAsync(m, "B-1");
        var (rma2, t2) = await BookedReturnAsync(m, "B-2");
        var at = DateTimeOffset.UtcNow.AddHours(-5);
        object Parcel(string number, params (string Id, string Code, int Hours)[] events) => new
        {
            tracking_number = number, carrier = "sbx",
            events = events.Select(e => new { id = e.Id, code = e.Code, message = "Scan " + e.Code, occurred_at = at.AddHours(e.Hours).ToString("O"), location = "Hub" }),
        };
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new
        {
            trackings = new[]
            {
                Parcel(t1, ("e1", "DROP_SCAN", 0), ("e2", "HUB_IN", 1), ("e2", "HUB_IN", 1), ("e3", "DLV", 3)),
                Parcel(t2, ("e1", "DROP_SCAN", 0)),
                Parcel("SBXUNKNOWN", ("x", "HUB_IN", 0)),
            },
        });
        async Task<(HttpStatusCode, JsonNode?)> Post(byte[] b, string? signature)
        {
            var req = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/tracking/sandbox/{m.Slug}") { Content = new ByteArrayContent(b) };
            if (signature is not null) req.Headers.Add("X-Retour-Signature", signature);
            var res = await app.Client(null).SendAsync(req);
            var text = await res.Content.ReadAsStringAsync();
            return (res.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, (await Post(body, WebhookSignatures.Batch(body, "wrong-secret-0123456789"))).Item1);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Post(body, null)).Item1);
        Assert.Equal(0, await EventCount(m) - 2); // only the two bookings' LABEL events

        var ack = (await Post(body, WebhookSignatures.Batch(body, BatchSecret))).Expect(HttpStatusCode.OK);
        Assert.Equal(6, ack["received"]!.GetValue<int>());
        Assert.Equal(4, ack["stored"]!.GetValue<int>());
        Assert.Equal(1, ack["duplicates"]!.GetValue<int>());
        Assert.Equal(1, ack["unmatched"]!.GetValue<int>());
        var again = (await Post(body, WebhookSignatures.Batch(body, BatchSecret))).Expect(HttpStatusCode.OK);
        Assert.Equal(0, again["stored"]!.GetValue<int>());
        Assert.Equal("delivered", (await m.Client.Get($"/api/v1/returns/{rma1}")).Expect(HttpStatusCode.OK).Str("status"));
        Assert.Equal("in_transit", (await m.Client.Get($"/api/v1/returns/{rma2}")).Expect(HttpStatusCode.OK).Str("status"));
    }
}
