using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Features.Carriers;

/// <summary>A carrier the merchant ships returns with. Allocation, rates and tracking build on it.</summary>
public sealed class Carrier : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public required string Code { get; set; }
    public required string Name { get; set; }
    /// <summary>Which adapter books with it; "sandbox" is built in and works offline.</summary>
    public string Adapter { get; set; } = "sandbox";
    /// <summary>Comma-separated: pickup, drop_off, box_free.</summary>
    public string Services { get; set; } = "pickup,drop_off";
    /// <summary>Comma-separated ISO country codes it serves.</summary>
    public string Countries { get; set; } = "";
    public int TransitDays { get; set; } = 3;
    public bool Active { get; set; } = true;
    public DateTimeOffset CreatedAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<Carrier>
    {
        public void Configure(EntityTypeBuilder<Carrier> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.Property(x => x.Code).HasMaxLength(32);
            b.HasIndex(x => new { x.MerchantId, x.Code }).IsUnique();
            b.Property(x => x.Name).HasMaxLength(100);
            b.Property(x => x.Adapter).HasMaxLength(32);
            b.Property(x => x.Services).HasMaxLength(100);
            b.Property(x => x.Countries).HasMaxLength(1000);
        }
    }
}
