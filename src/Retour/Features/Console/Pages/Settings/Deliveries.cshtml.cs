using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Webhooks;

namespace Retour.Features.Console.Pages.Settings;

/// <summary>One webhook endpoint's delivery log (newest first, 100 a page), with replay.</summary>
[Authorize(Policy = ConsolePolicy.WebhooksRead)]
public sealed class DeliveriesModel : ConsolePage
{
    public override string Section => "settings";
    public WebhookEndpoint? Endpoint { get; private set; }
    public IReadOnlyList<WebhookDelivery> Deliveries { get; private set; } = [];
    [FromQuery(Name = "status")] public string? Status { get; set; }

    public async Task<IActionResult> OnGetAsync(Guid id)
    {
        var ct = HttpContext.RequestAborted;
        Endpoint = await Db.WebhookEndpoints.AsNoTracking().FirstOrDefaultAsync(w => w.Id == id, ct);
        Title = T("settings.deliveries");
        if (Endpoint is null) { Response.StatusCode = 404; return Page(); }
        var q = Db.WebhookDeliveries.AsNoTracking().Where(d => d.EndpointId == id);
        if (Status is not null && DeliveryStatus.All.Contains(Status)) q = q.Where(d => d.Status == Status);
        Deliveries = await q.OrderByDescending(d => d.CreatedAt).Take(100).ToListAsync(ct);
        return Page();
    }
}
