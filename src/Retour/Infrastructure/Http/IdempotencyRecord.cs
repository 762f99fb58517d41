using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Infrastructure.Db;

namespace Retour.Infrastructure.Http;

/// <summary>The first response to a request made with an Idempotency-Key, stored with the change it made.</summary>
public sealed class IdempotencyRecord : ITenantOwned
{
    public Guid MerchantId { get; set; }
    public required string Key { get; init; }
    public required string RequestHash { get; init; }
    public int StatusCode { get; init; }
    public required string ResponseBody { get; init; }
    public string? Location { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<IdempotencyRecord>
    {
        public void Configure(EntityTypeBuilder<IdempotencyRecord> b)
        {
            b.HasKey(x => new { x.MerchantId, x.Key });
            b.Property(x => x.Key).HasMaxLength(255);
            b.Property(x => x.RequestHash).HasMaxLength(64);
            b.Property(x => x.Location).HasMaxLength(500);
            // No index on created_at: the hourly clean-up may scan; every insert would pay for the index instead.
        }
    }
}

/// <summary>A webhook the merchant's store already delivered (by its own delivery id), so a retry is not processed twice.</summary>
public sealed class WebhookReceipt : ITenantOwned
{
    public Guid MerchantId { get; set; }
    public required string Provider { get; init; }
    public required string ExternalId { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<WebhookReceipt>
    {
        public void Configure(EntityTypeBuilder<WebhookReceipt> b)
        {
            b.HasKey(x => new { x.MerchantId, x.Provider, x.ExternalId });
            b.Property(x => x.Provider).HasMaxLength(32);
            b.Property(x => x.ExternalId).HasMaxLength(128);
        }
    }
}
