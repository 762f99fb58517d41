using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Staff;
using Retour.Features.Tenancy;
using Retour.Features.Webhooks;

namespace Retour.Features.Console.Pages.Settings;

/// <summary>Admin settings: people (roles, invitations), API keys (shown once, revocable) and webhook endpoints.</summary>
[Authorize(Policy = ConsolePolicy.StaffAdmin)]
public sealed class IndexModel : ConsolePage
{
    public override string Section => "settings";
    public StaffDto Staff { get; private set; } = null!;
    public IReadOnlyList<ApiKeyDto> Keys { get; private set; } = [];
    public IReadOnlyList<WebhookEndpoint> Webhooks { get; private set; } = [];

    public async Task OnGetAsync()
    {
        Title = T("settings.title");
        var ct = HttpContext.RequestAborted;
        Staff = (await StaffEndpoints.List(Db, Clock, ct)).Value!;
        Keys = (await StaffEndpoints.ListKeys(Db, ct)).Value!;
        Webhooks = await Db.WebhookEndpoints.AsNoTracking().OrderBy(w => w.CreatedAt).ToListAsync(ct);
    }

    public IReadOnlyList<string> AllScopes => Scopes.All;
}
