using System.Globalization;
using System.Text.Json;
using Retour.Core;
using Retour.Core.Money;
using Retour.Core.Policies;

namespace Retour.Features.Orders;

/// <summary>What the catalogue knows about a SKU, to fill in what Shopify's line items do not carry.</summary>
public sealed record CatalogueHint(string Category, string ProductCode, bool FinalSale);

/// <summary>
/// Maps Shopify's Admin REST order object (the orders/create and orders/updated webhook body) onto Retour's order.
/// Built against the samples in shared/realdata/shopify: amounts are decimal strings in shop money, the customer
/// and the shipping address may be missing, and a "cancelled" notice does not count — only cancelled_at does.
/// </summary>
public static class ShopifyOrderMapper
{
    /// <summary>The webhook body is the order itself; API responses wrap it in {"order": …}. Both are accepted.</summary>
    public static JsonElement Unwrap(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && !root.TryGetProperty("id", out _) && root.TryGetProperty("order", out var inner) ? inner : root;

    public static IEnumerable<string> Skus(JsonElement order) =>
        Array(order, "line_items").Select(li => Str(li, "sku")).OfType<string>().Where(s => s.Length > 0).Distinct();

    public static (OrderData? Data, IReadOnlyList<FieldError> Errors) Map(JsonElement o, IReadOnlyDictionary<string, CatalogueHint> catalogue)
    {
        var errors = new List<FieldError>();
        var externalId = Raw(o, "id");
        if (externalId is null) errors.Add(new FieldError("id", "A Shopify order has an id."));
        var number = Raw(o, "order_number") ?? Str(o, "name")?.TrimStart('#');
        if (number is null || !OrderValidation.NumberPattern().IsMatch(number)) errors.Add(new FieldError("order_number", "A Shopify order has an order_number."));
        var placed = Time(o, "created_at") ?? Time(o, "processed_at");
        if (placed is null) errors.Add(new FieldError("created_at", "A Shopify order has created_at."));
        else if (placed < OrderValidation.Earliest) errors.Add(new FieldError("created_at", "The order must be placed after 1970."));
        var currency = Str(o, "currency")?.ToUpperInvariant();
        if (!Currencies.IsValid(currency)) errors.Add(new FieldError("currency", "A Shopify order has a three-letter currency."));

        var lines = new List<LineData>();
        var index = 0;
        foreach (var li in Array(o, "line_items"))
        {
            var path = $"line_items[{index++}]";
            var id = Raw(li, "id");
            var qty = Int(li, "quantity");
            var price = Dec(li, "price");
            if (id is null || id.Length > 64 || qty is null or < 1 || price is null || price < 0)
            {
                errors.Add(new FieldError(path, "A line item needs an id, a quantity of at least 1 and a price."));
                continue;
            }
            var sku = Str(li, "sku") is { Length: > 0 } s ? Fit(s, 100) : null;
            var hint = sku is not null ? catalogue.GetValueOrDefault(sku) : null;
            var tax = Array(li, "tax_lines").Sum(t => Dec(t, "price") ?? 0);
            var allocations = Array(li, "discount_allocations").ToList();
            var discount = allocations.Count > 0 ? allocations.Sum(d => Dec(d, "amount") ?? 0) : Dec(li, "total_discount") ?? 0;
            var variantTitle = Str(li, "variant_title");
            var title = Str(li, "title") ?? Str(li, "name") ?? "Item";
            var category = Bool(li, "gift_card") ? "gift_cards" : hint?.Category ?? Categories.Uncategorized;
            lines.Add(new LineData(id, sku, Fit(hint?.ProductCode ?? Raw(li, "product_id"), 100),
                Fit(variantTitle is { Length: > 0 } ? $"{title} - {variantTitle}" : title, 300)!, category,
                variantTitle is { Length: > 0 } ? new Dictionary<string, string> { ["variant"] = Fit(variantTitle, 100)! } : null,
                qty.Value, price.Value, Math.Max(0, tax), Math.Clamp(discount, 0, price.Value * qty.Value), hint?.FinalSale ?? false, null, Int(li, "grams") is > 0 and <= 1_000_000 and var g ? g : null));
        }
        if (lines.Count == 0 && errors.Count == 0) errors.Add(new FieldError("line_items", "The order has no line items."));

        var refunds = new List<StoreRefundData>();
        foreach (var r in Array(o, "refunds"))
            refunds.AddRange(RefundLines(r, placed ?? DateTimeOffset.UnixEpoch));

        if (errors.Count > 0) return (null, errors);

        var customer = o.TryGetProperty("customer", out var c) && c.ValueKind == JsonValueKind.Object ? c : (JsonElement?)null;
        var ship = o.TryGetProperty("shipping_address", out var a) && a.ValueKind == JsonValueKind.Object ? a : (JsonElement?)null;
        var email = new[] { Str(o, "email"), Str(o, "contact_email"), customer is { } cu ? Str(cu, "email") : null }
            .FirstOrDefault(e => !string.IsNullOrWhiteSpace(e))?.Trim().ToLowerInvariant();
        if (email is { Length: > 320 } || (email is not null && !System.Net.Mail.MailAddress.TryCreate(email, out _))) email = null;
        var name = customer is { } cn && (Str(cn, "first_name") ?? Str(cn, "last_name")) is not null
            ? $"{Str(cn, "first_name")} {Str(cn, "last_name")}".Trim()
            : ship is { } sn ? Str(sn, "name") : null;

        var fulfillments = Array(o, "fulfillments").ToList();
        var delivered = fulfillments.Where(f => Str(f, "shipment_status") == "delivered").Select(f => Time(f, "updated_at")).Max();
        var fulfilled = fulfillments.Where(f => Str(f, "status") == "success").Select(f => Time(f, "created_at")).Min();
        var shipping = o.TryGetProperty("total_shipping_price_set", out var tsp) && tsp.ValueKind == JsonValueKind.Object
                       && tsp.TryGetProperty("shop_money", out var sm) ? Dec(sm, "amount") ?? 0
            : Array(o, "shipping_lines").Sum(s => Dec(s, "price") ?? 0);

        var country = ship is { } sc ? Str(sc, "country_code")?.ToUpperInvariant() : null;
        var data = new OrderData(
            number!, externalId, "shopify", placed!.Value, delivered, fulfilled, Time(o, "cancelled_at"), currency!,
            email, Fit(name, 200), Fit(Str(o, "phone") ?? (customer is { } cp ? Str(cp, "phone") : null), 40),
            Str(o, "customer_locale") is { Length: <= 10 } loc ? loc : null,
            ship is { } s2 ? new AddressInput(Fit(Str(s2, "name"), 200), Fit(Str(s2, "address1"), 200), Fit(Str(s2, "city"), 100), Fit(Str(s2, "zip"), 20),
                country is { Length: 2 } ? country : null, Fit(Str(s2, "address2") is { Length: > 0 } l2 ? l2 : null, 200),
                Fit(Str(s2, "province"), 100), Fit(Str(s2, "phone"), 40)) : null,
            Math.Max(0, shipping), Fit(string.Join(",", Array(o, "payment_gateway_names").Select(g => g.GetString()).Where(g => !string.IsNullOrEmpty(g))) is { Length: > 0 } pg ? pg : null, 100),
            Time(o, "updated_at"), lines, refunds);
        return (data, errors);
    }

    /// <summary>The refund line items of a refund object (from an order's refunds or a refunds/create body).</summary>
    public static IEnumerable<StoreRefundData> RefundLines(JsonElement refund, DateTimeOffset fallbackTime)
    {
        var refundId = Raw(refund, "id");
        if (refundId is null) yield break;
        var at = Time(refund, "created_at") ?? fallbackTime;
        foreach (var rli in Array(refund, "refund_line_items"))
            if (Raw(rli, "line_item_id") is { } lineId && Int(rli, "quantity") is { } q && q > 0)
                yield return new StoreRefundData(refundId, lineId, q, at);
    }

    /// <summary>Shopify's free text is kept even when longer than Retour stores: it is cut to fit rather than refused.</summary>
    private static string? Fit(string? s, int max) => s is null || s.Length <= max ? s : s[..max];

    private static IEnumerable<JsonElement> Array(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? a.EnumerateArray() : [];

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    /// <summary>Shopify ids are numbers in JSON; keep their digits exactly (no double rounding).</summary>
    private static string? Raw(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.String => v.GetString(),
            _ => null,
        } : null;

    private static int? Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;

    private static bool Bool(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    private static decimal? Dec(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.Number when v.TryGetDecimal(out var d) => d,
            JsonValueKind.String when decimal.TryParse(v.GetString(), NumberStyles.Number, CultureInfo.InvariantCulture, out var d) => d,
            _ => null,
        } : null;

    private static DateTimeOffset? Time(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.TryGetDateTimeOffset(out var t) ? t.ToUniversalTime() : null;
}
