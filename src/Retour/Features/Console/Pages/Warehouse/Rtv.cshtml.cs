using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Retour.Features.Warehouses;

namespace Retour.Features.Console.Pages.Warehouse;

/// <summary>Supplier (return-to-vendor) batches with their claim deadlines, and the expected recovery per disposition.</summary>
[Authorize(Policy = ConsolePolicy.WarehouseRead)]
public sealed class RtvModel : ConsolePage
{
    public override string Section => "rtv";
    public IReadOnlyList<RtvBatchDto> Batches { get; private set; } = [];
    public IReadOnlyList<RecoveryRowDto> Recovery { get; private set; } = [];

    public async Task OnGetAsync()
    {
        Title = T("rtv.title");
        var ct = HttpContext.RequestAborted;
        if ((await RtvBatches.List(Db, Clock, ct)).Result is Ok<IReadOnlyList<RtvBatchDto>> b) Batches = b.Value!;
        if ((await RtvBatches.Recovery(Db, ct)).Result is Ok<IReadOnlyList<RecoveryRowDto>> r) Recovery = r.Value!;
    }
}
