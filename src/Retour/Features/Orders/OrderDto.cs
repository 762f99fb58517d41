using Retour.Core.Money;
using Retour.Infrastructure.Http;

namespace Retour.Features.Orders;

public sealed record CustomerDto(string? Email, string? Name, string? Locale, string? Phone);

public sealed record AddressDto(string? Name, string? Line1, string? Line2, string? City, string? Region, string? PostalCode, string? Country, string? Phone);

public sealed record OrderLineDto(
    string Id, string? Sku, string? ProductCode, string Title, string Category, IReadOnlyDictionary<string, string>? Variant,
    int Quantity, string UnitPrice, string Tax, string Discount, bool FinalSale, int RefundedQuantity, int ReturnedQuantity, int? Grams = null);

public sealed record OrderDto(
    Guid Id, string Number, string? ExternalId, string Source, DateTimeOffset PlacedAt, DateTimeOffset? DeliveredAt,
    DateTimeOffset? FulfilledAt, DateTimeOffset? CancelledAt, string Currency, CustomerDto Customer, AddressDto? ShippingAddress,
    string ShippingTotal, IReadOnlyList<OrderLineDto> Lines, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static OrderDto From(Order o) => new(
        o.Id, o.Number, o.ExternalId, o.Source, o.PlacedAt, o.DeliveredAt, o.FulfilledAt, o.CancelledAt, o.Currency,
        new CustomerDto(o.CustomerEmail, o.CustomerName, o.CustomerLocale, o.CustomerPhone),
        o.ShipLine1 is null && o.ShipCity is null && o.ShipCountry is null ? null
            : new AddressDto(o.ShipName, o.ShipLine1, o.ShipLine2, o.ShipCity, o.ShipRegion, o.ShipPostalCode, o.ShipCountry, o.ShipPhone),
        Currencies.Format(o.ShippingTotal, o.Currency),
        [.. o.Lines.OrderBy(l => l.Position).Select(l => new OrderLineDto(
            l.LineRef, l.Sku, l.ProductCode, l.Title, l.Category,
            l.VariantJson is null ? null : Json.Deserialize<Dictionary<string, string>>(l.VariantJson),
            l.Quantity, Currencies.Format(l.UnitPrice, o.Currency), Currencies.Format(l.Tax, o.Currency),
            Currencies.Format(l.Discount, o.Currency), l.FinalSale, l.RefundedQuantity, l.ReturnedQuantity, l.Grams))],
        o.CreatedAt, o.UpdatedAt);
}
