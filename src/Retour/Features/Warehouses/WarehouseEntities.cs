using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Core.Returns;
using Retour.Core.Warehouse;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Features.Warehouses;

/// <summary>A parcel scanned at the warehouse whose code matched no return. Staff match it later; nothing is lost.</summary>
public sealed class UnmatchedParcel : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public required string Code { get; init; }
    public required string WarehouseCode { get; init; }
    public string? ReceivedBy { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
    public int Scans { get; set; } = 1;
    public string? Notes { get; set; }
    public Guid? MatchedReturnId { get; set; }
    public string? MatchedRma { get; set; }
    public string? MatchedBy { get; set; }
    public DateTimeOffset? MatchedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<UnmatchedParcel>
    {
        public void Configure(EntityTypeBuilder<UnmatchedParcel> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.Property(x => x.Code).HasMaxLength(200);
            b.HasIndex(x => new { x.MerchantId, x.Code }).IsUnique();
            b.Property(x => x.WarehouseCode).HasMaxLength(32);
            b.Property(x => x.ReceivedBy).HasMaxLength(200);
            b.Property(x => x.Notes).HasMaxLength(2000);
            b.Property(x => x.MatchedRma).HasMaxLength(16);
            b.Property(x => x.MatchedBy).HasMaxLength(200);
            b.Property(x => x.UpdatedAt).IsConcurrencyToken();
            b.HasIndex(x => new { x.MerchantId, x.MatchedAt, x.ReceivedAt });
        }
    }
}

/// <summary>One inspected unit of a return line: its grade, the checklist answers and the inspector's notes.</summary>
public sealed class Inspection : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid ReturnId { get; init; }
    public Guid ReturnLineId { get; init; }
    public required string OrderLineRef { get; init; }
    /// <summary>1-based unit within the return line.</summary>
    public int Unit { get; init; }
    public Grade Grade { get; init; }
    /// <summary>Checklist answers as a JSON object of booleans.</summary>
    public required string ChecklistJson { get; init; }
    public string? Notes { get; init; }
    public string? InspectedBy { get; init; }
    public DateTimeOffset InspectedAt { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<Inspection>
    {
        public void Configure(EntityTypeBuilder<Inspection> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Return>().WithMany().HasForeignKey(x => x.ReturnId).OnDelete(DeleteBehavior.Restrict);
            b.HasOne<ReturnLine>().WithMany().HasForeignKey(x => x.ReturnLineId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(x => new { x.ReturnLineId, x.Unit }).IsUnique();
            b.HasIndex(x => x.ReturnId);
            b.Property(x => x.OrderLineRef).HasMaxLength(64);
            b.Property(x => x.Grade).HasMaxLength(32).HasConversion(CodeConverter<Grade>.Instance);
            b.Property(x => x.ChecklistJson).HasMaxLength(4000);
            b.Property(x => x.Notes).HasMaxLength(2000);
            b.Property(x => x.InspectedBy).HasMaxLength(200);
        }
    }
}

public enum DispositionState { Proposed, Confirmed }

/// <summary>Where an inspected unit goes: the rules' proposal with its explanation, then what a person confirmed or chose instead.</summary>
public sealed class UnitDisposition : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid ReturnId { get; init; }
    public Guid InspectionId { get; init; }
    public required string OrderLineRef { get; init; }
    public int Unit { get; init; }
    public string? Sku { get; init; }
    public required string Category { get; init; }
    public Grade Grade { get; init; }
    public Disposition Proposed { get; init; }
    public required string ProposedChannel { get; init; }
    public required string Explanation { get; init; }
    public DispositionState State { get; set; }
    public Disposition? Final { get; set; }
    public string? Channel { get; set; }
    public string? OverrideReason { get; set; }
    /// <summary>The unit's value: its price after discount, before tax.</summary>
    public decimal Value { get; init; }
    public decimal? ExpectedRecovery { get; set; }
    public required string Currency { get; init; }
    public string? Supplier { get; set; }
    public Guid? RtvBatchId { get; set; }
    public required string WarehouseCode { get; init; }
    public string? ConfirmedBy { get; set; }
    public DateTimeOffset? ConfirmedAt { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<UnitDisposition>
    {
        public void Configure(EntityTypeBuilder<UnitDisposition> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Return>().WithMany().HasForeignKey(x => x.ReturnId).OnDelete(DeleteBehavior.Restrict);
            b.HasOne<Inspection>().WithMany().HasForeignKey(x => x.InspectionId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(x => x.InspectionId).IsUnique();
            b.HasIndex(x => x.ReturnId);
            b.HasIndex(x => new { x.MerchantId, x.State, x.ConfirmedAt });
            // Return-to-vendor value per supplier over a period (analytics) reads only these rows.
            b.HasIndex(x => new { x.MerchantId, x.ConfirmedAt }).HasDatabaseName("IX_unit_dispositions_rtv")
                .HasFilter("final = 'return_to_vendor' AND state = 'confirmed'");
            b.Property(x => x.OrderLineRef).HasMaxLength(64);
            b.Property(x => x.Sku).HasMaxLength(100);
            b.Property(x => x.Category).HasMaxLength(64);
            b.Property(x => x.Grade).HasMaxLength(32).HasConversion(CodeConverter<Grade>.Instance);
            b.Property(x => x.Proposed).HasMaxLength(32).HasConversion(CodeConverter<Disposition>.Instance);
            b.Property(x => x.ProposedChannel).HasMaxLength(64);
            b.Property(x => x.Explanation).HasMaxLength(2000);
            b.Property(x => x.State).HasMaxLength(16).HasConversion(CodeConverter<DispositionState>.Instance);
            b.Property(x => x.Final).HasMaxLength(32).HasConversion(CodeConverter<Disposition>.Instance);
            b.Property(x => x.Channel).HasMaxLength(64);
            b.Property(x => x.OverrideReason).HasMaxLength(2000);
            b.Property(x => x.Value).HasPrecision(18, 4);
            b.Property(x => x.ExpectedRecovery).HasPrecision(18, 4);
            b.Property(x => x.Currency).HasMaxLength(3);
            b.Property(x => x.Supplier).HasMaxLength(100);
            b.Property(x => x.WarehouseCode).HasMaxLength(32);
            b.Property(x => x.ConfirmedBy).HasMaxLength(200);
            b.Property(x => x.UpdatedAt).IsConcurrencyToken();
        }
    }
}

public enum RtvBatchState { Open, Shipped }

/// <summary>Units going back to one supplier from one warehouse, claimed together before the earliest claim deadline.</summary>
public sealed class RtvBatch : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public required string SupplierCode { get; init; }
    public required string SupplierName { get; set; }
    public required string WarehouseCode { get; init; }
    public RtvBatchState State { get; set; }
    public DateTimeOffset ClaimDeadline { get; set; }
    public int Units { get; set; }
    public decimal Value { get; set; }
    public required string Currency { get; init; }
    public string? ShippedBy { get; set; }
    public DateTimeOffset? ShippedAt { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<RtvBatch>
    {
        public void Configure(EntityTypeBuilder<RtvBatch> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.Property(x => x.SupplierCode).HasMaxLength(100);
            b.Property(x => x.SupplierName).HasMaxLength(200);
            b.Property(x => x.WarehouseCode).HasMaxLength(32);
            b.Property(x => x.State).HasMaxLength(16).HasConversion(CodeConverter<RtvBatchState>.Instance);
            b.Property(x => x.Value).HasPrecision(18, 4);
            b.Property(x => x.Currency).HasMaxLength(3);
            b.Property(x => x.ShippedBy).HasMaxLength(200);
            b.Property(x => x.UpdatedAt).IsConcurrencyToken();
            b.HasIndex(x => new { x.MerchantId, x.State, x.ClaimDeadline });
            // One open batch per supplier and warehouse: two operators confirming at once join the same batch.
            b.HasIndex(x => new { x.MerchantId, x.SupplierCode, x.WarehouseCode }).IsUnique().HasFilter("state = 'open'");
        }
    }
}
