using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Warehouse;
using Retour.Features.Returns;
using Retour.Features.Warehouses;

namespace Retour.Features.Console.Pages.Warehouse;

public sealed record UnitToInspect(string OrderLineId, int Unit, string Title, string? Sku, string Category, string Reason, IReadOnlyList<string> Questions);

/// <summary>
/// Inspection, one form for every unit still to grade (grade, the category's checklist, notes), then the confirmation
/// of the proposed dispositions. Keyboard first: the first grade has focus, Tab walks the form, Ctrl+Enter submits,
/// Escape goes back to receiving. Posts to the same API as integrations (inspections, dispositions).
/// </summary>
[Authorize(Policy = ConsolePolicy.WarehouseWrite)]
public sealed class InspectModel : ConsolePage
{
    public override string Section => "warehouse";
    public ReturnDto Return { get; private set; } = null!;
    public IReadOnlyList<UnitToInspect> Units { get; private set; } = [];
    public IReadOnlyList<DispositionDto> Open { get; private set; } = [];
    public bool Found => Return is not null;

    public async Task<IActionResult> OnGetAsync(string rma)
    {
        var ct = HttpContext.RequestAborted;
        if ((await ReadReturns.GetOne(rma, Db, ct)).Result is not Ok<ReturnDto> { Value: { } ret })
        {
            Title = T("detail.not_found_title");
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }
        Return = ret;
        Title = T("inspect.title", ("rma", ret.Rma));
        var rules = await WarehouseRulesEndpoints.LoadAsync(Db, ct);
        var done = (ret.Inspections ?? []).Select(i => (i.OrderLineId, i.Unit)).ToHashSet();
        Units = [.. ret.Lines.SelectMany(l => Enumerable.Range(1, l.Quantity).Where(u => !done.Contains((l.OrderLineId, u)))
            .Select(u => new UnitToInspect(l.OrderLineId, u, l.Title, l.Sku, l.Category, Label("reason", l.Reason), Checklists.For(rules.Checklists, l.Category))))];
        Open = [.. (ret.Dispositions ?? []).Where(d => d.State == DispositionState.Proposed)];
        return Page();
    }
}
