using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Console;
using Retour.Features.Staff;
using Retour.Features.Tenancy;
using Retour.Infrastructure;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Notifications;

/// <summary>
/// Emails every admin of the merchant when Retour turned one of their webhook endpoints off after it kept failing:
/// which URL, why, and where to turn it back on. In the console's language closest to the shop's.
/// </summary>
public sealed class NotifyAdmins(ConsoleTexts texts, MerchantDirectory merchants, RetourSettings settings, NotificationSender sender, TimeProvider clock)
    : IOutboxHandler
{
    public string Name => "notify_admins";
    public IReadOnlyCollection<string> Types { get; } = ["webhook_endpoint.disabled"];
    public bool IsActive => sender.CanSend(Channels.Email);

    public async Task HandleAsync(OutboxMessage message, RetourDb db, IServiceProvider services, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(message.Payload);
        var root = doc.RootElement;
        var endpointId = root.TryGetProperty("endpoint_id", out var e) && e.TryGetGuid(out var g) ? g : Guid.Empty;
        var url = root.TryGetProperty("url", out var u) ? u.GetString() ?? "" : "";
        var reason = root.TryGetProperty("reason", out var r) ? r.GetString() ?? "" : "";
        var merchant = (await merchants.GetAsync(message.MerchantId, ct))!;
        var locale = ConsoleTexts.Locales.Contains(merchant.DefaultLocale) ? merchant.DefaultLocale : "en";
        var admins = await (from m in db.StaffMemberships.AsNoTracking()
                            join user in db.StaffUsers.AsNoTracking() on m.UserId equals user.Id
                            where m.Role == StaffRoles.Admin
                            select new { user.Email, user.Name }).ToListAsync(ct);
        var now = clock.GetUtcNow();
        var link = $"{settings.PublicUrl}/console/settings/webhooks/{endpointId}";
        foreach (var admin in admins)
        {
            if (await db.Notifications.AnyAsync(n => n.EventId == message.Id && n.Recipient == admin.Email, ct)) continue;
            db.Notifications.Add(new Notification
            {
                EventId = message.Id, Template = "webhook_disabled", Channel = Channels.Email, Recipient = admin.Email, Locale = locale,
                Subject = texts.Get(locale, "email.webhook_disabled.subject", ("shop", merchant.Name)),
                Body = texts.Get(locale, "email.webhook_disabled.body", ("name", admin.Name), ("shop", merchant.Name), ("url", url), ("reason", reason), ("link", link)),
                NextAttemptAt = now, CreatedAt = now, UpdatedAt = now,
            });
        }
    }
}
