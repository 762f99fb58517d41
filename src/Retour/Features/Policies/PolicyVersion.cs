using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Features.Policies;

/// <summary>An immutable version of a merchant's policy. A new version never changes returns already made.</summary>
public sealed class PolicyVersion : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public int Version { get; init; }
    public required string DocumentJson { get; init; }
    /// <summary>Orders placed from this moment on are judged by this version (the first version covers all earlier orders).</summary>
    public DateTimeOffset EffectiveFrom { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public required string CreatedBy { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<PolicyVersion>
    {
        public void Configure(EntityTypeBuilder<PolicyVersion> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(x => new { x.MerchantId, x.Version }).IsUnique();
            b.HasIndex(x => new { x.MerchantId, x.EffectiveFrom });
            b.Property(x => x.CreatedBy).HasMaxLength(200);
        }
    }
}
