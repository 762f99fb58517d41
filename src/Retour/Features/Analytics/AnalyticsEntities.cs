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

/// <summary>
/// A shopper's lifetime returns with this merchant: how many, how many units came back graded used, when the last was
/// made, and each return's time with its used units (<see cref="History"/>). Kept exact by <see cref="AnalyticsWorker"/>
/// (recounted from the returns whenever one of the shopper's returns is queued). The serial-returners insight reads it
/// to find, without grouping a period's returns, the few shoppers who can meet its thresholds (a shopper with k returns
/// in a period has at least k in a lifetime and a last one after the period's start), and counts their period from the
/// history.
/// </summary>
public sealed class AnalyticsShopper : ITenantOwned
{
    public Guid MerchantId { get; set; }
    public required string Email { get; init; }
    public long Returns { get; set; }
    public long UsedUnits { get; set; }
    public DateTimeOffset LastReturnAt { get; set; }
    /// <summary>
    /// Every return as "unix-seconds" or "unix-seconds:used-units", separated by spaces, in no set order; null above
    /// <see cref="Retour.Core.Analytics.ShopperHistory.MaxReturns"/> returns (such a shopper is counted from the returns instead).
    /// </summary>
    public string? History { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<AnalyticsShopper>
    {
        public void Configure(EntityTypeBuilder<AnalyticsShopper> b)
        {
            b.HasKey(x => new { x.MerchantId, x.Email });
            b.Property(x => x.Email).HasMaxLength(320);
            // A threshold and "a return since the period began", both checked in the index before any row is read.
            b.HasIndex(x => new { x.MerchantId, x.Returns, x.LastReturnAt });
            b.HasIndex(x => new { x.MerchantId, x.UsedUnits, x.LastReturnAt });
        }
    }
}
