using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Core.Addresses;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Warehouses;

/// <summary>Where returns are sent. The default warehouse is the "to" address on return labels.</summary>
public sealed class Warehouse : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public required string Code { get; set; }
    public required string Name { get; set; }
    /// <summary>A <see cref="PostalAddress"/> as JSON.</summary>
    public required string AddressJson { get; set; }
    public bool IsDefault { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    public PostalAddress Address => Json.Deserialize<PostalAddress>(AddressJson)!;

    internal sealed class Config : IEntityTypeConfiguration<Warehouse>
    {
        public void Configure(EntityTypeBuilder<Warehouse> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.Property(x => x.Code).HasMaxLength(32);
            b.HasIndex(x => new { x.MerchantId, x.Code }).IsUnique();
            b.Property(x => x.Name).HasMaxLength(200);
            b.Property(x => x.AddressJson).HasMaxLength(2000);
        }
    }
}
