using Retour.Core.Money;
using Retour.Core.Warehouse;

namespace Retour.Features.Warehouses;

public sealed record InspectionDto(Guid Id, string OrderLineId, int Unit, Grade Grade, IReadOnlyDictionary<string, bool> Checklist, string? Notes,
    string? InspectedBy, DateTimeOffset InspectedAt, IReadOnlyList<string> Photos)
{
    public static InspectionDto From(Inspection i, IEnumerable<string>? photos = null) => new(i.Id, i.OrderLineRef, i.Unit, i.Grade,
        Infrastructure.Http.Json.Deserialize<Dictionary<string, bool>>(i.ChecklistJson)!, i.Notes, i.InspectedBy, i.InspectedAt, [.. photos ?? []]);
}

public sealed record DispositionDto(
    Guid Id, Guid InspectionId, string OrderLineId, int Unit, string? Sku, string Category, Grade Grade,
    Disposition Proposed, string ProposedChannel, string Explanation, DispositionState State, Disposition? Disposition, string? Channel,
    string? OverrideReason, string Value, string? ExpectedRecovery, string Currency, string? Supplier, Guid? RtvBatchId, string Warehouse,
    string? ConfirmedBy, DateTimeOffset? ConfirmedAt)
{
    public static DispositionDto From(UnitDisposition d) => new(d.Id, d.InspectionId, d.OrderLineRef, d.Unit, d.Sku, d.Category, d.Grade,
        d.Proposed, d.ProposedChannel, d.Explanation, d.State, d.Final, d.Channel, d.OverrideReason, Currencies.Format(d.Value, d.Currency),
        d.ExpectedRecovery is { } r ? Currencies.Format(r, d.Currency) : null, d.Currency, d.Supplier, d.RtvBatchId, d.WarehouseCode, d.ConfirmedBy, d.ConfirmedAt);
}
