using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Core.Logistics;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Features.Carriers;

/// <summary>
/// One failed pickup (a non-delivery report, NDR) and what came of it: the shopper's answer through the signed link, the
/// re-attempt booked with the carrier, or the escalation to support. One case per failed attempt of a shipment.
/// </summary>
public sealed class NdrCase : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public Guid ReturnId { get; init; }
    public Guid ShipmentId { get; init; }
    public required string Rma { get; init; }
    public required string CarrierCode { get; init; }
    /// <summary>Which failed attempt this is (1 for the first).</summary>
    public int Attempt { get; init; }
    /// <summary>not_available, address_not_found, refused, missed, closed, access_problem or other.</summary>
    public required string Reason { get; init; }
    public required string RawCode { get; init; }
    public string? Message { get; init; }
    public NdrState State { get; set; } = NdrState.AwaitingShopper;
    /// <summary>When the shopper's time to answer runs out (null once escalated or answered).</summary>
    public DateTimeOffset? AnswerBy { get; set; }
    /// <summary>confirm or fix_address.</summary>
    public RecoveryAction? Action { get; set; }
    /// <summary>shopper, or the staff member or API key that answered for them.</summary>
    public string? AnsweredBy { get; set; }
    public DateTimeOffset? AnsweredAt { get; set; }
    public DateOnly? RequestedDate { get; set; }
    public string? EscalationReason { get; set; }
    public DateTimeOffset? EscalatedAt { get; set; }
    public DateTimeOffset? RebookedAt { get; set; }
    /// <summary>Why the carrier refused the re-attempt, when it did.</summary>
    public string? RebookError { get; set; }
    public DateTimeOffset FailedAt { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<NdrCase>
    {
        public void Configure(EntityTypeBuilder<NdrCase> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.HasOne<Return>().WithMany().HasForeignKey(x => x.ReturnId).OnDelete(DeleteBehavior.Restrict);
            b.HasOne<Shipment>().WithMany().HasForeignKey(x => x.ShipmentId).OnDelete(DeleteBehavior.Cascade);
            b.HasIndex(x => new { x.ShipmentId, x.Attempt }).IsUnique();
            b.HasIndex(x => new { x.MerchantId, x.State, x.CreatedAt });
            b.HasIndex(x => x.ReturnId);
            b.HasIndex(x => x.AnswerBy);
            b.Property(x => x.Rma).HasMaxLength(16);
            b.Property(x => x.CarrierCode).HasMaxLength(32);
            b.Property(x => x.Reason).HasMaxLength(32);
            b.Property(x => x.RawCode).HasMaxLength(200);
            b.Property(x => x.Message).HasMaxLength(1000);
            b.Property(x => x.State).HasMaxLength(32).HasConversion(CodeConverter<NdrState>.Instance);
            b.Property(x => x.Action).HasMaxLength(32).HasConversion(CodeConverter<RecoveryAction>.Instance);
            b.Property(x => x.AnsweredBy).HasMaxLength(200);
            b.Property(x => x.EscalationReason).HasMaxLength(500);
            b.Property(x => x.RebookError).HasMaxLength(1000);
            // Two answers at once (the shopper and support): the second fails instead of overwriting the first.
            b.Property(x => x.UpdatedAt).IsConcurrencyToken();
        }
    }
}
