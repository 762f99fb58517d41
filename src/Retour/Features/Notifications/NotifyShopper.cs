using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Money;
using Retour.Core.Returns;
using Retour.Features.Portal;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Localization;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Notifications;

/// <summary>
/// Emails the shopper when their return is created (the confirmation, with the signed link to its status page) and when
/// the refund goes out, in the return's language. Runs in the relay's unit of work: the message is rendered and queued
/// (unique per event × template × recipient), and <see cref="EmailSender"/> sends it after that commits.
/// </summary>
public sealed class NotifyShopper(Texts texts, MerchantDirectory merchants, IDataProtectionProvider protection, RetourSettings settings, TimeProvider clock)
    : IOutboxHandler
{
    public string Name => "notify_shopper";
    public IReadOnlyCollection<string> Types { get; } = ["return.requested", "refund.issued"];

    /// <summary>Without an SMTP server there is no channel to send on, and nothing is queued.</summary>
    public ValueTask<bool> WantsAsync(OutboxMessage message, CancellationToken ct) => ValueTask.FromResult(settings.SmtpHost is not null);

    public async Task HandleAsync(OutboxMessage message, RetourDb db, IServiceProvider services, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(message.Payload);
        if (!doc.RootElement.TryGetProperty("return_id", out var rid) || !rid.TryGetGuid(out var returnId)) return;
        var ret = await db.Returns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == returnId, ct);
        if (ret is null) return;
        var merchant = (await merchants.GetAsync(message.MerchantId, ct))!;
        var locale = Texts.Supported(ret.Locale) is { } l && Texts.Locales.Contains(l) ? l : merchant.DefaultLocale;
        var name = await db.Orders.AsNoTracking().Where(o => o.Id == ret.OrderId).Select(o => o.CustomerName).FirstOrDefaultAsync(ct);
        var statusUrl = settings.PublicUrl + PortalPage.StatusUrl(protection, merchant.Slug, merchant.Id, ret.Rma) + "&lang=" + locale;
        var args = new List<(string, string)>
        {
            ("shop", merchant.Name), ("rma", ret.Rma), ("order", ret.OrderNumber), ("status_url", statusUrl), ("name", name ?? ""),
            ("status", texts.Get(locale, "status." + Codes.Of(ret.Status))),
        };
        string template;
        if (message.Type == "refund.issued")
        {
            var refundId = doc.RootElement.TryGetProperty("refund_id", out var f) && f.TryGetGuid(out var g) ? g : Guid.Empty;
            var refund = await db.Refunds.AsNoTracking().FirstOrDefaultAsync(r => r.Id == refundId, ct);
            if (refund is null || refund.Amount == 0) return; // nothing went out (an even exchange): nothing to announce
            var culture = Texts.Culture(locale);
            args.Add(("amount", Portal.PortalPage.FormatMoney(refund.Amount, refund.Currency, culture)));
            args.Add(("method", texts.Get(locale, "email.method." + Codes.Of(refund.Method))));
            template = "refund_issued";
        }
        else template = "return_created";

        var greeting = string.IsNullOrWhiteSpace(name) ? texts.Get(locale, "email.greeting_anonymous") : texts.Get(locale, "email.greeting", ("name", name));
        var now = clock.GetUtcNow();
        var recipient = ret.CustomerEmail?.Trim();
        var (status, why) = string.IsNullOrEmpty(recipient) ? (NotificationStatus.Skipped, "The order has no customer email.") : (NotificationStatus.Pending, (string?)null);
        if (await db.Notifications.AnyAsync(n => n.EventId == message.Id && n.Template == template, ct)) return;
        db.Notifications.Add(new Notification
        {
            ReturnId = ret.Id, EventId = message.Id, Template = template, Channel = "email", Recipient = recipient ?? "", Locale = locale,
            Subject = texts.Get(locale, $"email.{template}.subject", [.. args]), Body = greeting + "\n\n" + texts.Get(locale, $"email.{template}.body", [.. args]),
            Status = status, LastError = why, NextAttemptAt = status == NotificationStatus.Pending ? now : null, CreatedAt = now, UpdatedAt = now,
        });
    }
}
