using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Core.Analytics;
using Retour.Infrastructure.Db;

namespace Retour.Features.Analytics;

/// <summary>
/// Pre-summed measures per (merchant, scope, dimension, day, key): what every dashboard reads. Days are the merchant's
/// local days as <see cref="DateOnly.DayNumber"/>; money is in ten-thousandths of the merchant's currency (integers, so
/// both databases sum them exactly and fast). Kept current by <see cref="AnalyticsWorker"/>, never recomputed per request.
/// </summary>
public sealed class AnalyticsRollup : ITenantOwned
{
    public Guid MerchantId { get; set; }
    public required string Scope { get; init; }
    public required string Dim { get; init; }
    public int Day { get; init; }
    public required string Key { get; init; }
    public long Returns { get; set; }
    public long Units { get; set; }
    public long Value { get; set; }
    public long RefundTotal { get; set; }
    public long FeesTotal { get; set; }
    public long RecoveredValue { get; set; }
    public long StoreCredit { get; set; }
    public long Exchanges { get; set; }
    public long AutoApproved { get; set; }
    public long CycleCount { get; set; }
    public double CycleHours { get; set; }
    public long SmallUnits { get; set; }
    public long LargeUnits { get; set; }
    public long QualityUnits { get; set; }
    public long UsedUnits { get; set; }
    public long Orders { get; set; }
    public long SoldUnits { get; set; }
    public long SoldValue { get; set; }

    public const decimal MoneyScale = 10_000m;
    public static long Money(decimal d) => (long)Math.Round(d * MoneyScale, MidpointRounding.AwayFromZero);
    public static decimal Money(long v) => v / MoneyScale;

    internal sealed class Config : IEntityTypeConfiguration<AnalyticsRollup>
    {
        public void Configure(EntityTypeBuilder<AnalyticsRollup> b)
        {
            b.HasKey(x => new { x.MerchantId, x.Scope, x.Dim, x.Day, x.Key });
            b.Property(x => x.Scope).HasMaxLength(120);
            b.Property(x => x.Dim).HasMaxLength(32);
            b.Property(x => x.Key).HasMaxLength(120);
        }
    }
}

/// <summary>
/// The last fact counted into the rollups for a return or an order (JSON of <see cref="ReturnFact"/> or
/// <see cref="OrderFact"/>): a change subtracts it and adds the new one. Also what the policy what-if replays.
/// </summary>
public sealed class AnalyticsFact : ITenantOwned
{
    public Guid EntityId { get; init; }
    public Guid MerchantId { get; set; }
    /// <summary>return or order.</summary>
    public required string Kind { get; init; }
    public int Day { get; set; }
    public required string Json { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<AnalyticsFact>
    {
        public void Configure(EntityTypeBuilder<AnalyticsFact> b)
        {
            b.HasKey(x => x.EntityId);
            b.Property(x => x.Kind).HasMaxLength(8);
            b.HasIndex(x => new { x.MerchantId, x.Day });
        }
    }
}

/// <summary>
/// A return or order whose fact must be recomputed: written by the outbox handler, drained in batches by the worker.
/// <see cref="Version"/> moves when another event arrives while a worker holds it, so that worker leaves it queued.
/// </summary>
public sealed class AnalyticsPending
{
    public Guid EntityId { get; init; }
    public Guid MerchantId { get; init; }
    public required string Kind { get; init; }
    public DateTimeOffset AvailableAt { get; set; }
    public int Version { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<AnalyticsPending>
    {
        public void Configure(EntityTypeBuilder<AnalyticsPending> b)
        {
            b.HasKey(x => x.EntityId);
            b.Property(x => x.Kind).HasMaxLength(8);
            b.HasIndex(x => x.AvailableAt);
        }
    }
}
