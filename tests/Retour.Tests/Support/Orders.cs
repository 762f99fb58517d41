namespace Retour.Tests.Support;

/// <summary>Retour-shaped orders for tests, built as the API documents them (snake_case JSON).</summary>
public static class Orders
{
    public static object Line(string id, string sku, decimal price, int qty = 1, string category = "apparel", bool finalSale = false,
        decimal tax = 0, decimal discount = 0) => new
    {
        id, sku, title = "Item " + sku, category, quantity = qty, unit_price = price.ToString(System.Globalization.CultureInfo.InvariantCulture),
        tax = tax.ToString(System.Globalization.CultureInfo.InvariantCulture), discount = discount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        final_sale = finalSale, variant = new { size = "M", color = "blue" },
    };

    public static object Order(string number, DateTimeOffset placed, DateTimeOffset? delivered, string email = "shopper@example.com",
        string locale = "en", string currency = "EUR", decimal shipping = 0, params object[] lines) => new
    {
        number, placed_at = placed, delivered_at = delivered, currency,
        customer = new { email, name = "Sam Shopper", locale },
        shipping_address = new { name = "Sam Shopper", line1 = "Hauptstr. 1", city = "Berlin", postal_code = "10115", country = "DE" },
        shipping_total = shipping.ToString(System.Globalization.CultureInfo.InvariantCulture),
        lines = lines.Length > 0 ? lines : [Line("L1", "TEE-M", 20m, 2)],
    };

    /// <summary>An order delivered a few days ago, well inside any window.</summary>
    public static object Delivered(string number, params object[] lines) =>
        Order(number, DateTimeOffset.UtcNow.AddDays(-6), DateTimeOffset.UtcNow.AddDays(-3), lines: lines);

    public static object ReturnOf(string number, string line = "L1", int qty = 1, string reason = "too_small", string resolution = "refund", string method = "drop_off") => new
    {
        order_number = number, lines = new[] { new { order_line_id = line, quantity = qty, reason, comment = "test" } }, resolution, method,
    };
}
