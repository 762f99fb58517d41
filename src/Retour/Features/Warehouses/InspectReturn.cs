using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Returns;
using Retour.Core.Warehouse;
using Retour.Features.Policies;
using Retour.Features.Refunds;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Warehouses;

public sealed record InspectionLineInput(string? OrderLineId, int? Unit, string? Grade, Dictionary<string, bool?>? Checklist, string? Notes);

public sealed record InspectionInput(List<InspectionLineInput?>? Lines);

public sealed record InspectedUnitDto(InspectionDto Inspection, DispositionDto? Disposition);

public sealed record InspectionResultDto(Guid ReturnId, string Rma, ReturnStatus Status, IReadOnlyList<InspectedUnitDto> Units, int UnitsLeft,
    RefundEstimateDto RefundPreview);

/// <summary>
/// POST /api/v1/returns/{id}/inspections: one entry per unit (a line of two units takes two entries, or "unit": 1 and 2).
/// Each unit gets its grade, checklist and notes, and the merchant's rule table proposes its disposition with the reason.
/// When every unit is inspected the return moves to inspected. The answer shows the refund as it now stands.
/// </summary>
public static class InspectReturn
{
    /// <summary>Some units of a return were graded and others are still to come (internal: not a webhook event).</summary>
    public const string UnitsInspectedEvent = "return.units_inspected";

    public const int MaxNotes = 2000;

    public static void Map(RouteGroupBuilder api) =>
        api.MapPost("/returns/{idOrRma}/inspections", Inspect).RequireScope(Scopes.WarehouseWrite).WithName("InspectReturn").WithTags("Warehouse")
            .WithSummary("Inspect returned units")
            .WithDescription("Body: {\"lines\": [{\"order_line_id\": \"L1\", \"unit\": 1, \"grade\": \"like_new\", \"checklist\": {\"tags_attached\": true}, \"notes\": \"…\"}]}. " +
                             "Grades: new, like_new, used, damaged, defective, missing_parts, wrong_item, not_received. unit is optional (the next uninspected one). " +
                             "The checklist must answer exactly the questions of the line's category (GET /warehouse/rules). 409 when the return is not received " +
                             "or a unit is inspected already.");

    public static async Task<IResult> Inspect(string idOrRma, HttpContext http, RetourDb db, IdempotencyScope idem, PolicyBook policies,
        TimeProvider clock, CancellationToken ct)
    {
        var (input, problem) = await http.Request.ReadStrictJsonAsync<InspectionInput>("Send {\"lines\": [{\"order_line_id\", \"grade\", \"checklist\"}]}.", ct);
        if (problem is not null) return problem;
        if (input?.Lines is not { Count: > 0 } entries) return Problems.Validation("lines", "Send at least one inspected unit.");
        if (entries.Count > 500) return Problems.Validation("lines", "At most 500 units per request.");

        var ret = await ReadReturns.FindAsync(db.Returns, idOrRma, ct);
        if (ret is null) return Problems.NotFound($"There is no return '{idOrRma}'.");
        if (ret.Status != ReturnStatus.Received)
            return Problems.Result(409, "not_inspectable", "This return cannot be inspected now",
                ret.Status == ReturnStatus.Inspected || Lifecycle.IsTerminal(ret.Status) || ret.Status is ReturnStatus.Resolved
                    ? $"Return {ret.Rma} is '{Codes.Of(ret.Status)}': every unit has been inspected."
                    : $"Return {ret.Rma} is '{Codes.Of(ret.Status)}': scan it in first (POST /api/v1/warehouse/receipts).",
                new Dictionary<string, object?> { ["current_status"] = Codes.Of(ret.Status) });

        var rules = await WarehouseRulesEndpoints.LoadAsync(db, ct);
        var done = await db.Inspections.AsNoTracking().Where(i => i.ReturnId == ret.Id).Select(i => new { i.ReturnLineId, i.Unit }).ToListAsync(ct);
        var taken = done.Select(d => (d.ReturnLineId, d.Unit)).ToHashSet();
        var errors = new List<FieldError>();
        var planned = new List<(ReturnLine Line, int Unit, Grade Grade, Dictionary<string, bool> Checklist, string? Notes)>();
        for (var i = 0; i < entries.Count; i++)
        {
            var path = $"lines[{i}]";
            var e = entries[i];
            if (e is null) { errors.Add(new(path, "An entry cannot be null.")); continue; }
            var line = ret.Lines.FirstOrDefault(l => l.OrderLineRef == e.OrderLineId);
            if (line is null)
            {
                errors.Add(new($"{path}.order_line_id", $"This return has no line '{e.OrderLineId}'. Its lines: {string.Join(", ", ret.Lines.Select(l => l.OrderLineRef))}."));
                continue;
            }
            if (!Codes.TryParse<Grade>(e.Grade, out var grade))
                errors.Add(new($"{path}.grade", $"Use one of: {string.Join(", ", Codes.All<Grade>())}."));
            int unit;
            if (e.Unit is { } u)
            {
                if (u < 1 || u > line.Quantity) { errors.Add(new($"{path}.unit", $"Line {line.OrderLineRef} has units 1 to {line.Quantity}.")); continue; }
                if (!taken.Add((line.Id, u))) { errors.Add(new($"{path}.unit", $"Unit {u} of line {line.OrderLineRef} is inspected already (or twice in this request).")); continue; }
                unit = u;
            }
            else
            {
                unit = Enumerable.Range(1, line.Quantity).FirstOrDefault(n => !taken.Contains((line.Id, n)));
                if (unit == 0) { errors.Add(new($"{path}.order_line_id", $"Every unit of line {line.OrderLineRef} is inspected already.")); continue; }
                taken.Add((line.Id, unit));
            }
            errors.AddRange(Checklists.Check(Checklists.For(rules.Checklists, line.Category), e.Checklist, $"{path}.checklist"));
            if (e.Notes is { Length: > MaxNotes }) errors.Add(new($"{path}.notes", $"At most {MaxNotes} characters."));
            planned.Add((line, unit, grade, e.Checklist?.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value!.Value) ?? [], e.Notes?.Trim()));
        }
        if (errors.Count > 0) return Problems.Validation(errors);

        var now = clock.GetUtcNow();
        var actor = Actor.From(http.User);
        var (units, left) = await RecordAsync(db, rules, ret, planned, done.Count, actor, now, ct);

        var preview = await RefundMath.SettleAsync(db, policies, ret, extraGrades: planned.Select(p => (p.Line.Id, p.Unit, p.Grade)).ToList(), ct);
        var result = new InspectionResultDto(ret.Id, ret.Rma, ret.Status, units, left, RefundEstimateDto.From(preview));
        try
        {
            return await db.CommitAsync(idem, TypedResults.Ok(result), now, ct);
        }
        catch (Exception e) when (e is DbUpdateConcurrencyException || DbErrors.IsTransient(e) || (e is DbUpdateException u && DbErrors.IsUniqueViolation(u, "inspections")))
        {
            return Problems.Result(409, "concurrent_inspection", "Someone inspected this return meanwhile",
                "Another inspection of these units committed first. Read the return again; units already inspected are listed under inspections.");
        }
    }

    /// <summary>
    /// Records inspected units (not saved): each unit's inspection and its proposed disposition by the rule table, the audit,
    /// and the move to inspected once every unit is done. Returns the units and how many are left.
    /// </summary>
    public static async Task<(List<InspectedUnitDto> Units, int Left)> RecordAsync(RetourDb db, WarehouseRules rules, Return ret,
        IReadOnlyList<(ReturnLine Line, int Unit, Grade Grade, Dictionary<string, bool> Checklist, string? Notes)> planned, int inspectedBefore,
        Actor actor, DateTimeOffset now, CancellationToken ct)
    {
        var taken = inspectedBefore + planned.Count;
        var orderLineIds = ret.Lines.Select(l => l.OrderLineId).ToList();
        var prices = await db.OrderLines.AsNoTracking().Where(l => orderLineIds.Contains(l.Id))
            .Select(l => new { l.Id, l.UnitPrice, l.Quantity, l.Discount }).ToDictionaryAsync(l => l.Id, ct);
        var skus = ret.Lines.Where(l => l.Sku != null).Select(l => l.Sku!).Distinct().ToList();
        var products = await db.Products.AsNoTracking().Where(p => skus.Contains(p.Sku)).Select(p => new { p.Sku, p.Supplier, p.Cost }).ToDictionaryAsync(p => p.Sku, ct);
        var units = new List<InspectedUnitDto>();
        foreach (var (line, unit, grade, checklist, notes) in planned)
        {
            var inspection = new Inspection
            {
                ReturnId = ret.Id, ReturnLineId = line.Id, OrderLineRef = line.OrderLineRef, Unit = unit, Grade = grade,
                ChecklistJson = Json.Serialize(checklist), Notes = string.IsNullOrEmpty(notes) ? null : notes, InspectedBy = actor.Name, InspectedAt = now,
            };
            db.Inspections.Add(inspection);
            var p = prices[line.OrderLineId];
            var value = p.Quantity == 0 ? 0 : Core.Money.Currencies.Round(p.UnitPrice - p.Discount / p.Quantity, ret.Currency);
            var product = line.Sku is null ? null : products.GetValueOrDefault(line.Sku);
            var proposal = Dispositions.Propose(rules.Dispositions, new UnitFacts(line.Reason, grade, line.Category, value, product?.Supplier), ret.Currency);
            UnitDisposition? disposition = null;
            if (proposal is not null)
            {
                disposition = new UnitDisposition
                {
                    ReturnId = ret.Id, InspectionId = inspection.Id, OrderLineRef = line.OrderLineRef, Unit = unit, Sku = line.Sku, Category = line.Category,
                    Grade = grade, Proposed = proposal.Disposition, ProposedChannel = proposal.Channel, Explanation = proposal.Explanation,
                    State = DispositionState.Proposed, Value = value, Currency = ret.Currency, Supplier = product?.Supplier,
                    ExpectedRecovery = Dispositions.ExpectedRecovery(rules, proposal.Disposition, grade, value, product?.Cost, ret.Currency),
                    WarehouseCode = ret.WarehouseCode ?? "main", CreatedAt = now, UpdatedAt = now,
                };
                db.UnitDispositions.Add(disposition);
            }
            db.AuditEvents.Add(new AuditEvent
            {
                EntityType = "return", EntityId = ret.Id, Action = "unit_inspected", ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name,
                Reason = $"{line.OrderLineRef} unit {unit}: {Codes.Of(grade)}" + (proposal is null ? "" : $"; proposed {Codes.Of(proposal.Disposition)}"),
                DataJson = Json.Serialize(new { inspection_id = inspection.Id, order_line_id = line.OrderLineRef, unit, grade = Codes.Of(grade), checklist, notes, proposal }),
                OccurredAt = now,
            });
            units.Add(new InspectedUnitDto(InspectionDto.From(inspection), disposition is null ? null : DispositionDto.From(disposition)));
        }
        var left = ret.Lines.Sum(l => l.Quantity) - taken;
        if (left == 0) await ReturnTransitions.MoveAsync(db, ret, ReturnStatus.Inspected, actor, "every unit is inspected", now, ct);
        else
        {
            ret.Touch(now);
            // No status change, but the return's numbers changed (units graded used, for analytics and shopper profiles).
            db.Publish(UnitsInspectedEvent, new { return_id = ret.Id, rma = ret.Rma, left }, now, ret.MerchantId);
        }

        return (units, left);
    }
}
