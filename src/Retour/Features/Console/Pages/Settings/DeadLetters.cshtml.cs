using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Console.Pages.Settings;

/// <summary>This merchant's dead letters (newest first, 100 a page), each with its error and a retry.</summary>
[Authorize(Policy = ConsolePolicy.WebhooksRead)]
public sealed class DeadLettersModel : ConsolePage
{
    public override string Section => "settings";
    public IReadOnlyList<OutboxMessage> Dead { get; private set; } = [];

    public async Task OnGetAsync()
    {
        Title = T("settings.tab_events");
        Dead = await Webhooks.DeadLetterEndpoints.Dead(Db)
            .OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).Take(100).ToListAsync(HttpContext.RequestAborted);
    }
}
