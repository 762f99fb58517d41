using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Features.Notifications;

public static class NotificationStatus
{
    public const string Pending = "pending";
    public const string Sending = "sending";
    public const string Sent = "sent";
    public const string Failed = "failed";
    /// <summary>Gave up after the retries; listed for support.</summary>
    public const string Dead = "dead";
    /// <summary>Not sent on purpose (no address, or no SMTP server configured), and why.</summary>
    public const string Skipped = "skipped";
    public static readonly string[] All = [Pending, Sending, Sent, Failed, Dead, Skipped];
}

/// <summary>One message to one person about one event, rendered once in their language; the delivery log's row.</summary>
public sealed class Notification : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid? ReturnId { get; init; }
    public Guid EventId { get; init; }
    public required string Template { get; init; }
    public required string Channel { get; init; }
    public required string Recipient { get; init; }
    public required string Locale { get; init; }
    public required string Subject { get; init; }
    public required string Body { get; init; }
    public string Status { get; set; } = NotificationStatus.Pending;
    public int Attempts { get; set; }
    public DateTimeOffset? NextAttemptAt { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    /// <summary>The provider's id for the message (an SMS provider's message sid), for support to trace it there.</summary>
    public string? ProviderRef { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<Notification>
    {
        public void Configure(EntityTypeBuilder<Notification> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(x => new { x.EventId, x.Template, x.Channel, x.Recipient }).IsUnique();
            b.HasIndex(x => new { x.MerchantId, x.ReturnId, x.CreatedAt });
            b.HasIndex(x => new { x.Status, x.NextAttemptAt });
            b.Property(x => x.Template).HasMaxLength(64);
            b.Property(x => x.Channel).HasMaxLength(16);
            b.Property(x => x.Recipient).HasMaxLength(320);
            b.Property(x => x.Locale).HasMaxLength(10);
            b.Property(x => x.Subject).HasMaxLength(500);
            b.Property(x => x.Body).HasMaxLength(20000);
            b.Property(x => x.Status).HasMaxLength(16);
            b.Property(x => x.LastError).HasMaxLength(1000);
            b.Property(x => x.ProviderRef).HasMaxLength(64);
            b.Property(x => x.UpdatedAt).IsConcurrencyToken();
        }
    }
}
