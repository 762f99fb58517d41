using System.Net.Mail;
using System.Text.RegularExpressions;
using Retour.Core;
using Retour.Core.Money;
using Retour.Core.Policies;

namespace Retour.Features.Orders;

/// <summary>Retour's own order shape (POST /api/v1/orders, and each order of a CSV import). Everything is optional here so that validation can name what is missing.</summary>
public sealed record OrderInput(
    string? Number,
    DateTimeOffset? PlacedAt,
    DateTimeOffset? DeliveredAt,
    string? Currency,
    CustomerInput? Customer,
    AddressInput? ShippingAddress,
    IReadOnlyList<LineInput>? Lines,
    DateTimeOffset? FulfilledAt = null,
    DateTimeOffset? CancelledAt = null,
    decimal? ShippingTotal = null,
    string? PaymentReference = null,
    string? ExternalId = null);

public sealed record CustomerInput(string? Email, string? Name, string? Locale, string? Phone = null);

public sealed record AddressInput(string? Name, string? Line1, string? City, string? PostalCode, string? Country,
    string? Line2 = null, string? Region = null, string? Phone = null);

public sealed record LineInput(
    string? Id, string? Sku, string? Title, string? Category, int? Quantity, decimal? UnitPrice, decimal? Tax,
    bool? FinalSale, IReadOnlyDictionary<string, string>? Variant, decimal? Discount = null,
    string? ProductCode = null, int? RefundedQuantity = null, int? Grams = null);

/// <summary>A validated order from any source, ready for <see cref="OrderIngestion"/>.</summary>
public sealed record OrderData(
    string Number, string? ExternalId, string Source, DateTimeOffset PlacedAt, DateTimeOffset? DeliveredAt,
    DateTimeOffset? FulfilledAt, DateTimeOffset? CancelledAt, string Currency,
    string? CustomerEmail, string? CustomerName, string? CustomerPhone, string? CustomerLocale,
    AddressInput? ShippingAddress, decimal ShippingTotal, string? PaymentReference, DateTimeOffset? ExternalUpdatedAt,
    IReadOnlyList<LineData> Lines, IReadOnlyList<StoreRefundData>? StoreRefunds);

public sealed record LineData(
    string Id, string? Sku, string? ProductCode, string Title, string Category, IReadOnlyDictionary<string, string>? Variant,
    int Quantity, decimal UnitPrice, decimal Tax, decimal Discount, bool FinalSale, int? RefundedQuantity, int? Grams = null);

public sealed record StoreRefundData(string ExternalId, string LineId, int Quantity, DateTimeOffset CreatedAt);

public static partial class OrderValidation
{
    public const int MaxLines = 1000;
    public const int MaxQuantity = 100_000;
    public const decimal MaxAmount = 1_000_000_000m;

    /// <summary>Order numbers appear in URLs and on labels: letters, digits, '.', '_' and '-'.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    public static partial Regex NumberPattern();

    /// <summary>Orders are accepted from the Unix epoch (the first policy version's start) to a day ahead of now.</summary>
    public static readonly DateTimeOffset Earliest = DateTimeOffset.UnixEpoch.AddDays(1);

    public static (OrderData? Data, IReadOnlyList<FieldError> Errors) Validate(OrderInput input, string source, DateTimeOffset now)
    {
        var errors = new List<FieldError>();
        void Fail(string f, string m) => errors.Add(new FieldError(f, m));

        var number = input.Number?.Trim();
        if (string.IsNullOrEmpty(number)) Fail("number", "The order number is required.");
        else if (!NumberPattern().IsMatch(number)) Fail("number", "Use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
        if (input.PlacedAt is null) Fail("placed_at", "The time the order was placed is required (ISO 8601).");
        else if (input.PlacedAt < Earliest || input.PlacedAt > now.AddDays(1)) Fail("placed_at", "The order must be placed between 1970 and today.");
        if (input.DeliveredAt is { } d && input.PlacedAt is { } p && d < p) Fail("delivered_at", "Delivery cannot be before the order was placed.");
        if (input.DeliveredAt > now.AddDays(1)) Fail("delivered_at", "Delivery cannot be in the future.");
        Length("external_id", input.ExternalId, 64);
        Length("payment_reference", input.PaymentReference, 100);
        var currency = input.Currency?.Trim().ToUpperInvariant();
        if (!Currencies.IsValid(currency)) Fail("currency", "Use a three-letter ISO 4217 code, for example EUR.");
        if (input.ShippingTotal is { } st) Amount("shipping_total", st);

        var email = input.Customer?.Email?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(email)) email = null;
        else if (email.Length > 320 || !MailAddress.TryCreate(email, out _)) Fail("customer.email", "This is not a valid email address.");
        var locale = input.Customer?.Locale?.Trim();
        if (locale is { Length: > 10 }) Fail("customer.locale", "Use a language tag such as 'de' or 'ar-SA'.");
        Length("customer.name", input.Customer?.Name, 200);
        Length("customer.phone", input.Customer?.Phone, 40);

        var a = input.ShippingAddress;
        if (a is not null)
        {
            if (a.Country is not null && (a.Country.Trim().Length != 2 || !a.Country.Trim().All(char.IsAsciiLetter)))
                Fail("shipping_address.country", "Use a two-letter ISO 3166 country code, for example DE.");
            Length("shipping_address.name", a.Name, 200);
            Length("shipping_address.line1", a.Line1, 200);
            Length("shipping_address.line2", a.Line2, 200);
            Length("shipping_address.city", a.City, 100);
            Length("shipping_address.region", a.Region, 100);
            Length("shipping_address.postal_code", a.PostalCode, 20);
            Length("shipping_address.phone", a.Phone, 40);
        }

        var lines = new List<LineData>();
        if (input.Lines is null || input.Lines.Count == 0) Fail("lines", "An order needs at least one line.");
        else if (input.Lines.Count > MaxLines) Fail("lines", $"An order can have at most {MaxLines} lines.");
        else
        {
            var ids = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < input.Lines.Count; i++)
            {
                var l = input.Lines[i];
                var path = $"lines[{i}]";
                if (l is null) { Fail(path, "A line cannot be null."); continue; }
                var id = l.Id?.Trim();
                if (string.IsNullOrEmpty(id)) Fail($"{path}.id", "Each line needs an id, unique within the order (for example L1).");
                else if (id.Length > 64) Fail($"{path}.id", "A line id has at most 64 characters.");
                else if (!ids.Add(id)) Fail($"{path}.id", $"Line id '{id}' is used twice.");
                if (string.IsNullOrWhiteSpace(l.Title)) Fail($"{path}.title", "Each line needs a title.");
                Length($"{path}.title", l.Title, 300);
                Length($"{path}.sku", l.Sku, 100);
                Length($"{path}.product_code", l.ProductCode, 100);
                if (l.Category is not null && Categories.Normalize(l.Category).Length > 64) Fail($"{path}.category", "At most 64 characters.");
                if (l.Variant is not null && (l.Variant.Any(kv => kv.Key.Length > 50 || (kv.Value?.Length ?? 0) > 100)))
                    Fail($"{path}.variant", "Variant names have at most 50 characters and values at most 100.");
                else if (l.Variant is not null && Retour.Infrastructure.Http.Json.Serialize(l.Variant).Length > 2000) Fail($"{path}.variant", "The variant is too large.");
                if (l.Quantity is not { } q || q < 1 || q > MaxQuantity) Fail($"{path}.quantity", $"The quantity must be between 1 and {MaxQuantity}.");
                if (l.UnitPrice is not { } up) Fail($"{path}.unit_price", "The unit price is required.");
                else Amount($"{path}.unit_price", up);
                if (l.Tax is { } tax) Amount($"{path}.tax", tax);
                if (l.Discount is { } disc)
                {
                    Amount($"{path}.discount", disc);
                    if (l.UnitPrice is { } price && l.Quantity is { } qq && disc > price * qq) Fail($"{path}.discount", "The discount cannot exceed the line's price.");
                }
                if (l.Grams is < 1 or > 1_000_000) Fail($"{path}.grams", "The weight of one unit must be between 1 and 1000000 grams.");
                if (l.RefundedQuantity is { } rq && (rq < 0 || rq > (l.Quantity ?? 0))) Fail($"{path}.refunded_quantity", "Must be between 0 and the line's quantity.");
                if (l.Variant is { Count: > 20 }) Fail($"{path}.variant", "A variant has at most 20 attributes.");
                if (errors.Count == 0)
                    lines.Add(new LineData(id!, Blank(l.Sku), Blank(l.ProductCode), l.Title!.Trim(), Categories.Normalize(l.Category), l.Variant,
                        l.Quantity!.Value, l.UnitPrice!.Value, l.Tax ?? 0, l.Discount ?? 0, l.FinalSale ?? false, l.RefundedQuantity, l.Grams));
            }
        }
        if (errors.Count > 0) return (null, errors);

        var data = new OrderData(number!, Blank(input.ExternalId), source, input.PlacedAt!.Value, input.DeliveredAt, input.FulfilledAt,
            input.CancelledAt, currency!, email, Blank(input.Customer?.Name), Blank(input.Customer?.Phone), Blank(locale),
            a is null ? null : a with { Country = a.Country?.Trim().ToUpperInvariant() },
            input.ShippingTotal ?? 0, Blank(input.PaymentReference), null, lines, null);
        return (data, errors);

        void Amount(string f, decimal v)
        {
            if (v < 0) Fail(f, "Must not be negative.");
            else if (v > MaxAmount) Fail(f, "Is too large.");
        }
        void Length(string f, string? v, int max)
        {
            if (v is not null && v.Length > max) Fail(f, $"At most {max} characters.");
        }
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    /// <summary>Orders are kept in the merchant's currency, the one its policy's fees and limits are in.</summary>
    public static FieldError? CurrencyMismatch(OrderData data, string merchantCurrency) =>
        data.Currency == merchantCurrency ? null
            : new FieldError("currency", $"This store works in {merchantCurrency}; the order is in {data.Currency}. Send orders in the store's currency.");
}
