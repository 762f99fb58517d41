using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Core.Money;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Features.Refunds;

/// <summary>
/// Money (or credit, or an exchange) going back to the shopper for a return. It is written as pending before the
/// provider is called, with the key the provider deduplicates on, so a crash or a timeout leaves a record that the
/// reconciliation asks the provider about; <see cref="RefundClaim"/> rows make it once per return line.
/// </summary>
public sealed class Refund : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid ReturnId { get; init; }
    public required string Rma { get; init; }
    public RefundMethod Method { get; init; }
    public RefundStatus Status { get; set; }
    public RefundTrigger Trigger { get; init; }
    /// <summary>What goes to the provider (original payment or an exchange's surplus) or onto the gift card.</summary>
    public decimal Amount { get; init; }
    public required string Currency { get; init; }
    public required string BreakdownJson { get; init; }
    /// <summary>Retour's idempotency key on every provider call for this refund.</summary>
    public required string ProviderKey { get; init; }
    public string? PaymentReference { get; init; }
    public string? ProviderReference { get; set; }
    public string? GiftCardCode { get; set; }
    public int Attempts { get; set; }
    /// <summary>When the worker may next call or ask the provider; also the lease of whoever is calling it now.</summary>
    public DateTimeOffset? NextAttemptAt { get; set; }
    public string? LastError { get; set; }
    /// <summary>Retries are used up: support must look (it stays failed and listed until someone retries it).</summary>
    public bool NeedsAttention { get; set; }
    public required string CreatedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? IssuedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<Refund>
    {
        public void Configure(EntityTypeBuilder<Refund> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Return>().WithMany().HasForeignKey(x => x.ReturnId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(x => x.ReturnId);
            b.Property(x => x.Rma).HasMaxLength(16);
            b.Property(x => x.Method).HasMaxLength(32).HasConversion(CodeConverter<RefundMethod>.Instance);
            b.Property(x => x.Status).HasMaxLength(16).HasConversion(CodeConverter<RefundStatus>.Instance);
            b.Property(x => x.Trigger).HasMaxLength(16).HasConversion(CodeConverter<RefundTrigger>.Instance);
            b.Property(x => x.Amount).HasPrecision(18, 4);
            b.Property(x => x.Currency).HasMaxLength(3);
            b.Property(x => x.BreakdownJson).HasMaxLength(20000);
            b.Property(x => x.ProviderKey).HasMaxLength(100);
            b.HasIndex(x => x.ProviderKey).IsUnique();
            b.Property(x => x.PaymentReference).HasMaxLength(100);
            b.Property(x => x.ProviderReference).HasMaxLength(100);
            b.Property(x => x.GiftCardCode).HasMaxLength(32);
            b.Property(x => x.LastError).HasMaxLength(1000);
            b.Property(x => x.CreatedBy).HasMaxLength(200);
            b.Property(x => x.UpdatedAt).IsConcurrencyToken();
            b.HasIndex(x => new { x.Status, x.NextAttemptAt });
            b.HasIndex(x => new { x.MerchantId, x.Status, x.CreatedAt });
        }
    }
}

/// <summary>The line a refund covers. Unique per return line: a second refund for the same line cannot commit.</summary>
public sealed class RefundClaim : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid RefundId { get; init; }
    public Guid ReturnLineId { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<RefundClaim>
    {
        public void Configure(EntityTypeBuilder<RefundClaim> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Refund>().WithMany().HasForeignKey(x => x.RefundId).OnDelete(DeleteBehavior.Cascade);
            b.HasOne<ReturnLine>().WithMany().HasForeignKey(x => x.ReturnLineId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(x => x.ReturnLineId).IsUnique();
            b.HasIndex(x => x.RefundId);
        }
    }
}

/// <summary>Store credit as a code the store can redeem; its balance is the ledger's sum.</summary>
public sealed class GiftCard : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public required string Code { get; init; }
    public required string CustomerEmail { get; init; }
    public required string Currency { get; init; }
    public decimal InitialAmount { get; init; }
    public decimal Balance { get; set; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public Guid? RefundId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<GiftCard>
    {
        public void Configure(EntityTypeBuilder<GiftCard> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.Property(x => x.Code).HasMaxLength(32);
            b.HasIndex(x => new { x.MerchantId, x.Code }).IsUnique();
            b.Property(x => x.CustomerEmail).HasMaxLength(320);
            b.HasIndex(x => new { x.MerchantId, x.CustomerEmail });
            b.Property(x => x.Currency).HasMaxLength(3);
            b.Property(x => x.InitialAmount).HasPrecision(18, 4);
            b.Property(x => x.Balance).HasPrecision(18, 4);
            b.HasIndex(x => x.RefundId).IsUnique();
            b.Property(x => x.UpdatedAt).IsConcurrencyToken();
        }
    }
}

public enum CreditEntryKind { Credit, Debit }

/// <summary>One movement of a shopper's store credit: a credit from a refund, or a debit when the store redeems the code.</summary>
public sealed class StoreCreditEntry : ITenantOwned
{
    public Guid Id { get; init; } = SequentialId.Next();
    public Guid MerchantId { get; set; }
    public required string CustomerEmail { get; init; }
    public Guid GiftCardId { get; init; }
    public CreditEntryKind Kind { get; init; }
    public decimal Amount { get; init; }
    public required string Currency { get; init; }
    public Guid? RefundId { get; init; }
    /// <summary>What the store says it was spent on (an order number), for debits.</summary>
    public string? Reference { get; init; }
    public decimal BalanceAfter { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<StoreCreditEntry>
    {
        public void Configure(EntityTypeBuilder<StoreCreditEntry> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<GiftCard>().WithMany().HasForeignKey(x => x.GiftCardId).OnDelete(DeleteBehavior.Restrict);
            b.Property(x => x.CustomerEmail).HasMaxLength(320);
            b.HasIndex(x => new { x.MerchantId, x.CustomerEmail, x.CreatedAt });
            b.HasIndex(x => x.GiftCardId);
            b.Property(x => x.Kind).HasMaxLength(16).HasConversion(CodeConverter<CreditEntryKind>.Instance);
            b.Property(x => x.Amount).HasPrecision(18, 4);
            b.Property(x => x.BalanceAfter).HasPrecision(18, 4);
            b.Property(x => x.Currency).HasMaxLength(3);
            b.Property(x => x.Reference).HasMaxLength(100);
        }
    }
}

/// <summary>The forward order an exchange creates, and how the price difference was settled.</summary>
public sealed class ExchangeOrder : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid ReturnId { get; init; }
    public Guid RefundId { get; init; }
    public required string Number { get; init; }
    public required string OriginalOrderNumber { get; init; }
    /// <summary>[{sku, title, quantity, unit_price}] as JSON.</summary>
    public required string LinesJson { get; init; }
    public decimal NewTotal { get; init; }
    public decimal ReturnedValue { get; init; }
    /// <summary>Returned value minus the new items: above zero is refunded, below zero is asked of the shopper.</summary>
    public decimal Difference { get; init; }
    public decimal AmountDue { get; init; }
    public required string Currency { get; init; }
    public required string Status { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ShippedAt { get; set; }
    public string? ShippedCarrier { get; set; }
    public string? ShippedTracking { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<ExchangeOrder>
    {
        public void Configure(EntityTypeBuilder<ExchangeOrder> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Return>().WithMany().HasForeignKey(x => x.ReturnId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(x => x.ReturnId).IsUnique();
            b.HasOne<Refund>().WithMany().HasForeignKey(x => x.RefundId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(x => x.RefundId);
            b.Property(x => x.Number).HasMaxLength(32);
            b.Property(x => x.OriginalOrderNumber).HasMaxLength(64);
            b.Property(x => x.LinesJson).HasMaxLength(8000);
            b.Property(x => x.NewTotal).HasPrecision(18, 4);
            b.Property(x => x.ReturnedValue).HasPrecision(18, 4);
            b.Property(x => x.Difference).HasPrecision(18, 4);
            b.Property(x => x.AmountDue).HasPrecision(18, 4);
            b.Property(x => x.Currency).HasMaxLength(3);
            b.Property(x => x.Status).HasMaxLength(32);
            b.Property(x => x.ShippedCarrier).HasMaxLength(100);
            b.Property(x => x.ShippedTracking).HasMaxLength(64);
        }
    }
}

/// <summary>
/// The sandbox payment provider's own books (not Retour's): what it paid out, keyed by the caller's idempotency key.
/// Tests and the chaos run compare it with Retour's refunds.
/// </summary>
public sealed class SandboxPayment : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public required string IdempotencyKey { get; init; }
    public required string Reference { get; init; }
    public string? PaymentReference { get; init; }
    public decimal Amount { get; init; }
    public required string Currency { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    internal sealed class Config : IEntityTypeConfiguration<SandboxPayment>
    {
        public void Configure(EntityTypeBuilder<SandboxPayment> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.Property(x => x.IdempotencyKey).HasMaxLength(100);
            b.HasIndex(x => new { x.MerchantId, x.IdempotencyKey }).IsUnique();
            b.Property(x => x.Reference).HasMaxLength(100);
            b.Property(x => x.PaymentReference).HasMaxLength(100);
            b.Property(x => x.Amount).HasPrecision(18, 4);
            b.Property(x => x.Currency).HasMaxLength(3);
        }
    }
}
