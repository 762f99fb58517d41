using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Retour.Features.Orders;
using Retour.Features.Policies;
using Retour.Infrastructure.Db;

namespace Retour.Features.Returns;

public sealed class Return : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public required string Rma { get; init; }
    public Guid OrderId { get; init; }
    public required string OrderNumber { get; init; }
    public string? CustomerEmail { get; init; }
    /// <summary>Only <see cref="TryMoveTo"/> changes it, and only along <see cref="Lifecycle"/>.</summary>
    public ReturnStatus Status { get; private set; } = ReturnStatus.Requested;
    public Resolution Resolution { get; init; }
    public ReturnMethod Method { get; init; }
    public Guid PolicyVersionId { get; init; }
    public int PolicyVersion { get; init; }
    public required string Currency { get; init; }
    public decimal EstimateTotal { get; init; }
    /// <summary>The refund estimate as the shopper and staff saw it when the return was made.</summary>
    public required string EstimateJson { get; init; }
    public DecisionOutcome DecisionOutcome { get; init; }
    public required string DecisionJson { get; init; }
    /// <summary>Comma-separated risk flags, such as high_return_rate.</summary>
    public string Flags { get; set; } = "";
    public string? Locale { get; init; }
    /// <summary>The carrier the shopper chose or was given (pickup, drop-off); null for in-store and keep-it.</summary>
    public string? CarrierCode { get; set; }
    /// <summary>Drop-off without a box or a printed label: the counter scans a QR code and packs the item.</summary>
    public bool BoxFree { get; init; }
    /// <summary>Whether the shopper or the API named the carrier; otherwise allocation chooses it when the parcel is booked.</summary>
    public bool CarrierRequested { get; init; }
    /// <summary>The day the carrier comes, for pickups.</summary>
    public DateOnly? PickupDate { get; init; }
    /// <summary>Where the parcel comes from (a <see cref="Retour.Core.Addresses.PostalAddress"/> as JSON): the pickup address, or the order's.</summary>
    public string? FromAddressJson { get; set; }
    /// <summary>When and where the warehouse scanned the parcel in.</summary>
    public DateTimeOffset? ReceivedAt { get; set; }
    public string? WarehouseCode { get; set; }
    public required string CreatedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; private set; }
    public DateTimeOffset StatusChangedAt { get; private set; }
    public List<ReturnLine> Lines { get; init; } = [];

    public bool TryMoveTo(ReturnStatus to, DateTimeOffset now)
    {
        if (!Lifecycle.CanMove(Status, to)) return false;
        Status = to;
        UpdatedAt = now;
        StatusChangedAt = now;
        return true;
    }

    public void Touch(DateTimeOffset now) => UpdatedAt = now;

    public bool HasFlag(string flag) => Flags.Split(',').Contains(flag);

    /// <summary>Adds a risk or support flag (such as refund_failed) once.</summary>
    public void Flag(string flag)
    {
        if (!HasFlag(flag)) Flags = Flags.Length == 0 ? flag : Flags + "," + flag;
    }

    public void Unflag(string flag)
    {
        if (HasFlag(flag)) Flags = string.Join(',', Flags.Split(',').Where(f => f != flag));
    }

    /// <summary>
    /// "Still counts against the order's quantities": status is none of <see cref="Lifecycle.ReleasingStates"/>.
    /// Built from that list with the states as constants, so the database plans it like a hand-written filter.
    /// </summary>
    public static readonly Expression<Func<Return, bool>> HoldsQuantity = BuildHoldsQuantity();

    private static Expression<Func<Return, bool>> BuildHoldsQuantity()
    {
        var r = Expression.Parameter(typeof(Return), "r");
        var status = Expression.Property(r, nameof(Status));
        var body = Lifecycle.ReleasingStates
            .Select(s => (Expression)Expression.NotEqual(status, Expression.Constant(s)))
            .Aggregate(Expression.AndAlso);
        return Expression.Lambda<Func<Return, bool>>(body, r);
    }

    internal sealed class Config : IEntityTypeConfiguration<Return>
    {
        public void Configure(EntityTypeBuilder<Return> b)
        {
            b.HasKey(x => x.Id);
            b.Property(x => x.Rma).HasMaxLength(16);
            b.HasIndex(x => x.Rma).IsUnique();
            // Returns and their audit trail outlive anything they point at: deleting an order or a policy version with returns fails.
            b.HasOne<Order>().WithMany().HasForeignKey(x => x.OrderId).OnDelete(DeleteBehavior.Restrict);
            b.HasOne<PolicyVersion>().WithMany().HasForeignKey(x => x.PolicyVersionId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(x => x.OrderId);
            b.Property(x => x.OrderNumber).HasMaxLength(64);
            b.Property(x => x.CustomerEmail).HasMaxLength(320);
            b.Property(x => x.Status).HasMaxLength(32).HasConversion(CodeConverter<ReturnStatus>.Instance).IsConcurrencyToken();
            b.Property(x => x.Resolution).HasMaxLength(32).HasConversion(CodeConverter<Resolution>.Instance);
            b.Property(x => x.Method).HasMaxLength(32).HasConversion(CodeConverter<ReturnMethod>.Instance);
            b.Property(x => x.DecisionOutcome).HasMaxLength(32).HasConversion(CodeConverter<DecisionOutcome>.Instance);
            b.Property(x => x.Currency).HasMaxLength(3);
            b.Property(x => x.EstimateTotal).HasPrecision(18, 4);
            b.Property(x => x.Flags).HasMaxLength(500);
            b.Property(x => x.Locale).HasMaxLength(10);
            b.Property(x => x.CarrierCode).HasMaxLength(32);
            b.Property(x => x.BoxFree).HasDefaultValue(false);
            b.Property(x => x.CarrierRequested).HasDefaultValue(false);
            b.Property(x => x.FromAddressJson).HasMaxLength(2000);
            b.Property(x => x.WarehouseCode).HasMaxLength(32);
            b.Property(x => x.CreatedBy).HasMaxLength(200);
            b.HasIndex(x => new { x.MerchantId, x.UpdatedAt, x.Id });
            b.HasIndex(x => new { x.MerchantId, x.Status, x.UpdatedAt });
            // The queue's newest-first order, and analytics over a period by shopper (serial returners, recent comments).
            b.HasIndex(x => new { x.MerchantId, x.CreatedAt, x.CustomerEmail });
            // One shopper's returns (serial returners' rows; the portal's and support's look-ups by email).
            b.HasIndex(x => new { x.MerchantId, x.CustomerEmail, x.CreatedAt });
            b.HasMany(x => x.Lines).WithOne().HasForeignKey(l => l.ReturnId).OnDelete(DeleteBehavior.Cascade);
        }
    }
}

public sealed class ReturnLine : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid ReturnId { get; init; }
    public Guid OrderLineId { get; init; }
    public required string OrderLineRef { get; init; }
    /// <summary>What the line was when the return was made; the order may change later.</summary>
    public string? Sku { get; init; }
    public required string Title { get; init; }
    public required string Category { get; init; }
    public int Quantity { get; init; }
    public ReasonCode Reason { get; init; }
    public string? SubReason { get; init; }
    public string? Comment { get; init; }
    /// <summary>For exchanges: the variant the shopper wants instead.</summary>
    public string? ExchangeSku { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<ReturnLine>
    {
        public void Configure(EntityTypeBuilder<ReturnLine> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<OrderLine>().WithMany().HasForeignKey(x => x.OrderLineId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(x => x.OrderLineId);
            b.Property(x => x.OrderLineRef).HasMaxLength(64);
            b.Property(x => x.Sku).HasMaxLength(100);
            b.Property(x => x.Title).HasMaxLength(300);
            b.Property(x => x.Category).HasMaxLength(64);
            b.Property(x => x.Reason).HasMaxLength(32).HasConversion(CodeConverter<ReasonCode>.Instance);
            b.Property(x => x.SubReason).HasMaxLength(64);
            b.Property(x => x.Comment).HasMaxLength(ReturnRequest.MaxCommentLength);
            b.Property(x => x.ExchangeSku).HasMaxLength(100);
        }
    }
}
