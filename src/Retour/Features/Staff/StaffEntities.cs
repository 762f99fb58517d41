using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Features.Staff;

/// <summary>
/// A person who signs in to the console. Not owned by a merchant: one person can work for several (agencies, groups of
/// shops), through <see cref="StaffMembership"/>. The columns are what ASP.NET Core Identity's UserManager needs
/// (password hash, security stamp, lockout, authenticator key, recovery codes); see <see cref="StaffUserStore"/>.
/// </summary>
public sealed class StaffUser
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string Email { get; set; }
    /// <summary>Upper-cased e-mail, unique: Identity looks users up by it.</summary>
    public required string NormalizedEmail { get; set; }
    public required string Name { get; set; }
    public string? PasswordHash { get; set; }
    public string SecurityStamp { get; set; } = Guid.NewGuid().ToString("N");
    public bool LockoutEnabled { get; set; } = true;
    public DateTimeOffset? LockoutEnd { get; set; }
    public int AccessFailedCount { get; set; }
    public bool TwoFactorEnabled { get; set; }
    public string? AuthenticatorKey { get; set; }
    /// <summary>Unused recovery codes, ';'-separated, as Identity keeps them.</summary>
    public string? RecoveryCodes { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? LastSignInAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<StaffUser>
    {
        public void Configure(EntityTypeBuilder<StaffUser> b)
        {
            b.HasKey(x => x.Id);
            b.Property(x => x.Email).HasMaxLength(320);
            b.Property(x => x.NormalizedEmail).HasMaxLength(320);
            b.HasIndex(x => x.NormalizedEmail).IsUnique();
            b.Property(x => x.Name).HasMaxLength(200);
            b.Property(x => x.PasswordHash).HasMaxLength(200);
            b.Property(x => x.SecurityStamp).HasMaxLength(64);
            b.Property(x => x.AuthenticatorKey).HasMaxLength(64);
            b.Property(x => x.RecoveryCodes).HasMaxLength(1000);
        }
    }
}

/// <summary>A user's role at one merchant. Removing it takes the merchant away from the user at their next request.</summary>
public sealed class StaffMembership : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid UserId { get; init; }
    public required string Role { get; set; }
    public DateTimeOffset CreatedAt { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<StaffMembership>
    {
        public void Configure(EntityTypeBuilder<StaffMembership> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.HasOne<StaffUser>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
            b.HasIndex(x => new { x.MerchantId, x.UserId }).IsUnique();
            b.HasIndex(x => x.UserId);
            b.Property(x => x.Role).HasMaxLength(16);
        }
    }
}

/// <summary>An emailed link that makes its holder a member with a role. Only the token's SHA-256 is stored.</summary>
public sealed class StaffInvitation : ITenantOwned
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(7);
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public required string Email { get; init; }
    public required string Role { get; init; }
    public required string TokenHash { get; init; }
    public required string InvitedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? AcceptedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    public string State(DateTimeOffset now) =>
        AcceptedAt is not null ? "accepted" : RevokedAt is not null ? "revoked" : ExpiresAt <= now ? "expired" : "open";

    internal sealed class Config : IEntityTypeConfiguration<StaffInvitation>
    {
        public void Configure(EntityTypeBuilder<StaffInvitation> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(x => x.TokenHash).IsUnique();
            b.HasIndex(x => new { x.MerchantId, x.CreatedAt });
            b.Property(x => x.Email).HasMaxLength(320);
            b.Property(x => x.Role).HasMaxLength(16);
            b.Property(x => x.TokenHash).HasMaxLength(64);
            b.Property(x => x.InvitedBy).HasMaxLength(320);
        }
    }
}

/// <summary>Staff's internal note on a return; never shown to the shopper.</summary>
public sealed class ReturnNote : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid ReturnId { get; init; }
    public required string Author { get; init; }
    public required string Body { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<ReturnNote>
    {
        public void Configure(EntityTypeBuilder<ReturnNote> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.HasOne<Return>().WithMany().HasForeignKey(x => x.ReturnId).OnDelete(DeleteBehavior.Cascade);
            b.HasIndex(x => new { x.ReturnId, x.CreatedAt });
            b.Property(x => x.Author).HasMaxLength(320);
            b.Property(x => x.Body).HasMaxLength(5000);
        }
    }
}

/// <summary>A named queue filter a user keeps (the query string of the returns queue).</summary>
public sealed class SavedView : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid UserId { get; init; }
    public required string Name { get; init; }
    public required string Query { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<SavedView>
    {
        public void Configure(EntityTypeBuilder<SavedView> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.HasOne<StaffUser>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
            b.HasIndex(x => new { x.MerchantId, x.UserId });
            b.Property(x => x.Name).HasMaxLength(100);
            b.Property(x => x.Query).HasMaxLength(2000);
        }
    }
}
