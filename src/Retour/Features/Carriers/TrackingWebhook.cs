using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Security;
using Retour.Core.Tracking;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Carriers;

public sealed record TrackingAck(string Status, int Received, int Stored, int Duplicates, int Unmatched, IReadOnlyList<string> UnmatchedTrackingNumbers);

/// <summary>
/// POST /api/v1/tracking/{provider}/{merchant-slug}: tracking webhooks from AfterShip (aftership-hmac-sha256), EasyPost
/// (X-Hmac-Signature, NFKD secret) and Shippo (?token= in the URL). Authenticated by the merchant's webhook secret, over the
/// raw bytes, in constant time; a wrong or missing signature is a 401 and nothing is stored.
/// </summary>
public static class TrackingWebhook
{
    public static readonly string[] Providers = ["aftership", "easypost", "shippo", "sandbox"];

    public static void Map(RouteGroupBuilder api) =>
        api.MapPost("/tracking/{provider}/{slug}", Handle).AllowAnonymous().WithName("TrackingWebhook").WithTags("Tracking")
            .WithSummary("Tracking webhooks from AfterShip, EasyPost and Shippo")
            .WithDescription("aftership: header aftership-hmac-sha256 = base64 HMAC-SHA256 of the raw body. easypost: header X-Hmac-Signature = " +
                             "hmac-sha256-hex=<hex>, keyed with the NFKD-normalised secret. shippo: ?token=<secret>. An event finds its shipment " +
                             "by tracking number within the merchant; the same event twice is stored once; statuses never move back. sandbox: a batch " +
                             "{\"trackings\":[{\"tracking_number\",\"carrier\",\"events\":[{\"id\",\"code\",\"message\",\"occurred_at\",\"location\"}]}]} as a " +
                             "polling bridge posts what it fetched, header X-Retour-Signature = sha256=<hex HMAC-SHA256 of the raw body> keyed with the shop's sandbox_secret.");

    public static async Task<Results<Ok<TrackingAck>, ProblemHttpResult>> Handle(
        string provider, string slug, HttpRequest request, MerchantDirectory merchants, TrackingBatcher batcher, CancellationToken ct, string? token = null)
    {
        if (!Providers.Contains(provider))
            return Problems.NotFound($"No tracking provider '{provider}'. Use one of: {string.Join(", ", Providers)}.");
        var body = await request.ReadAllBytesAsync(ct);
        // The secrets come with the merchant's cached settings (a change shows within MerchantDirectory.Ttl on other nodes).
        var merchant = slug.Length <= 64 ? await merchants.FindBySlugAsync(slug, ct) : null;
        var shop = merchant?.Secrets;
        // An unknown shop, a provider with no secret set and a bad signature answer alike.
        var valid = shop is not null && provider switch
        {
            "aftership" => shop.Aftership is { } a && WebhookSignatures.Base64HmacValid(body, a, request.Headers["aftership-hmac-sha256"]),
            "easypost" => shop.Easypost is { } e && WebhookSignatures.EasyPostValid(body, e, request.Headers["X-Hmac-Signature"]),
            "sandbox" => shop.Sandbox is { } b && WebhookSignatures.BatchValid(body, b, request.Headers["X-Retour-Signature"]),
            _ => shop.ShippoToken is { } t && WebhookSignatures.TokenValid(t, token),
        };
        if (!valid)
            return Problems.Result(401, "invalid_signature", "Signature check failed", provider switch
            {
                "aftership" => "aftership-hmac-sha256 must be the base64 HMAC-SHA256 of the raw body, keyed with the shop's AfterShip webhook secret.",
                "sandbox" => "X-Retour-Signature must be 'sha256=' and the hex HMAC-SHA256 of the raw body, keyed with the shop's sandbox_secret.",
                "easypost" => "X-Hmac-Signature must be 'hmac-sha256-hex=' and the hex HMAC-SHA256 of the raw body, keyed with the shop's EasyPost webhook secret (NFKD).",
                _ => "The URL must carry the shop's Shippo webhook token as ?token=.",
            });

        IReadOnlyList<TrackingUpdate> updates;
        try { updates = TrackingPayloads.Parse(provider, body); }
        catch (TrackingPayloadException e)
        {
            return Problems.Result(400, "invalid_payload", "The tracking payload could not be read", e.Message);
        }
        // Deliveries arriving together are stored in one transaction (group commit, see TrackingBatcher).
        var result = await batcher.SubmitAsync(merchant!.Id, updates, new Actor("carrier", provider, provider), ct);
        var status = result.Unmatched == result.Received && result.Received > 0 ? "unmatched" : result.Stored > 0 ? "stored" : "duplicate";
        return TypedResults.Ok(new TrackingAck(status, result.Received, result.Stored, result.Duplicates, result.Unmatched, result.UnmatchedTrackingNumbers));
    }
}
