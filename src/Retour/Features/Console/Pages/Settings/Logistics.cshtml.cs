using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Retour.Features.Carriers;
using Retour.Features.Warehouses;
using Retour.Infrastructure.Http;

namespace Retour.Features.Console.Pages.Settings;

/// <summary>
/// Carriers (the registry, one document each), the allocation rules and the warehouse's disposition rules, each edited
/// as the JSON the API takes and saved through it, so a field error reads the same here as from curl.
/// </summary>
[Authorize(Policy = ConsolePolicy.StaffAdmin)]
public sealed class LogisticsModel : ConsolePage
{
    public override string Section => "settings";
    public IReadOnlyList<CarrierDto> Carriers { get; private set; } = [];
    public string AllocationJson { get; private set; } = "";
    public string RulesJson { get; private set; } = "";


    /// <summary>A carrier as PUT takes it (the timestamps left out).</summary>
    public static string Editable(CarrierDto c)
    {
        var node = JsonSerializer.SerializeToNode(c, Json.Options)!.AsObject();
        node.Remove("created_at");
        node.Remove("updated_at");
        return Json.Indented(node);
    }

    public const string NewCarrier = """
        {
          "code": "",
          "name": "",
          "adapter": "sandbox",
          "services": ["pickup", "drop_off"],
          "areas": [{ "country": "DE" }],
          "transit_days": 3
        }
        """;

    public async Task OnGetAsync()
    {
        Title = T("logistics.title");
        var ct = HttpContext.RequestAborted;
        Carriers = (await CarrierEndpoints.List(Db, ct)).Value!;
        AllocationJson = Json.Indented((await CarrierEndpoints.GetAllocation(Db, ct)).Value);
        RulesJson = Json.Indented((await WarehouseRulesEndpoints.Get(Db, ct)).Value);
    }
}
