using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Notifications;
using Retour.Infrastructure;

namespace Retour.Features.Console.Pages.Settings;

/// <summary>
/// Shopper messages: which go by email and by SMS, each message's text per channel and language (Handlebars, with a
/// live preview and SMS part count), and the delivery log of what went wrong lately, with resend.
/// </summary>
[Authorize(Policy = ConsolePolicy.StaffAdmin)]
public sealed class NotificationsModel : ConsolePage
{
    public override string Section => "settings";
    public NotificationSettings Choice { get; private set; } = NotificationSettings.Default;
    public bool EmailAvailable { get; private set; }
    public bool SmsAvailable { get; private set; }
    public IReadOnlyList<(string Template, string Channel, string Locale)> Customised { get; private set; } = [];
    public IReadOnlyList<Notification> Problems { get; private set; } = [];

    public async Task OnGetAsync()
    {
        Title = T("notifications.title");
        var ct = HttpContext.RequestAborted;
        var sender = HttpContext.RequestServices.GetRequiredService<NotificationSender>();
        (EmailAvailable, SmsAvailable) = (sender.CanSend(Channels.Email), sender.CanSend(Channels.Sms));
        Choice = NotificationSettings.Parse(await Db.Merchants.AsNoTracking().Where(m => m.Id == Merchant.Id).Select(m => m.NotificationSettingsJson).FirstOrDefaultAsync(ct));
        Customised = (await Db.NotificationTemplates.AsNoTracking().Select(t => new { t.Template, t.Channel, t.Locale }).ToListAsync(ct))
            .Select(t => (t.Template, t.Channel, t.Locale)).ToList();
        Problems = await Db.Notifications.AsNoTracking()
            .Where(n => n.Status == NotificationStatus.Failed || n.Status == NotificationStatus.Dead || n.Status == NotificationStatus.Skipped)
            .OrderByDescending(n => n.CreatedAt).Take(50).ToListAsync(ct);
    }

    public IEnumerable<string> CustomisedIn(string template, string channel) =>
        Customised.Where(c => c.Template == template && c.Channel == channel).Select(c => c.Locale).Order();
}
