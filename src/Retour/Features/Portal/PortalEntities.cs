using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Features.Orders;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Features.Portal;

/// <summary>
/// A shopper's visit, bound to the one order they proved they own. The cookie carries only the (protected) id; what the
/// shopper has chosen so far lives here, so a half-finished return survives a reload, a back button or a second tab.
/// </summary>
public sealed class PortalSession : ITenantOwned
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid OrderId { get; init; }
    public string StateJson { get; set; } = "{}";
    /// <summary>The return this session created, once confirmed: confirming again shows it instead of creating another.</summary>
    public Guid? ReturnId { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<PortalSession>
    {
        public void Configure(EntityTypeBuilder<PortalSession> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Order>().WithMany().HasForeignKey(x => x.OrderId).OnDelete(DeleteBehavior.Cascade);
            b.HasIndex(x => x.OrderId);
            b.HasIndex(x => x.ExpiresAt);
            b.Property(x => x.StateJson).HasMaxLength(64_000);
        }
    }
}

/// <summary>A shopper's photo of a returned item, stripped of its metadata. Kept with the session until the return is confirmed.</summary>
public sealed class Photo : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid? SessionId { get; set; }
    public Guid? ReturnId { get; set; }
    /// <summary>Set for a photo the warehouse took at inspection; shoppers' photos have none.</summary>
    public Guid? InspectionId { get; init; }
    public required string OrderLineRef { get; init; }
    public required string ContentType { get; init; }
    public int Size { get; init; }
    public required string Sha256 { get; init; }
    public required byte[] Data { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<Photo>
    {
        public void Configure(EntityTypeBuilder<Photo> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(x => x.SessionId);
            b.HasIndex(x => x.ReturnId);
            b.HasIndex(x => x.InspectionId);
            b.Property(x => x.OrderLineRef).HasMaxLength(64);
            b.Property(x => x.ContentType).HasMaxLength(32);
            b.Property(x => x.Sha256).HasMaxLength(64);
        }
    }
}

/// <summary>A failed order lookup, by client address ("ip:…") and by order ("order:{merchant}:{number}"), for the lookup limit.</summary>
public sealed class LookupFailure
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string Key { get; init; }
    public DateTimeOffset At { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<LookupFailure>
    {
        public void Configure(EntityTypeBuilder<LookupFailure> b)
        {
            b.HasKey(x => x.Id);
            b.Property(x => x.Key).HasMaxLength(200);
            b.HasIndex(x => new { x.Key, x.At });
        }
    }
}
