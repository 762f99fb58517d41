using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Infrastructure.Db;

namespace Retour.Features.Tenancy;

/// <summary>An integration's key. Only its SHA-256 is stored; the key itself is shown once, when it is made.</summary>
public sealed class ApiKey : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public required string Name { get; set; }
    /// <summary>The first characters of the key, so people can tell keys apart without the secret.</summary>
    public required string Prefix { get; set; }
    public required string Hash { get; set; }
    /// <summary>Space-separated scopes, as in OAuth.</summary>
    public required string Scopes { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; set; }

    public static string NewSecret()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        return "rtr_" + RandomNumberGenerator.GetString(alphabet, 40);
    }

    public static string HashOf(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public static string PrefixOf(string secret) => secret.Length <= 12 ? secret[..Math.Min(4, secret.Length)] : secret[..12];

    internal sealed class Config : IEntityTypeConfiguration<ApiKey>
    {
        public void Configure(EntityTypeBuilder<ApiKey> b)
        {
            b.HasKey(x => x.Id);
            b.Property(x => x.Name).HasMaxLength(100);
            b.Property(x => x.Prefix).HasMaxLength(16);
            b.Property(x => x.Hash).HasMaxLength(64);
            b.HasIndex(x => x.Hash).IsUnique();
            b.Property(x => x.Scopes).HasMaxLength(1000);
            b.HasIndex(x => x.MerchantId);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
        }
    }
}

public static class Scopes
{
    public const string OrdersRead = "orders:read";
    public const string OrdersWrite = "orders:write";
    public const string ReturnsRead = "returns:read";
    public const string ReturnsWrite = "returns:write";
    /// <summary>Create returns outside the policy (goodwill exceptions); they always go to review.</summary>
    public const string ReturnsOverride = "returns:override";
    public const string PolicyRead = "policy:read";
    public const string PolicyWrite = "policy:write";
    public const string CatalogRead = "catalog:read";
    public const string CatalogWrite = "catalog:write";
    public const string CarriersRead = "carriers:read";
    public const string CarriersWrite = "carriers:write";
    /// <summary>Receive, inspect and dispose; nothing financial (PRODUCT.md's warehouse operator).</summary>
    public const string WarehouseRead = "warehouse:read";
    public const string WarehouseWrite = "warehouse:write";
    /// <summary>Change the warehouse rules (checklists, disposition table, suppliers).</summary>
    public const string WarehouseAdmin = "warehouse:admin";
    public const string RefundsRead = "refunds:read";
    /// <summary>Issue and retry refunds, and redeem store credit.</summary>
    public const string RefundsWrite = "refunds:write";
    /// <summary>See and manage outgoing webhook endpoints and their delivery logs (the secret is shown once, on creation).</summary>
    public const string WebhooksRead = "webhooks:read";
    public const string WebhooksWrite = "webhooks:write";
    /// <summary>Dashboards, breakdowns, insights, the policy what-if and their CSV exports (read-only).</summary>
    public const string AnalyticsRead = "analytics:read";
    /// <summary>Invite and remove staff, change their roles, and make or revoke API keys.</summary>
    public const string StaffAdmin = "staff:admin";

    public static readonly IReadOnlyList<string> All =
        [OrdersRead, OrdersWrite, ReturnsRead, ReturnsWrite, ReturnsOverride, PolicyRead, PolicyWrite, CatalogRead, CatalogWrite, CarriersRead, CarriersWrite,
         WarehouseRead, WarehouseWrite, WarehouseAdmin, RefundsRead, RefundsWrite, WebhooksRead, WebhooksWrite, AnalyticsRead, StaffAdmin];
}
