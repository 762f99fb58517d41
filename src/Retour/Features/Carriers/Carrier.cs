using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using System.Globalization;
using Retour.Core.Logistics;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Http;
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
    /// <summary>Where it collects, in the compact form <c>DE:10000..19999,8*;AT</c> (<see cref="ServiceArea"/>); empty means everywhere.</summary>
    public string Areas { get; set; } = "";
    /// <summary>The rate card (zones × weight bands, in its currency) as JSON, or null when the merchant has not entered one.</summary>
    public string? RateCardJson { get; set; }
    public int TransitDays { get; set; } = 3;
    /// <summary>Parcels it takes per day; null means no limit.</summary>
    public int? DailyCapacity { get; set; }
    /// <summary>"HH:mm" in the merchant's time zone: pickups booked later are collected a day later.</summary>
    public string? PickupCutoff { get; set; }
    /// <summary>Settings of the adapter, as a JSON object (the sandbox's success and failure rates).</summary>
    public string? AdapterOptionsJson { get; set; }
    public bool Active { get; set; } = true;
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }

    /// <summary>The adapter's settings as JSON, or null.</summary>
    public System.Text.Json.JsonElement? AdapterOptions =>
        AdapterOptionsJson is null ? null : System.Text.Json.JsonSerializer.Deserialize<System.Text.Json.JsonElement>(AdapterOptionsJson);

    public CarrierProfile ToProfile() => new(Code, Name, Adapter,
        Services.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        ServiceArea.ParseList(Areas, "areas", []), RateCardJson is null ? null : CarrierRegistry.ToRateCard(Json.Deserialize<RateCardInput>(RateCardJson)!, []),
        TransitDays, DailyCapacity, PickupCutoff is null ? null : TimeOnly.ParseExact(PickupCutoff, "HH:mm", CultureInfo.InvariantCulture), Active);

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
            b.Property(x => x.Areas).HasMaxLength(4000);
            b.Property(x => x.RateCardJson).HasMaxLength(32000);
            b.Property(x => x.PickupCutoff).HasMaxLength(5);
            b.Property(x => x.AdapterOptionsJson).HasMaxLength(2000);
        }
    }
}
