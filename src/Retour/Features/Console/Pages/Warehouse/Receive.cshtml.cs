using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Warehouses;

namespace Retour.Features.Console.Pages.Warehouse;

/// <summary>
/// Receiving at the dock. A barcode scanner types the code and Enter; the page posts it to POST /api/v1/warehouse/receipts
/// and answers in colour and sound (received, already received, unknown parcel, refused), then is ready for the next
/// parcel: focus never leaves the scan field. F2 (or Enter on an empty field) opens the inspection of the last parcel.
/// </summary>
[Authorize(Policy = ConsolePolicy.WarehouseWrite)]
public sealed class ReceiveModel : ConsolePage
{
    public override string Section => "warehouse";
    public IReadOnlyList<(string Code, string Name, bool IsDefault)> Warehouses { get; private set; } = [];
    public IReadOnlyList<UnmatchedParcel> Unmatched { get; private set; } = [];

    public async Task OnGetAsync()
    {
        Title = T("receive.title");
        var ct = HttpContext.RequestAborted;
        Warehouses = (await Db.Warehouses.AsNoTracking().OrderByDescending(w => w.IsDefault).ThenBy(w => w.Code).Select(w => new { w.Code, w.Name, w.IsDefault }).ToListAsync(ct))
            .Select(w => (w.Code, w.Name, w.IsDefault)).ToList();
        Unmatched = await Db.UnmatchedParcels.AsNoTracking().Where(p => p.MatchedReturnId == null).OrderByDescending(p => p.ReceivedAt).Take(20).ToListAsync(ct);
    }
}
