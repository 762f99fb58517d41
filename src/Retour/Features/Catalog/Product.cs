using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Features.Catalog;

/// <summary>One sellable variant (SKU). Variants of one product share a <see cref="ProductCode"/>.</summary>
public sealed class Product : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public required string Sku { get; set; }
    public required string ProductCode { get; set; }
    public required string Title { get; set; }
    public required string Category { get; set; }
    public string? VariantJson { get; set; }
    public decimal Price { get; set; }
    public bool FinalSale { get; set; }
    public int Stock { get; set; }
    public string? Supplier { get; set; }
    /// <summary>What the merchant paid for one unit; liquidation and supplier credits are worked out from it.</summary>
    public decimal? Cost { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<Product>
    {
        public void Configure(EntityTypeBuilder<Product> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.Property(x => x.Sku).HasMaxLength(100);
            b.HasIndex(x => new { x.MerchantId, x.Sku }).IsUnique();
            b.Property(x => x.ProductCode).HasMaxLength(100);
            b.HasIndex(x => new { x.MerchantId, x.ProductCode });
            b.Property(x => x.Title).HasMaxLength(300);
            b.Property(x => x.Category).HasMaxLength(64);
            b.Property(x => x.VariantJson).HasMaxLength(2000);
            b.Property(x => x.Price).HasPrecision(18, 4);
            b.Property(x => x.Supplier).HasMaxLength(100);
            b.Property(x => x.Cost).HasPrecision(18, 4);
        }
    }
}
