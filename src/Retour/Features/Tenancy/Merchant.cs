using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Retour.Features.Tenancy;

public sealed class Merchant
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public required string Slug { get; set; }
    public required string Name { get; set; }
    public string Currency { get; set; } = "EUR";
    public string TimeZone { get; set; } = "Europe/Berlin";
    public string DefaultLocale { get; set; } = "en";
    public string SupportedLocales { get; set; } = "en,ar,es,ru,de,ko";
    public string? BrandColor { get; set; }
    public string? LogoUrl { get; set; }
    /// <summary>The shop's myshopify.com domain, which identifies the merchant on Shopify webhooks.</summary>
    public string? ShopifyDomain { get; set; }
    /// <summary>Kept readable, not hashed: verifying an HMAC needs the secret itself.</summary>
    public string? ShopifySecret { get; set; }
    /// <summary>Tracking webhook secrets (readable for the same reason): AfterShip's and EasyPost's HMAC keys, Shippo's URL token.</summary>
    public string? AftershipSecret { get; set; }
    public string? EasypostSecret { get; set; }
    public string? ShippoToken { get; set; }
    /// <summary>The key of signed tracking batches (provider sandbox: a polling bridge posting what it fetched).</summary>
    public string? SandboxSecret { get; set; }
    /// <summary>Carrier allocation: weights and rules (JSON of <c>AllocationSettings</c>); null means the defaults.</summary>
    public string? AllocationJson { get; set; }
    /// <summary>Failed pickups: attempts before support takes over, and the hours a shopper has to answer (see PickupRecovery).</summary>
    public int PickupMaxAttempts { get; set; } = 3;
    public int PickupAnswerHours { get; set; } = 48;
    /// <summary>Checklists, disposition table, recovery rates and suppliers (JSON of <c>WarehouseRules</c>); null means the defaults.</summary>
    public string? WarehouseRulesJson { get; set; }
    /// <summary>Which shopper messages go by email and by SMS (<see cref="Notifications.NotificationSettings"/>); null is the default.</summary>
    public string? NotificationSettingsJson { get; set; }
    /// <summary>How the built-in sandbox payment provider behaves for this merchant (JSON of <c>SandboxPaymentOptions</c>).</summary>
    public string? PaymentSandboxJson { get; set; }
    public DateTimeOffset CreatedAt { get; init; }

    public Retour.Core.Logistics.PickupRecoverySettings PickupRecovery => new(PickupMaxAttempts, PickupAnswerHours);

    public TimeZoneInfo Zone => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);

    public IReadOnlyList<string> Locales => SupportedLocales.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    internal sealed class Config : IEntityTypeConfiguration<Merchant>
    {
        public void Configure(EntityTypeBuilder<Merchant> b)
        {
            b.HasKey(x => x.Id);
            b.Property(x => x.Slug).HasMaxLength(64);
            b.HasIndex(x => x.Slug).IsUnique();
            b.Property(x => x.Name).HasMaxLength(200);
            b.Property(x => x.Currency).HasMaxLength(3);
            b.Property(x => x.TimeZone).HasMaxLength(64);
            b.Property(x => x.DefaultLocale).HasMaxLength(10);
            b.Property(x => x.SupportedLocales).HasMaxLength(100);
            b.Property(x => x.BrandColor).HasMaxLength(16);
            b.Property(x => x.LogoUrl).HasMaxLength(500);
            b.Property(x => x.ShopifyDomain).HasMaxLength(255);
            b.HasIndex(x => x.ShopifyDomain).IsUnique();
            b.Property(x => x.ShopifySecret).HasMaxLength(255);
            b.Property(x => x.AftershipSecret).HasMaxLength(255);
            b.Property(x => x.EasypostSecret).HasMaxLength(255);
            b.Property(x => x.ShippoToken).HasMaxLength(255);
            b.Property(x => x.SandboxSecret).HasMaxLength(255);
            b.Property(x => x.WarehouseRulesJson).HasMaxLength(100_000);
            b.Property(x => x.NotificationSettingsJson).HasMaxLength(4000);
            b.Property(x => x.PaymentSandboxJson).HasMaxLength(2000);
            b.Property(x => x.AllocationJson).HasMaxLength(64000);
            b.Property(x => x.PickupMaxAttempts).HasDefaultValue(3);
            b.Property(x => x.PickupAnswerHours).HasDefaultValue(48);
        }
    }
}
