using Microsoft.AspNetCore.Mvc;
using Retour.Features.Tenancy;

namespace Retour.Features.Console.Pages;

/// <summary>Each role starts where its work is: the warehouse at receiving, everyone else at the returns queue.</summary>
public sealed class IndexModel : ConsolePage
{
    public IActionResult OnGet() =>
        Redirect(Can(Scopes.WarehouseWrite) && !Can(Scopes.ReturnsWrite) ? "/console/warehouse" : "/console/returns?view=needs_review");
}
