using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Infrastructure.Db;

namespace Retour.Infrastructure.Outbox;

/// <summary>
/// An event written in the same transaction as the change that caused it. The relay delivers it at least once;
/// <see cref="OutboxDelivery"/> rows make each handler see it once.
/// </summary>
public sealed class OutboxMessage
{
    public Guid Id { get; init; } = SequentialId.Next();
    public Guid MerchantId { get; init; }
    public required string Type { get; init; }
    public required string Payload { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset AvailableAt { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset? ProcessedAt { get; set; }
    public DateTimeOffset? DeadAt { get; set; }
    public string? LastError { get; set; }

    public static OutboxMessage Create(Guid merchantId, string type, object payload, DateTimeOffset now) => new()
    {
        MerchantId = merchantId,
        Type = type,
        Payload = Http.Json.Serialize(payload),
        CreatedAt = now,
        AvailableAt = now,
    };

    internal sealed class Config : IEntityTypeConfiguration<OutboxMessage>
    {
        public void Configure(EntityTypeBuilder<OutboxMessage> b)
        {
            b.HasKey(x => x.Id);
            b.Property(x => x.Type).HasMaxLength(64);
            b.Property(x => x.LastError).HasMaxLength(2000);
            // Only undelivered messages are ever scanned, so the index holds only them.
            b.HasIndex(x => x.AvailableAt).HasFilter("processed_at IS NULL AND dead_at IS NULL").HasDatabaseName("IX_outbox_messages_pending");
        }
    }
}

/// <summary>The inbox side: one row per message and handler that has run, so a redelivery skips it.</summary>
public sealed class OutboxDelivery
{
    public Guid MessageId { get; init; }
    public required string Handler { get; init; }
    public DateTimeOffset ProcessedAt { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<OutboxDelivery>
    {
        public void Configure(EntityTypeBuilder<OutboxDelivery> b)
        {
            b.HasKey(x => new { x.MessageId, x.Handler });
            b.Property(x => x.Handler).HasMaxLength(100);
        }
    }
}
