using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Security;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Orders;

public sealed record WebhookAck(string Status, string? OrderNumber = null, string? Detail = null);

/// <summary>
/// POST /api/v1/integrations/shopify/webhooks — Shopify's orders/create, orders/updated and refunds/create.
/// The merchant is found by X-Shopify-Shop-Domain (or ?merchant={slug}); X-Shopify-Hmac-Sha256 is checked over the
/// raw bytes in constant time before anything is parsed; X-Shopify-Webhook-Id drops Shopify's retries.
/// </summary>
public static class ShopifyWebhook
{
    public const string Provider = "shopify";
    private static readonly string[] OrderTopics = ["orders/create", "orders/updated", "orders/cancelled", "orders/edited"];

    public static void Map(RouteGroupBuilder api) =>
        api.MapPost("/integrations/shopify/webhooks", Handle).AllowAnonymous().WithName("ShopifyWebhook").WithTags("Integrations")
            .WithSummary("Shopify webhooks (orders/create, orders/updated, refunds/create)")
            .WithDescription("Authenticated by X-Shopify-Hmac-Sha256 with the merchant's shared secret, not by API key.");

    public static async Task<Results<Ok<WebhookAck>, ProblemHttpResult>> Handle(
        HttpRequest request, RetourDb db, TenantContext tenant, TimeProvider clock, CancellationToken ct, string? merchant = null)
    {
        var body = await request.ReadAllBytesAsync(ct);
        var domain = request.Headers["X-Shopify-Shop-Domain"].ToString().Trim().ToLowerInvariant();
        var shop = await db.Merchants.AsNoTracking()
            .Where(m => merchant != null ? m.Slug == merchant : m.ShopifyDomain == domain)
            .Select(m => new { m.Id, m.ShopifySecret, m.Currency })
            .FirstOrDefaultAsync(ct);
        // Unknown shop, no secret or a bad signature all answer alike, so the endpoint reveals nothing.
        if (shop?.ShopifySecret is null || !SignatureValid(body, shop.ShopifySecret, request.Headers["X-Shopify-Hmac-Sha256"]))
            return Problems.Result(401, "invalid_signature", "Signature check failed",
                "X-Shopify-Hmac-Sha256 must be the base64 HMAC-SHA256 of the raw body, keyed with the shop's webhook secret.");
        tenant.Set(shop.Id);

        var topic = request.Headers["X-Shopify-Topic"].ToString();
        var deliveryId = request.Headers["X-Shopify-Webhook-Id"].ToString() is { Length: > 0 } wid ? wid : request.Headers[IdempotencyMiddleware.Header].ToString();
        if (deliveryId.Length > 128) deliveryId = deliveryId[..128];
        if (deliveryId.Length > 0 && await db.WebhookReceipts.AnyAsync(r => r.Provider == Provider && r.ExternalId == deliveryId, ct))
            return TypedResults.Ok(new WebhookAck("duplicate", Detail: "This delivery was processed before."));

        JsonElement root;
        try { root = JsonDocument.Parse(body).RootElement; }
        catch (JsonException e) { return Problems.Result(400, "malformed_json", "The request body is not valid JSON", e.Message); }

        var now = clock.GetUtcNow();
        WebhookAck ack;
        if (OrderTopics.Contains(topic))
        {
            var order = ShopifyOrderMapper.Unwrap(root);
            var skus = ShopifyOrderMapper.Skus(order).ToList();
            var catalogue = await db.Products.AsNoTracking().Where(p => skus.Contains(p.Sku))
                .ToDictionaryAsync(p => p.Sku, p => new CatalogueHint(p.Category, p.ProductCode, p.FinalSale), ct);
            var (data, errors) = ShopifyOrderMapper.Map(order, catalogue);
            if (data is null) return Problems.Validation(errors, "The Shopify order could not be mapped.");
            if (OrderValidation.CurrencyMismatch(data, shop.Currency) is { } mismatch) return Problems.Validation([mismatch]);
            try
            {
                var (saved, outcome) = await OrderIngestion.UpsertAsync(db, data, now, ct);
                ack = new WebhookAck(outcome.ToString().ToLowerInvariant(), saved.Number,
                    outcome == UpsertOutcome.Stale ? "An update newer than this one was already received." : null);
            }
            catch (OrderNumberConflictException e)
            {
                return Problems.Result(409, "order_number_conflict", "Order number in use", e.Message);
            }
        }
        else if (topic == "refunds/create")
        {
            var refund = root.TryGetProperty("refund", out var inner) ? inner : root;
            var orderId = refund.TryGetProperty("order_id", out var oid) ? oid.GetRawText().Trim('"') : null;
            var order = orderId is null ? null : await db.Orders.Include(o => o.Lines).FirstOrDefaultAsync(o => o.ExternalId == orderId, ct);
            if (order is null) return TypedResults.Ok(new WebhookAck("ignored", Detail: "The refund's order is not known to Retour yet; its next orders/updated carries the refund."));
            await OrderIngestion.ApplyStoreRefundsAsync(db, order, [.. ShopifyOrderMapper.RefundLines(refund, now)], ct);
            order.Version++;
            order.UpdatedAt = now;
            db.Publish("order.updated", new { order_id = order.Id, number = order.Number, external_id = order.ExternalId, source = "shopify" }, now);
            ack = new WebhookAck("updated", order.Number);
        }
        else return TypedResults.Ok(new WebhookAck("ignored", Detail: $"Topic '{topic}' is not used by Retour."));

        if (deliveryId.Length > 0)
            db.WebhookReceipts.Add(new WebhookReceipt { Provider = Provider, ExternalId = deliveryId, ReceivedAt = now });
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e, "webhook_receipts"))
        {
            return TypedResults.Ok(new WebhookAck("duplicate", Detail: "This delivery was processed at the same moment by another request."));
        }
        catch (Exception e) when (e is DbUpdateConcurrencyException || DbErrors.IsTransient(e) || (e is DbUpdateException u && DbErrors.IsUniqueViolation(u, "orders")))
        {
            // Two deliveries of the same new order raced; Shopify retries non-2xx, and the retry updates.
            return Problems.Result(409, "concurrent_update", "The order was being written by another delivery", "Retry the delivery.");
        }
        return TypedResults.Ok(ack);
    }

    public static bool SignatureValid(byte[] body, string secret, string? header) => WebhookSignatures.Base64HmacValid(body, secret, header);

    public static string Sign(byte[] body, string secret) => WebhookSignatures.Base64Hmac(body, secret);
}
