using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Core.Policies;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Features.Orders;

/// <summary>An order as the store sent it. Retour keeps it to judge returns; the store stays the owner.</summary>
public sealed class Order : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public required string Number { get; set; }
    public string? ExternalId { get; set; }
    public string Source { get; set; } = "api";
    public DateTimeOffset PlacedAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    public DateTimeOffset? FulfilledAt { get; set; }
    public DateTimeOffset? CancelledAt { get; set; }
    public required string Currency { get; set; }
    public string? CustomerEmail { get; set; }
    public string? CustomerName { get; set; }
    public string? CustomerPhone { get; set; }
    public string? CustomerLocale { get; set; }
    public string? ShipName { get; set; }
    public string? ShipLine1 { get; set; }
    public string? ShipLine2 { get; set; }
    public string? ShipCity { get; set; }
    public string? ShipRegion { get; set; }
    public string? ShipPostalCode { get; set; }
    public string? ShipCountry { get; set; }
    public string? ShipPhone { get; set; }
    public decimal ShippingTotal { get; set; }
    public string? PaymentReference { get; set; }
    /// <summary>The store's own last-modified time; an older update than this one is ignored.</summary>
    public DateTimeOffset? ExternalUpdatedAt { get; set; }
    /// <summary>
    /// Bumped by every change that can alter returnable quantities (a new return, a store refund).
    /// Two requests that read the same version cannot both commit, so quantities never oversell.
    /// </summary>
    public int Version { get; set; }
    /// <summary>How many returns were ever made for this order (for the shopper's return rate).</summary>
    public int ReturnCount { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public List<OrderLine> Lines { get; init; } = [];

    /// <summary>The shipping address as a postal address (name and phone fall back to the customer's), usable in queries.</summary>
    public static readonly System.Linq.Expressions.Expression<Func<Order, Retour.Core.Addresses.PostalAddress>> ShippingAddress = o =>
        new Retour.Core.Addresses.PostalAddress(o.ShipName ?? o.CustomerName, o.ShipLine1, o.ShipLine2, o.ShipCity, o.ShipRegion, o.ShipPostalCode,
            o.ShipCountry, o.ShipPhone ?? o.CustomerPhone);

    internal sealed class Config : IEntityTypeConfiguration<Order>
    {
        public void Configure(EntityTypeBuilder<Order> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.Property(x => x.Number).HasMaxLength(64);
            b.HasIndex(x => new { x.MerchantId, x.Number }).IsUnique();
            b.Property(x => x.ExternalId).HasMaxLength(64);
            b.HasIndex(x => new { x.MerchantId, x.ExternalId }).IsUnique();
            b.Property(x => x.Source).HasMaxLength(16);
            b.Property(x => x.Currency).HasMaxLength(3);
            b.Property(x => x.CustomerEmail).HasMaxLength(320);
            b.HasIndex(x => new { x.MerchantId, x.CustomerEmail, x.PlacedAt });
            b.Property(x => x.CustomerName).HasMaxLength(200);
            b.Property(x => x.CustomerPhone).HasMaxLength(40);
            b.Property(x => x.CustomerLocale).HasMaxLength(10);
            b.Property(x => x.ShipName).HasMaxLength(200);
            b.Property(x => x.ShipLine1).HasMaxLength(200);
            b.Property(x => x.ShipLine2).HasMaxLength(200);
            b.Property(x => x.ShipCity).HasMaxLength(100);
            b.Property(x => x.ShipRegion).HasMaxLength(100);
            b.Property(x => x.ShipPostalCode).HasMaxLength(20);
            b.Property(x => x.ShipCountry).HasMaxLength(2);
            b.Property(x => x.ShipPhone).HasMaxLength(40);
            b.Property(x => x.ShippingTotal).HasPrecision(18, 4);
            b.Property(x => x.PaymentReference).HasMaxLength(100);
            b.Property(x => x.Version).IsConcurrencyToken();
            b.HasIndex(x => new { x.MerchantId, x.UpdatedAt, x.Id });
            b.HasMany(x => x.Lines).WithOne().HasForeignKey(l => l.OrderId).OnDelete(DeleteBehavior.Cascade);
        }
    }
}

public sealed class OrderLine : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid OrderId { get; set; }
    /// <summary>The line's id as the store and the API name it ("L1", or Shopify's line item id).</summary>
    public required string LineRef { get; set; }
    public int Position { get; set; }
    public string? Sku { get; set; }
    public string? ProductCode { get; set; }
    public required string Title { get; set; }
    public required string Category { get; set; }
    /// <summary>Variant attributes such as size and colour, as a JSON object.</summary>
    public string? VariantJson { get; set; }
    public int Quantity { get; set; }
    public decimal UnitPrice { get; set; }
    /// <summary>Tax of the whole line.</summary>
    public decimal Tax { get; set; }
    /// <summary>Discount on the whole line.</summary>
    public decimal Discount { get; set; }
    /// <summary>Weight of one unit in grams, when the store says (Shopify's <c>grams</c>).</summary>
    public int? Grams { get; set; }
    public bool FinalSale { get; set; }
    /// <summary>Units the store already refunded outside Retour.</summary>
    public int RefundedQuantity { get; set; }
    /// <summary>
    /// Units in Retour returns that still hold them (not rejected, cancelled or expired). Kept by the return write and by
    /// the transitions into those states, always together with a bump of the order's version (docs/decisions/0003).
    /// </summary>
    public int ReturnedQuantity { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<OrderLine>
    {
        public void Configure(EntityTypeBuilder<OrderLine> b)
        {
            b.HasKey(x => x.Id);
            b.Property(x => x.LineRef).HasMaxLength(64);
            b.HasIndex(x => new { x.OrderId, x.LineRef }).IsUnique();
            b.Property(x => x.Sku).HasMaxLength(100);
            b.Property(x => x.ProductCode).HasMaxLength(100);
            b.Property(x => x.Title).HasMaxLength(300);
            b.Property(x => x.Category).HasMaxLength(64);
            b.Property(x => x.VariantJson).HasMaxLength(2000);
            b.Property(x => x.UnitPrice).HasPrecision(18, 4);
            b.Property(x => x.Tax).HasPrecision(18, 4);
            b.Property(x => x.Discount).HasPrecision(18, 4);
        }
    }
}

/// <summary>A refund the store made outside Retour, per line, kept so that a repeated webhook never counts it twice.</summary>
public sealed class StoreRefund : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid OrderId { get; set; }
    public required string ExternalId { get; set; }
    public required string LineRef { get; set; }
    public int Quantity { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<StoreRefund>
    {
        public void Configure(EntityTypeBuilder<StoreRefund> b)
        {
            b.HasKey(x => x.Id);
            b.Property(x => x.ExternalId).HasMaxLength(64);
            b.Property(x => x.LineRef).HasMaxLength(64);
            b.HasIndex(x => new { x.OrderId, x.ExternalId, x.LineRef }).IsUnique();
            b.HasOne<Order>().WithMany().HasForeignKey(x => x.OrderId).OnDelete(DeleteBehavior.Cascade);
        }
    }
}
