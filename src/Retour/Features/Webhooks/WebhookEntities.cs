using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Features.Webhooks;

/// <summary>A merchant's subscription: where to send which events, and the secret they are signed with.</summary>
public sealed class WebhookEndpoint : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public required string Url { get; set; }
    /// <summary>Event types as a JSON array; "*" is every event.</summary>
    public required string EventsJson { get; set; }
    public string? Description { get; set; }
    public required string Secret { get; set; }
    public bool Active { get; set; } = true;
    /// <summary>Why Retour switched it off (deliveries kept failing for 24 hours); null when a person did, or when active.</summary>
    public string? DisabledReason { get; set; }
    public DateTimeOffset? DisabledAt { get; set; }
    public int ConsecutiveFailures { get; set; }
    /// <summary>The last 2xx answer: an endpoint is switched off only when nothing got through for the whole retry window.</summary>
    public DateTimeOffset? LastSuccessAt { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<WebhookEndpoint>
    {
        public void Configure(EntityTypeBuilder<WebhookEndpoint> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(x => new { x.MerchantId, x.CreatedAt });
            b.Property(x => x.Url).HasMaxLength(2000);
            b.Property(x => x.EventsJson).HasMaxLength(4000);
            b.Property(x => x.Description).HasMaxLength(500);
            b.Property(x => x.Secret).HasMaxLength(100);
            b.Property(x => x.DisabledReason).HasMaxLength(500);
        }
    }
}

public static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    /// <summary>Failed at least once; retried with backoff.</summary>
    public const string Failed = "failed";
    /// <summary>Being sent right now (leased); a sender that died leaves it to be taken again when the lease ends.</summary>
    public const string Sending = "sending";
    /// <summary>Gave up after 24 hours (or the endpoint was removed or disabled); replay sends it again.</summary>
    public const string Dead = "dead";
    public static readonly string[] All = [Pending, Sending, Delivered, Failed, Dead];
}

/// <summary>One event for one endpoint: the exact body sent (so a replay sends the same bytes), and every attempt's outcome.</summary>
public sealed class WebhookDelivery : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid EndpointId { get; init; }
    /// <summary>The event's id (the outbox message id): the same in every delivery and replay, for receivers to deduplicate.</summary>
    public Guid EventId { get; init; }
    public required string EventType { get; init; }
    public required string Body { get; init; }
    public string Status { get; set; } = DeliveryStatus.Pending;
    public int Attempts { get; set; }
    public DateTimeOffset? NextAttemptAt { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    public string? LastResponse { get; set; }
    public double? LastDurationMs { get; set; }
    public DateTimeOffset? LastAttemptAt { get; set; }
    public DateTimeOffset? DeliveredAt { get; set; }
    /// <summary>When it was last replayed: the 24-hour retry window runs from here (or from its creation).</summary>
    public DateTimeOffset? ReplayedAt { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset WindowStart => ReplayedAt ?? CreatedAt;

    internal sealed class Config : IEntityTypeConfiguration<WebhookDelivery>
    {
        public void Configure(EntityTypeBuilder<WebhookDelivery> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<WebhookEndpoint>().WithMany().HasForeignKey(x => x.EndpointId).OnDelete(DeleteBehavior.Cascade);
            b.HasIndex(x => new { x.EndpointId, x.EventId }).IsUnique();
            b.HasIndex(x => new { x.EndpointId, x.CreatedAt });
            b.HasIndex(x => new { x.Status, x.NextAttemptAt });
            b.Property(x => x.EventType).HasMaxLength(64);
            b.Property(x => x.Body).HasMaxLength(200_000);
            b.Property(x => x.Status).HasMaxLength(16);
            b.Property(x => x.LastError).HasMaxLength(1000);
            b.Property(x => x.LastResponse).HasMaxLength(1000);
            b.Property(x => x.UpdatedAt).IsConcurrencyToken();
            b.Ignore(x => x.WindowStart);
        }
    }
}
