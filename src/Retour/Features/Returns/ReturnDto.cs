using Retour.Core.Addresses;
using Retour.Core.Money;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Http;

namespace Retour.Features.Returns;

public sealed record ReturnLineDto(Guid Id, string OrderLineId, string? Sku, string Title, string Category, int Quantity, ReasonCode Reason, string? Comment,
    string? SubReason, string? ExchangeSku, IReadOnlyList<string> Photos);

public sealed record RefundLineDto(string OrderLineId, int Quantity, string Items, string Tax, string RestockingFee, string Deduction);

public sealed record RefundEstimateDto(
    string Currency, string Items, string Tax, string Shipping, string Deductions, string RestockingFee, string ReturnShippingFee,
    string Fees, string Bonus, string Total, IReadOnlyList<RefundLineDto> Lines, IReadOnlyList<string> Notes)
{
    public static RefundEstimateDto From(RefundBreakdown b)
    {
        string F(decimal v) => Currencies.Format(v, b.Currency);
        // Deductions (by grade, after inspection) are listed on their own, as the portal shows them; fees are the policy's.
        return new RefundEstimateDto(b.Currency, F(b.Items), F(b.Tax), F(b.Shipping), F(b.Deductions), F(b.RestockingFee), F(b.ReturnShippingFee),
            F(b.RestockingFee + b.ReturnShippingFee), F(b.Bonus), F(b.Total),
            [.. b.Lines.Select(l => new RefundLineDto(l.OrderLineId, l.Quantity, F(l.Items), F(l.Tax), F(l.RestockingFee), F(l.Deduction)))], b.Notes);
    }
}

public sealed record DecisionDto(DecisionOutcome Outcome, string Explanation, IReadOnlyList<RuleCheck> Rules);

public sealed record TimelineEventDto(DateTimeOffset At, string Action, string? From, string? To, string ActorType, string? Actor, string? Reason);

public sealed record ReturnDto(
    Guid Id, string Rma, string OrderNumber, ReturnStatus Status, Resolution Resolution, ReturnMethod Method,
    string? CustomerEmail, string Currency, IReadOnlyList<ReturnLineDto> Lines, RefundEstimateDto RefundEstimate,
    DecisionDto Decision, IReadOnlyList<string> Flags, int PolicyVersion, IReadOnlyList<ReturnStatus> NextStatuses,
    string? Locale, string? Carrier, bool BoxFree, DateOnly? PickupDate, PostalAddress? FromAddress,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, IReadOnlyList<TimelineEventDto>? Timeline,
    Carriers.ShipmentDto? Shipment = null,
    DateTimeOffset? ReceivedAt = null, string? Warehouse = null,
    IReadOnlyList<Warehouses.InspectionDto>? Inspections = null, IReadOnlyList<Warehouses.DispositionDto>? Dispositions = null,
    IReadOnlyList<Refunds.RefundDto>? Refunds = null)
{
    public static ReturnDto From(Return r, IEnumerable<AuditEvent>? timeline = null, ILookup<string, Guid>? photos = null) =>
        From(r, Json.Deserialize<RefundBreakdown>(r.EstimateJson)!, Json.Deserialize<Decision>(r.DecisionJson)!, timeline, photos);

    public static ReturnDto From(Return r, RefundBreakdown estimate, Decision decision, IEnumerable<AuditEvent>? timeline, ILookup<string, Guid>? photos = null)
    {
        return new ReturnDto(
            r.Id, r.Rma, r.OrderNumber, r.Status, r.Resolution, r.Method, r.CustomerEmail, r.Currency,
            [.. r.Lines.Select(l => new ReturnLineDto(l.Id, l.OrderLineRef, l.Sku, l.Title, l.Category, l.Quantity, l.Reason, l.Comment,
                l.SubReason, l.ExchangeSku, photos is null ? [] : [.. photos[l.OrderLineRef].Select(p => $"/api/v1/returns/{r.Id}/photos/{p}")]))],
            RefundEstimateDto.From(estimate), new DecisionDto(decision.Outcome, decision.Explanation, decision.Rules),
            r.Flags.Length == 0 ? [] : r.Flags.Split(','), r.PolicyVersion, Lifecycle.NextStates(r.Status), r.Locale,
            r.CarrierCode, r.BoxFree, r.PickupDate, r.FromAddressJson is null ? null : Json.Deserialize<PostalAddress>(r.FromAddressJson),
            r.CreatedAt, r.UpdatedAt,
            timeline?.Select(e => new TimelineEventDto(e.OccurredAt, e.Action, e.FromState, e.ToState, e.ActorType, e.ActorName, e.Reason)).ToList(),
            null, r.ReceivedAt, r.WarehouseCode);
    }
}

/// <summary>A list row: enough to show and filter, without lines or timeline.</summary>
public sealed record ReturnSummaryDto(
    Guid Id, string Rma, string OrderNumber, ReturnStatus Status, Resolution Resolution, ReturnMethod Method,
    string Currency, string EstimatedRefund, DecisionOutcome DecisionOutcome, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
