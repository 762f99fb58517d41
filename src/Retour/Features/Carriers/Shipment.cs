using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Features.Carriers;

/// <summary>The return leg of a parcel: booked with a carrier, tracked by its number until it reaches the warehouse.</summary>
public sealed class Shipment : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid ReturnId { get; init; }
    public required string CarrierCode { get; set; }
    /// <summary>pickup, drop_off or box_free.</summary>
    public required string Service { get; set; }
    public required string TrackingNumber { get; set; }
    /// <summary>The canonical tracking status (snake_case), null until the first mapped event.</summary>
    public string? Status { get; set; }
    /// <summary>When the event that set <see cref="Status"/> happened (a later event of the same stage replaces it).</summary>
    public DateTimeOffset? StatusAt { get; set; }
    /// <summary>The last incident reported (damaged, missed, address_not_found, ...).</summary>
    public string? Incident { get; set; }
    public DateOnly? PickupDate { get; set; }
    /// <summary>The pickup's time window on <see cref="PickupDate"/>, for example "09:00-13:00".</summary>
    public string? PickupWindow { get; set; }
    /// <summary>Pickup attempts the carrier reported (failed ones plus the successful one).</summary>
    public int PickupAttempts { get; set; }
    public int PickupFailures { get; set; }
    /// <summary>The first scan that shows the carrier has the parcel.</summary>
    public DateTimeOffset? PickedUpAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    public bool Damaged { get; set; }
    /// <summary>The carrier's promised transit days when it was booked, for the on-time rate.</summary>
    public int PromisedDays { get; set; }
    /// <summary>When an unused label expires (the policy's label_valid_days after booking); null for pickups and no limit.</summary>
    public DateTimeOffset? LabelExpiresAt { get; set; }
    /// <summary>When to remind the shopper that the label is still unused (a few days before it expires); cleared once reminded.</summary>
    public DateTimeOffset? LabelReminderAt { get; set; }
    /// <summary>When the poller next asks the carrier for events; null when the carrier pushes them or the parcel has arrived.</summary>
    public DateTimeOffset? NextPollAt { get; set; }
    public int PollFailures { get; set; }
    /// <summary>The seed of the sandbox carrier's simulated life for this parcel.</summary>
    public int SimSeed { get; set; }
    /// <summary>How often a failed pickup was booked again (each re-booking starts a new simulated plan).</summary>
    public int PickupRebooks { get; set; }
    /// <summary>When the current pickup booking was made (null: at <see cref="CreatedAt"/>); the sandbox plan runs from here.</summary>
    public DateTimeOffset? RebookedAt { get; set; }
    /// <summary>The allocation decision: candidates, scores, exclusions and fallbacks (JSON).</summary>
    public string? AllocationJson { get; set; }
    public DateTimeOffset? CancelledAt { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<Shipment>
    {
        public void Configure(EntityTypeBuilder<Shipment> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.HasOne<Return>().WithMany().HasForeignKey(x => x.ReturnId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(x => x.ReturnId);
            b.Property(x => x.CarrierCode).HasMaxLength(32);
            b.Property(x => x.Service).HasMaxLength(16);
            b.Property(x => x.TrackingNumber).HasMaxLength(64);
            b.HasIndex(x => new { x.MerchantId, x.TrackingNumber }).IsUnique();
            b.Property(x => x.Status).HasMaxLength(32);
            b.Property(x => x.Incident).HasMaxLength(64);
            b.Property(x => x.AllocationJson).HasMaxLength(16000);
            b.Property(x => x.PickupWindow).HasMaxLength(16);
            b.Property(x => x.PickupFailures).HasDefaultValue(0);
            b.Property(x => x.Damaged).HasDefaultValue(false);
            b.Property(x => x.PromisedDays).HasDefaultValue(0);
            b.Property(x => x.PollFailures).HasDefaultValue(0);
            b.Property(x => x.SimSeed).HasDefaultValue(0);
            b.Property(x => x.PickupRebooks).HasDefaultValue(0);
            b.HasIndex(x => x.NextPollAt);
            b.HasIndex(x => x.LabelExpiresAt);
            b.HasIndex(x => x.LabelReminderAt);
            b.HasIndex(x => new { x.MerchantId, x.CarrierCode, x.CreatedAt });
        }
    }
}

/// <summary>One tracking event as received, mapped to the canonical vocabulary, with the provider's raw code and text kept.</summary>
public sealed class TrackingEvent : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid ShipmentId { get; init; }
    public required string Provider { get; init; }
    /// <summary>The event's identity within its shipment: the same event delivered twice is stored once.</summary>
    public required string EventKey { get; init; }
    /// <summary>Canonical status, or null when the map does not know the code (kept, shown raw, moves nothing).</summary>
    public string? Status { get; init; }
    public required string RawCode { get; init; }
    public string? Message { get; init; }
    public string? Location { get; init; }
    public string? Incident { get; init; }
    public DateTimeOffset OccurredAt { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<TrackingEvent>
    {
        public void Configure(EntityTypeBuilder<TrackingEvent> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Shipment>().WithMany().HasForeignKey(x => x.ShipmentId).OnDelete(DeleteBehavior.Cascade);
            b.HasIndex(x => new { x.ShipmentId, x.EventKey }).IsUnique();
            b.Property(x => x.Provider).HasMaxLength(16);
            b.Property(x => x.EventKey).HasMaxLength(64);
            b.Property(x => x.Status).HasMaxLength(32);
            b.Property(x => x.RawCode).HasMaxLength(200);
            b.Property(x => x.Message).HasMaxLength(1000);
            b.Property(x => x.Location).HasMaxLength(200);
            b.Property(x => x.Incident).HasMaxLength(64);
        }
    }
}
