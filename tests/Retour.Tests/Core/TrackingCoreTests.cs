using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Retour.Core.Returns;
using Retour.Core.Security;
using Retour.Core.Tracking;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Core;

/// <summary>Tracking in Retour.Core: provider payloads from ../shared/realdata, signatures as documented, the map and the rules.</summary>
public sealed class TrackingCoreTests
{
    private static byte[] Real(params string[] parts) => File.ReadAllBytes(RealData.Path(parts));

    [Fact]
    public void AfterShip_Signature_IsBase64HmacOverTheRawBytes()
    {
        var body = Real("tracking", "aftership", "api_responses", "GetTrackingResult.json");
        const string secret = "aftership-webhook-secret";
        var header = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
        Assert.True(WebhookSignatures.Base64HmacValid(body, secret, header));
        Assert.False(WebhookSignatures.Base64HmacValid(body, secret + "x", header));
        var tampered = (byte[])body.Clone();
        tampered[^3] ^= 1;
        Assert.False(WebhookSignatures.Base64HmacValid(tampered, secret, header));
        // Re-serialised JSON (same meaning, other bytes) does not pass: the check is over the bytes received.
        var reserialised = Encoding.UTF8.GetBytes(JsonNode.Parse(body)!.ToJsonString());
        Assert.False(WebhookSignatures.Base64HmacValid(reserialised, secret, header));
        Assert.False(WebhookSignatures.Base64HmacValid(body, secret, null));
        Assert.False(WebhookSignatures.Base64HmacValid(body, secret, "not base64!"));
        Assert.False(WebhookSignatures.Base64HmacValid(body, secret, Convert.ToBase64String(new byte[16])));
    }

    [Fact]
    public void EasyPost_Signature_IsPrefixedHex_KeyedWithTheNfkdSecret()
    {
        var body = Real("tracking", "easypost", "guides__webhooks-guide__event__event_example.json");
        // Full-width letters and a ligature: NFKD turns them into plain "secret-fi".
        const string stored = "ｓｅｃｒｅｔ-\uFB01";
        var expected = "hmac-sha256-hex=" + Convert.ToHexStringLower(HMACSHA256.HashData("secret-fi"u8.ToArray(), body));
        Assert.Equal(expected, WebhookSignatures.EasyPost(body, stored));
        Assert.True(WebhookSignatures.EasyPostValid(body, stored, expected));
        Assert.True(WebhookSignatures.EasyPostValid(body, "secret-fi", expected));
        // Without normalisation the key would be the raw UTF-8 bytes, and that signature is refused.
        var raw = "hmac-sha256-hex=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(stored), body));
        Assert.False(WebhookSignatures.EasyPostValid(body, stored, raw));
        Assert.False(WebhookSignatures.EasyPostValid(body, stored, expected["hmac-sha256-hex=".Length..]));
        Assert.False(WebhookSignatures.EasyPostValid(body, stored, expected[..^2]));
        Assert.False(WebhookSignatures.EasyPostValid(body, stored, null));
    }

    [Fact]
    public void Shippo_Token_IsComparedWhole()
    {
        Assert.True(WebhookSignatures.TokenValid("tok_0123456789abcdef", "tok_0123456789abcdef"));
        Assert.False(WebhookSignatures.TokenValid("tok_0123456789abcdef", "tok_0123456789abcde"));
        Assert.False(WebhookSignatures.TokenValid("tok_0123456789abcdef", null));
        Assert.False(WebhookSignatures.TokenValid("", ""));
    }

    [Fact]
    public void AfterShip_RealTracking_ParsesAndMaps()
    {
        var update = TrackingPayloads.Parse("aftership", Real("tracking", "aftership", "api_responses", "GetTrackingResult.json")).Single();
        Assert.Equal("111111111111", update.TrackingNumber);
        Assert.Equal("fedex", update.Carrier);
        Assert.True(update.Checkpoints.Count >= 5);
        var first = update.Checkpoints[0];
        Assert.Equal("FPX_L_RPIF|InfoReceived_001|InfoReceived", first.RawCode);
        Assert.Equal("Shipment information sent to FedEx", first.Message);
        Assert.Equal(DateTimeOffset.Parse("2018-07-23T06:21:39Z"), first.OccurredAt);
        Assert.All(update.Checkpoints, c => Assert.Equal(TimeSpan.Zero, c.OccurredAt.Offset)); // "-05:00", "+08:00" in the payload
        var statuses = update.Checkpoints.Select(c => TrackingMap.Default.Find("aftership", update.Carrier, c.Codes)?.Status).ToList();
        Assert.Equal(TrackingStatus.InfoReceived, statuses[0]);
        Assert.Equal(TrackingStatus.PickedUp, statuses[1]); // InTransit_002, "Acceptance scan"
        Assert.Equal(TrackingStatus.Delivered, statuses[^1]);
        // The webhook envelope carries the same tracking under "msg".
        var envelope = "{\"event\":\"tracking_update\",\"msg\":" + JsonNode.Parse(Real("tracking", "aftership", "api_responses", "GetTrackingResult.json"))!["data"]!["tracking"]!.ToJsonString() + "}";
        Assert.Equal(update.Checkpoints.Select(c => c.Id), TrackingPayloads.Parse("aftership", Encoding.UTF8.GetBytes(envelope)).Single().Checkpoints.Select(c => c.Id));
    }

    [Fact]
    public void EasyPost_RealTracker_InAnEventEnvelope_ParsesAndMaps()
    {
        var tracker = JsonNode.Parse(Real("tracking", "easypost", "docs__responses__trackers__trackers-retrieve.json"))!;
        var evt = new JsonObject { ["object"] = "Event", ["description"] = "tracker.updated", ["result"] = tracker };
        var update = TrackingPayloads.Parse("easypost", Encoding.UTF8.GetBytes(evt.ToJsonString())).Single();
        Assert.Equal("EZ1000000001", update.TrackingNumber);
        Assert.Equal("usps", update.Carrier);
        Assert.Equal(2, update.Checkpoints.Count);
        Assert.Equal("HOUSTON, TX, 77063", update.Checkpoints[1].Location);
        Assert.All(update.Checkpoints, c => Assert.Equal(TrackingStatus.InfoReceived, TrackingMap.Default.Find("easypost", "usps", c.Codes)!.Status));
        Assert.Equal(update.Checkpoints.Select(c => c.Id), TrackingPayloads.Parse("easypost", Encoding.UTF8.GetBytes(tracker.ToJsonString())).Single().Checkpoints.Select(c => c.Id));
    }

    [Fact]
    public void Shippo_RealTrack_ParsesWithItsObjectIds_AndUnknownMapsToNothing()
    {
        var track = JsonNode.Parse(Real("tracking", "shippo", "track_test_get_status.decoded.json"))!;
        var body = new JsonObject { ["event"] = "track_updated", ["test"] = true, ["data"] = track };
        var update = TrackingPayloads.Parse("shippo", Encoding.UTF8.GetBytes(body.ToJsonString())).Single();
        Assert.Equal("9205590164917337534322", update.TrackingNumber);
        Assert.Equal("1b4212c588c84db2ba5ad86cb7470243", update.Checkpoints[0].Id);
        var first = TrackingMap.Default.Find("shippo", "usps", update.Checkpoints[0].Codes);
        Assert.NotNull(first);
        Assert.Null(first.Status); // UNKNOWN: known to say nothing
        Assert.Equal(TrackingStatus.Delivered, TrackingMap.Default.Find("shippo", "usps", update.Checkpoints[^1].Codes)!.Status);
        Assert.Equal(update.Checkpoints.Count, update.Checkpoints.Select(c => c.Id).Distinct().Count());
    }

    [Fact]
    public void EveryProviderStatus_InTheRealVocabularies_IsMapped()
    {
        var tags = Regex.Matches(File.ReadAllText(RealData.Path("tracking", "aftership", "TagV1.ts")), "\"([A-Za-z]+)\"\\s*=\\s*\"([A-Za-z]+)\"")
            .Select(m => m.Groups[2].Value).Distinct().ToList();
        Assert.Equal(9, tags.Count);
        foreach (var tag in tags) Assert.True(TrackingMap.Default.Find("aftership", null, [tag]) is not null, $"AfterShip tag {tag} is not mapped");
        var shippo = Regex.Matches(File.ReadAllText(RealData.Path("tracking", "shippo", "trackingstatusenum.py")), "= \"([A-Z_]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(6, shippo.Count);
        foreach (var s in shippo) Assert.True(TrackingMap.Default.Find("shippo", null, [s]) is not null, $"Shippo status {s} is not mapped");
        foreach (var s in "unknown pre_transit in_transit out_for_delivery available_for_pickup delivered return_to_sender failure cancelled error".Split(' '))
            Assert.True(TrackingMap.Default.Find("easypost", null, [s]) is not null, $"EasyPost status {s} is not mapped");
    }

    [Fact]
    public void Map_IsData_ACarriersCodesAreRows_AndBadRowsNameTheirLine()
    {
        var more = TrackingMap.Parse("provider,carrier,code,status,incident\n*,colissimo,PCHMQT,picked_up,\n*,colissimo,LIVCFM,delivered,\n", "extra.csv");
        var map = TrackingMap.Default.With(more);
        Assert.Null(TrackingMap.Default.Find("aftership", "colissimo", ["PCHMQT"]));
        Assert.Equal(TrackingStatus.PickedUp, map.Find("aftership", "colissimo", ["PCHMQT", "InTransit"])!.Status);
        // The carrier's own code wins over the provider's status; another carrier's code does not apply.
        Assert.Equal(TrackingStatus.InTransit, map.Find("aftership", "dhl", ["PCHMQT", "InTransit"])!.Status);
        Assert.Equal(TrackingStatus.PickedUp, map.Find("easypost", "fedex", ["PU", "in_transit"])!.Status);
        var e = Assert.Throws<FormatException>(() => TrackingMap.Parse("# x\n*,acme,X1,teleported,\n", "bad.csv"));
        Assert.Contains("bad.csv line 2", e.Message);
        Assert.Throws<FormatException>(() => TrackingMap.Parse("*,acme\n", "bad.csv"));
    }

    [Fact]
    public void BadPayloads_GetAClearError()
    {
        Assert.Contains("not valid JSON", Assert.Throws<TrackingPayloadException>(() => TrackingPayloads.Parse("aftership", "{nope"u8)).Message);
        Assert.Contains("tracking_number", Assert.Throws<TrackingPayloadException>(() => TrackingPayloads.Parse("aftership", "{\"msg\":{}}"u8)).Message);
        Assert.Contains("tracking_code", Assert.Throws<TrackingPayloadException>(() => TrackingPayloads.Parse("easypost", "{}"u8)).Message);
        Assert.Throws<TrackingPayloadException>(() => TrackingPayloads.Parse("shippo", "[1,2]"u8));
    }

    [Fact]
    public void Status_NeverMovesBack_AndTheReturnFollowsForwardOnly()
    {
        var t0 = DateTimeOffset.Parse("2026-11-01T10:00:00Z");
        Assert.Equal(TrackingStatus.Delivered, TrackingRules.Next(TrackingStatus.Delivered, t0, TrackingStatus.InTransit, t0.AddDays(1)));
        Assert.Equal(TrackingStatus.Delivered, TrackingRules.Next(TrackingStatus.InTransit, t0, TrackingStatus.Delivered, t0.AddDays(-1)));
        Assert.Equal(TrackingStatus.InTransit, TrackingRules.Next(TrackingStatus.InTransit, t0, TrackingStatus.Exception, t0.AddDays(1)));
        // Within the pickup stage the newer event wins: a failed pickup is booked again.
        Assert.Equal(TrackingStatus.PickupScheduled, TrackingRules.Next(TrackingStatus.PickupFailed, t0, TrackingStatus.PickupScheduled, t0.AddHours(2)));
        Assert.Equal(TrackingStatus.PickupFailed, TrackingRules.Next(TrackingStatus.PickupFailed, t0, TrackingStatus.PickupScheduled, t0.AddHours(-2)));

        Assert.Equal([ReturnStatus.AwaitingShipment, ReturnStatus.InTransit, ReturnStatus.Delivered], TrackingRules.ReturnMoves(ReturnStatus.Approved, TrackingStatus.Delivered));
        Assert.Equal([ReturnStatus.InTransit], TrackingRules.ReturnMoves(ReturnStatus.AwaitingShipment, TrackingStatus.PickedUp));
        Assert.Empty(TrackingRules.ReturnMoves(ReturnStatus.Delivered, TrackingStatus.InTransit));
        Assert.Empty(TrackingRules.ReturnMoves(ReturnStatus.Received, TrackingStatus.Delivered));
        Assert.Equal([ReturnStatus.PickupFailed], TrackingRules.ReturnMoves(ReturnStatus.AwaitingShipment, TrackingStatus.PickupFailed));
        Assert.Equal([ReturnStatus.InTransit, ReturnStatus.Delivered], TrackingRules.ReturnMoves(ReturnStatus.PickupFailed, TrackingStatus.Delivered));
        // Every move the rules make is one the lifecycle allows.
        foreach (var from in Enum.GetValues<ReturnStatus>())
            foreach (var to in Enum.GetValues<TrackingStatus>())
            {
                var at = from;
                foreach (var step in TrackingRules.ReturnMoves(from, to))
                {
                    Assert.True(Lifecycle.NextStates(at).Contains(step), $"{at} -> {step} (for {to}) is not in the lifecycle");
                    at = step;
                }
            }
    }
}
