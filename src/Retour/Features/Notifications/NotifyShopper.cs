using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Money;
using Retour.Core.Returns;
using Retour.Features.Carriers;
using Retour.Features.Portal;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Localization;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Notifications;

/// <summary>
/// Tells the shopper about each step a shopper cares about, in the return's language, by email and (where the merchant
/// turned it on and the order has a mobile number) by SMS: created (with the signed link to the status page), approved or
/// rejected, label ready or pickup booked, pickup failed (with the link to choose a new day), on its way, arrived,
/// inspected, refund or store credit issued, exchange order created and shipped, label about to expire and expired.
/// Each message is the merchant's template for that channel and language, or the default (<see cref="NotificationTemplates"/>).
/// Runs in the relay's unit of work: each message is rendered and queued once per event, template and channel, and
/// <see cref="NotificationSender"/> sends it after that commits.
/// </summary>
public sealed class NotifyShopper(Texts texts, MerchantDirectory merchants, IDataProtectionProvider protection, RetourSettings settings, TimeProvider clock,
    NotificationSender sender, TemplateRenderer renderer)
    : IOutboxHandler
{
    public string Name => "notify_shopper";

    /// <summary>Event → template (refund.issued picks credit_issued for store credit; awaiting_shipment picks pickup_scheduled for pickups).</summary>
    private static readonly Dictionary<string, string> Templates = new()
    {
        ["return.requested"] = "return_created", ["return.approved"] = "return_approved", ["return.rejected"] = "return_rejected",
        ["return.awaiting_shipment"] = "label_ready", ["return.pickup_failed"] = "pickup_failed", ["return.in_transit"] = "in_transit",
        ["return.delivered"] = "arrived", ["return.received"] = "arrived", ["return.inspected"] = "inspected", ["refund.issued"] = "refund_issued",
        ["exchange.order_created"] = "exchange_created", ["exchange.shipped"] = "exchange_shipped",
        [CarrierWorker.ExpiringEvent] = "label_expiring", [CarrierWorker.ExpiredEvent] = "label_expired",
    };

    /// <summary>Sent once per return, however many events lead to them (a parcel is delivered, then scanned in).</summary>
    private static readonly HashSet<string> OncePerReturn = ["arrived", "in_transit", "label_ready", "pickup_scheduled", "label_expiring"];

    public IReadOnlyCollection<string> Types => Templates.Keys;

    /// <summary>Without a channel to send on (no SMTP server, no SMS provider) nothing is queued.</summary>
    public bool IsActive => sender.Active.Count > 0;

    public async Task HandleAsync(OutboxMessage message, RetourDb db, IServiceProvider services, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(message.Payload);
        var root = doc.RootElement;
        Return? ret = null;
        if (root.TryGetProperty("return_id", out var rid) && rid.TryGetGuid(out var returnId))
            ret = await db.Returns.AsNoTracking().FirstOrDefaultAsync(r => r.Id == returnId, ct);
        else if (root.TryGetProperty("rma", out var r) && r.GetString() is { } rma)
            ret = await db.Returns.AsNoTracking().FirstOrDefaultAsync(x => x.Rma == rma, ct);
        if (ret is null) return;
        // Approval right after the request needs no second email: the confirmation already says it is approved.
        if (message.Type == "return.approved" && root.TryGetProperty("from", out var from) && from.GetString() is "requested" or null) return;

        var merchant = (await merchants.GetAsync(message.MerchantId, ct))!;
        var shopper = await ShopperContext.ForAsync(db, texts, merchant, protection, settings, ret, ct);
        var (locale, culture, statusPath) = (shopper.Locale, shopper.Culture, shopper.StatusPath);
        var carrier = ret.CarrierCode is null ? null : await db.Carriers.AsNoTracking().Where(c => c.Code == ret.CarrierCode).Select(c => c.Name).FirstOrDefaultAsync(ct);
        var vars = new Dictionary<string, object>
        {
            ["shop"] = merchant.Name, ["rma"] = ret.Rma, ["order"] = ret.OrderNumber, ["name"] = shopper.Name ?? "", ["greeting"] = shopper.Greeting,
            ["carrier"] = carrier ?? ret.CarrierCode ?? "", ["status"] = texts.Get(locale, "status." + Codes.Of(ret.Status)),
            ["status_url"] = shopper.StatusUrl,
            ["pickup_url"] = settings.PublicUrl + statusPath.Replace($"/returns/{ret.Rma}?", $"/returns/{ret.Rma}/pickup?") + "&lang=" + locale,
            ["portal_url"] = $"{settings.PublicUrl}/r/{merchant.Slug}?lang={locale}",
            ["date"] = ret.PickupDate is { } day ? day.ToString("D", culture) : "",
        };
        void Set(string name, string value) => vars[name] = value;
        var template = Templates[message.Type];
        switch (template)
        {
            case "label_ready" when ret.Method == ReturnMethod.Pickup:
                template = "pickup_scheduled";
                break;
            case "label_ready" when ret.Method is not (ReturnMethod.DropOff) || ret.BoxFree:
                return; // in-store, box-free and keep-it returns have no label to announce (the status page shows the QR code)
            case "return_rejected":
                var reason = root.TryGetProperty("reason", out var why) ? why.GetString() : null;
                Set("reason", string.IsNullOrWhiteSpace(reason) ? "" : "\n\n" + texts.Get(locale, "email.reason", ("reason", reason)));
                break;
            case "refund_issued":
                var refundId = root.TryGetProperty("refund_id", out var f) && f.TryGetGuid(out var g) ? g : Guid.Empty;
                var refund = await db.Refunds.AsNoTracking().FirstOrDefaultAsync(x => x.Id == refundId, ct);
                if (refund is null || refund.Amount == 0) return; // nothing went out (an even exchange): nothing to announce
                Set("amount", PortalPage.FormatMoney(refund.Amount, refund.Currency, culture));
                if (refund.Method == RefundMethod.StoreCredit)
                {
                    template = "credit_issued";
                    var expires = await db.GiftCards.AsNoTracking().Where(c => c.Code == refund.GiftCardCode).Select(c => c.ExpiresAt).FirstOrDefaultAsync(ct);
                    Set("code", refund.GiftCardCode ?? "");
                    Set("expires", expires is { } e ? texts.Get(locale, "portal.status.credit_expires", ("date", TimeZoneInfo.ConvertTime(e, merchant.Zone).ToString("D", culture))) : "");
                }
                else Set("method", texts.Get(locale, "email.method." + (refund.Method == RefundMethod.Exchange ? "original_payment" : Codes.Of(refund.Method))));
                break;
            case "exchange_created":
                var exchange = await db.ExchangeOrders.AsNoTracking().Where(x => x.ReturnId == ret.Id).OrderByDescending(x => x.CreatedAt).FirstOrDefaultAsync(ct);
                if (exchange is null) return;
                Set("exchange", exchange.Number);
                Set("difference", exchange.AmountDue > 0
                    ? "\n\n" + texts.Get(locale, "portal.status.exchange_due", ("amount", PortalPage.FormatMoney(exchange.AmountDue, exchange.Currency, culture)))
                    : exchange.Difference > 0 ? "\n\n" + texts.Get(locale, "portal.status.exchange_surplus", ("amount", PortalPage.FormatMoney(exchange.Difference, exchange.Currency, culture))) : "");
                break;
            case "exchange_shipped":
                Set("exchange", root.TryGetProperty("exchange_order", out var xo) ? xo.GetString() ?? "" : "");
                Set("tracking", root.TryGetProperty("tracking_number", out var tn) ? tn.GetString() ?? "" : "");
                if (root.TryGetProperty("carrier", out var xc) && xc.GetString() is { Length: > 0 } shippedWith) Set("carrier", shippedWith);
                break;
            case "label_expiring":
                if (root.TryGetProperty("expires_at", out var xa) && xa.TryGetDateTimeOffset(out var expiresAt))
                    Set("date", TimeZoneInfo.ConvertTime(expiresAt, merchant.Zone).ToString("D", culture));
                break;
        }

        foreach (var name in NotificationTemplates.ByKey[template].Variables) vars.TryAdd(name, "");

        var choice = NotificationSettings.Parse(await db.Merchants.AsNoTracking().Where(m => m.Id == merchant.Id).Select(m => m.NotificationSettingsJson).FirstOrDefaultAsync(ct));
        var channels = Channels.Templated.Where(c => sender.CanSend(c) && choice.Sends(c, template)).ToList();
        if (channels.Count == 0) return;
        var overrides = await db.NotificationTemplates.AsNoTracking().Where(t => t.Template == template && t.Locale == locale).ToListAsync(ct);
        var phone = channels.Contains(Channels.Sms)
            ? await db.Orders.AsNoTracking().Where(o => o.Id == ret.OrderId).Select(o => new { o.CustomerPhone, o.ShipPhone }).FirstOrDefaultAsync(ct)
            : null;
        var now = clock.GetUtcNow();
        foreach (var channel in channels)
        {
            if (OncePerReturn.Contains(template)
                    ? await db.Notifications.AnyAsync(n => n.ReturnId == ret.Id && n.Template == template && n.Channel == channel, ct)
                    : await db.Notifications.AnyAsync(n => n.EventId == message.Id && n.Template == template && n.Channel == channel, ct))
                continue;
            var mobile = Core.Notifications.Sms.E164(phone?.CustomerPhone) ?? Core.Notifications.Sms.E164(phone?.ShipPhone);
            var (recipient, skipped) = channel == Channels.Sms
                ? mobile is not null
                    ? (mobile, (string?)null)
                    : ("", string.IsNullOrWhiteSpace(phone?.CustomerPhone ?? phone?.ShipPhone) ? "The order has no phone number." : "The order's phone number has no country code (+…).")
                : string.IsNullOrWhiteSpace(ret.CustomerEmail) ? ("", "The order has no customer email.") : (ret.CustomerEmail.Trim(), null);
            var custom = overrides.FirstOrDefault(o => o.Channel == channel);
            var (subject, body) = custom is not null ? (custom.Subject, custom.Body) : NotificationTemplates.Default(texts, template, channel, locale);
            var status = skipped is null ? NotificationStatus.Pending : NotificationStatus.Skipped;
            db.Notifications.Add(new Notification
            {
                ReturnId = ret.Id, EventId = message.Id, Template = template, Channel = channel, Recipient = recipient, Locale = locale,
                Subject = subject is null ? "" : OneLine(renderer.Render(subject, vars)), Body = renderer.Render(body, vars).Trim(),
                Status = status, LastError = skipped, NextAttemptAt = skipped is null ? now : null, CreatedAt = now, UpdatedAt = now,
            });
        }
    }

    private static string OneLine(string s)
    {
        var line = string.Join(' ', s.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        return line.Length > 500 ? line[..500] : line;
    }
}
