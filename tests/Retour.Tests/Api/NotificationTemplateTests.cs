using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Retour.Core.Notifications;
using Retour.Features.Carriers;
using Retour.Features.Notifications;
using Retour.Infrastructure.Localization;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

/// <summary>Email to the SMTP sink, SMS to a Twilio-speaking server on 127.0.0.1, and webhooks that give up within seconds.</summary>
public sealed class MessagingApp() : RetourApp(null, new Dictionary<string, string?>
{
    ["Smtp:Host"] = "127.0.0.1", ["Smtp:Port"] = SmtpSink.Port.ToString(), ["Smtp:From"] = "returns@retour.test",
    ["Sms:Provider"] = "twilio", ["Sms:BaseUrl"] = FakeTwilio.Instance.Url, ["Sms:AccountSid"] = FakeTwilio.AccountSid,
    ["Sms:AuthToken"] = FakeTwilio.AuthToken, ["Sms:From"] = "+15005550006",
    ["RETOUR_PUBLIC_URL"] = "http://retour.test",
    ["RETOUR_WEBHOOK_RETRY_MS"] = "100", ["RETOUR_WEBHOOK_GIVE_UP_MS"] = "2000", ["RETOUR_WEBHOOK_TIMEOUT_MS"] = "1000", ["RETOUR_WEBHOOK_ALLOW_LOCAL"] = "true",
});

/// <summary>
/// Notification templates (defaults for every message × channel × language, merchants' own Handlebars texts with
/// preview and checks), the SMS channel through a provider's real HTTP API with its delivery log and retries, the label
/// reminder, the exchange shipment, and the admins' email when a webhook endpoint is turned off.
/// </summary>
public sealed class NotificationTemplateTests(MessagingApp app) : IClassFixture<MessagingApp>
{
    private static JsonNode OrderWith(string number, string email, string locale, string? phone)
    {
        var order = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(
            Orders.Order(number, DateTimeOffset.UtcNow.AddDays(-6), DateTimeOffset.UtcNow.AddDays(-3), email, locale)))!;
        order["customer"]!["phone"] = phone;
        return order;
    }

    private static async Task<string> ReturnAsync(TestMerchant m, string number, string email, string locale, string? phone = null, string method = "drop_off")
    {
        (await m.Client.Post("/api/v1/orders", OrderWith(number, email, locale, phone))).Expect(HttpStatusCode.Created);
        return (await m.Client.Post("/api/v1/returns", Orders.ReturnOf(number, method: method))).Expect(HttpStatusCode.Created).Str("rma");
    }

    private static async Task<JsonNode> NotificationAsync(TestMerchant m, string rma, Func<JsonNode, bool> match, string what)
    {
        for (var i = 0; i < 400; i++)
        {
            var log = (await m.Client.Get($"/api/v1/notifications?return={rma}")).Expect(HttpStatusCode.OK)["data"]!.AsArray();
            if (log.FirstOrDefault(n => match(n!)) is { } hit) return hit!;
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"No notification: {what}");
    }

    [Fact]
    public void EveryMessage_HasADefault_ForEveryChannelAndLanguage_ThatRendersWithItsOwnVariables()
    {
        var texts = new Texts();
        var renderer = new TemplateRenderer();
        var checkedCount = 0;
        foreach (var t in NotificationTemplates.All)
        foreach (var channel in Channels.Templated)
        foreach (var locale in Texts.Locales)
        {
            var (subject, body) = NotificationTemplates.Default(texts, t.Key, channel, locale);
            Assert.Null(renderer.Check(body, t.Variables));
            if (channel == Channels.Email) Assert.Null(renderer.Check(subject!, t.Variables));
            else Assert.Null(subject);
            var rendered = renderer.Render(body, NotificationTemplates.Sample(texts, "Shop", locale));
            Assert.DoesNotContain("{", rendered);
            Assert.True(rendered.Contains("RT-2025-000123") || rendered.Contains("EX-2025-000123"), $"{t.Key} {channel} {locale} names neither the return nor the exchange");
            checkedCount++;
        }
        Assert.Equal(15 * 2 * 6, checkedCount);
        // The steps the product promises, each a message.
        foreach (var key in new[] { "return_created", "return_approved", "return_rejected", "label_ready", "pickup_scheduled", "pickup_failed", "in_transit", "arrived",
                     "inspected", "refund_issued", "credit_issued", "exchange_shipped", "label_expiring" })
            Assert.Contains(key, NotificationTemplates.ByKey.Keys);
        Assert.Contains("{{pickup_url}}", NotificationTemplates.Default(texts, "pickup_failed", Channels.Sms, "ko").Body);
    }

    [Fact]
    public void SmsParts_AndNumbers()
    {
        Assert.Equal(new SmsSegments("GSM-7", 160, 1, 160), Sms.Measure(new string('a', 160)));
        Assert.Equal(2, Sms.Measure(new string('a', 161)).Segments);
        Assert.Equal(1, Sms.Measure(new string('€', 80)).Segments);
        Assert.Equal(2, Sms.Measure(new string('€', 81)).Segments); // the extension table counts twice
        Assert.Equal(new SmsSegments("UCS-2", 70, 1, 70), Sms.Measure(new string('ж', 70)));
        Assert.Equal(3, Sms.Measure(new string('가', 135)).Segments);
        Assert.Equal("+4915123456789", Sms.E164("+49 (151) 234-567.89"));
        Assert.Equal("+4915123456789", Sms.E164("0049 151 23456789"));
        Assert.Null(Sms.E164("0151 23456789")); // no country code: not guessed
        Assert.Null(Sms.E164("+49 151 CALL ME"));
        Assert.Null(Sms.E164("+123"));
        var now = DateTimeOffset.UtcNow;
        Assert.Equal(now.AddDays(27), CarrierWorker.ReminderAt(now, now.AddDays(30)));
        Assert.Equal(now.AddDays(2), CarrierWorker.ReminderAt(now, now.AddDays(3)));
        Assert.Null(CarrierWorker.ReminderAt(now, now.AddDays(1)));
    }

    [Fact]
    public async Task AMerchantsOwnTemplate_IsCheckedPreviewedAndSent_InItsLanguageOnly_AndCanBeReset()
    {
        var m = await app.NewMerchantAsync();
        var url = "/api/v1/notification-templates/return_created/email/de";
        var original = (await m.Client.Get(url)).Expect(HttpStatusCode.OK);
        Assert.False(original["customized"]!.GetValue<bool>());
        Assert.Equal("Ihre Rücksendung {{rma}} zur Bestellung {{order}}", original.Str("subject"));

        // Mistakes are caught when saving, field by field.
        var bad = (await m.Client.Put(url, new { subject = "Rücksendung {{rmaa}}", body = "{{#if name}}Hallo" })).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("{{rmaa}}", bad.Str("errors.subject.0"));
        Assert.Contains("cannot be used", bad.Str("errors.body.0"));
        (await m.Client.Put("/api/v1/notification-templates/return_created/sms/de", new { subject = "x", body = "{{rma}}" })).Expect(HttpStatusCode.UnprocessableEntity);
        (await m.Client.Put("/api/v1/notification-templates/nope/email/de", new { subject = "x", body = "y" })).Expect(HttpStatusCode.NotFound);
        (await m.Client.Put("/api/v1/notification-templates/return_created/email/fr", new { subject = "x", body = "y" })).Expect(HttpStatusCode.NotFound);

        var body = "{{#if name}}Moin {{name}}!{{else}}Moin!{{/if}}\n\nWir haben {{rma}}. Status: {{status}}\n{{status_url}}\n\nBis bald, {{shop}}";
        var preview = (await m.Client.Post("/api/v1/notification-templates/preview",
            new { template = "return_created", channel = "email", locale = "de", subject = "Rücksendung {{rma}} ist da", body })).Expect(HttpStatusCode.OK);
        Assert.Equal("Rücksendung RT-2025-000123 ist da", preview.Str("subject"));
        Assert.StartsWith("Moin Alex Example!", preview.Str("body"));
        var sms = (await m.Client.Post("/api/v1/notification-templates/preview", new { template = "label_ready", channel = "sms", locale = "ar" })).Expect(HttpStatusCode.OK);
        Assert.Equal("UCS-2", sms.Str("sms.encoding"));
        Assert.True(sms["sms"]!["segments"]!.GetValue<int>() >= 2);

        var saved = (await m.Client.Put(url, new { subject = "Rücksendung {{rma}} ist da", body })).Expect(HttpStatusCode.OK);
        Assert.True(saved["customized"]!.GetValue<bool>());
        var catalog = (await m.Client.Get("/api/v1/notification-templates")).Expect(HttpStatusCode.OK);
        var created = catalog["templates"]!.AsArray().Single(t => t!.Str("template") == "return_created")!;
        Assert.Equal(["de"], created["email"]!["customized"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal(15, catalog["templates"]!.AsArray().Count);

        var de = $"jan.{Guid.NewGuid():N}@example.com";
        var rma = await ReturnAsync(m, "T-1", de, "de");
        var mail = await SmtpSink.WaitForAsync(de, x => x.Subject == $"Rücksendung {rma} ist da", "the merchant's own German confirmation");
        Assert.StartsWith("Moin Sam Shopper!", mail.Body);
        Assert.Contains($"Wir haben {rma}. Status: Genehmigt", mail.Body);
        var en = $"jo.{Guid.NewGuid():N}@example.com";
        var other = await ReturnAsync(m, "T-2", en, "en");
        await SmtpSink.WaitForAsync(en, x => x.Subject == $"Your return {other} for order T-2", "the default English confirmation");

        // Another merchant sees its own defaults, never this text.
        var stranger = await app.NewMerchantAsync();
        Assert.False((await stranger.Client.Get(url)).Expect(HttpStatusCode.OK)["customized"]!.GetValue<bool>());
        Assert.Empty((await stranger.Client.Get("/api/v1/notification-templates")).Expect(HttpStatusCode.OK)["templates"]!.AsArray()
            .SelectMany(t => t!["email"]!["customized"]!.AsArray()));

        // Agents write to shoppers but do not change the shop's templates; the API's rule, for a session too.
        var agentEmail = $"agent.{Guid.NewGuid():N}@example.com";
        await Staff.AddAsync(app, m.Id, agentEmail, "agent");
        var agent = await Staff.SessionAsync(app, agentEmail);
        (await agent.Put(url, new { subject = "x {{rma}}", body = "y" })).Expect(HttpStatusCode.Forbidden);
        (await agent.Get(url)).Expect(HttpStatusCode.OK);

        var reset = (await m.Client.Send(HttpMethod.Delete, url)).Expect(HttpStatusCode.OK);
        Assert.False(reset["customized"]!.GetValue<bool>());
        Assert.Equal(original.Str("body"), reset.Str("body"));
        var audit = await app.WithDb(m.Id, db => db.AuditEvents.Where(a => a.EntityType == "notification_template").Select(a => a.Action).ToListAsync());
        Assert.Equal(["template_reset", "template_saved"], audit.Order().ToArray());
    }

    [Fact]
    public async Task Sms_GoesThroughTheProvidersApi_InTheShoppersLanguage_WithTheLogRetriesAndRefusals()
    {
        var m = await app.NewMerchantAsync();
        // Off until the merchant turns it on.
        var settings = (await m.Client.Get("/api/v1/notification-settings")).Expect(HttpStatusCode.OK);
        Assert.False(settings["sms_enabled"]!.GetValue<bool>());
        Assert.True(settings["sms_available"]!.GetValue<bool>());
        (await m.Client.Put("/api/v1/notification-settings", new { sms_enabled = true, sms_templates = new[] { "return_created", "nonsense" } }))
            .Expect(HttpStatusCode.UnprocessableEntity);
        (await m.Client.Put("/api/v1/notification-settings", new { sms_enabled = true, sms_templates = new[] { "return_created", "refund_issued" } })).Expect(HttpStatusCode.OK);

        var phone = "+49 151 " + Random.Shared.Next(1000000, 9999999);
        var e164 = Sms.E164(phone)!;
        var rma = await ReturnAsync(m, "S-1", $"s.{Guid.NewGuid():N}@example.com", "ru", phone);
        var sms = await FakeTwilio.Instance.WaitForAsync(e164, x => x.Body.Contains(rma), "the confirmation by SMS");
        Assert.Equal("+15005550006", sms.From);
        Assert.StartsWith("Test shop", sms.Body);
        Assert.Contains($"ваш возврат {rma} принят", sms.Body);
        var logged = await NotificationAsync(m, rma, n => n.Str("channel") == "sms" && n.Str("status") == "sent", "the SMS in the log");
        Assert.Equal(sms.Sid, logged.Str("provider_ref"));
        Assert.Equal(e164, logged.Str("recipient"));
        Assert.Equal("ru", logged.Str("locale"));

        // The provider fails once: the message waits for its retry (resend brings it forward), then goes.
        var flaky = "+4917" + Random.Shared.Next(10000000, 99999999);
        FakeTwilio.Instance.FailNext[flaky] = 1;
        var second = await ReturnAsync(m, "S-2", $"f.{Guid.NewGuid():N}@example.com", "en", flaky);
        var failed = await NotificationAsync(m, second, n => n.Str("channel") == "sms" && n.Str("status") == "failed", "the failed SMS");
        Assert.Contains("HTTP 500", failed.Str("last_error"));
        (await m.Client.Post($"/api/v1/notifications/{failed.Str("id")}/resend", null)).Expect(HttpStatusCode.OK);
        await FakeTwilio.Instance.WaitForAsync(flaky, x => x.Body.Contains(second), "the retried SMS");
        await NotificationAsync(m, second, n => n.Str("channel") == "sms" && n.Str("status") == "sent" && n["last_error"] is null, "sent after the resend");

        // A number the provider refuses is not retried; a number without a country code is not guessed.
        var refused = await ReturnAsync(m, "S-3", $"r.{Guid.NewGuid():N}@example.com", "en", "+15005550001");
        var dead = await NotificationAsync(m, refused, n => n.Str("channel") == "sms" && n.Str("status") == "dead", "the refused SMS");
        Assert.Contains("21211", dead.Str("last_error"));
        Assert.Equal(1, dead["attempts"]!.GetValue<int>());
        var local = await ReturnAsync(m, "S-4", $"l.{Guid.NewGuid():N}@example.com", "en", "0151 2345678");
        var skipped = await NotificationAsync(m, local, n => n.Str("channel") == "sms", "the skipped SMS");
        Assert.Equal("skipped", skipped.Str("status"));
        Assert.Contains("country code", skipped.Str("last_error"));
        // Email went out as well, each channel in its own row.
        await NotificationAsync(m, local, n => n.Str("channel") == "email" && n.Str("status") == "sent", "the email beside it");
        Assert.DoesNotContain(FakeTwilio.Instance.Messages, x => x.Body.Contains(local));
    }

    [Fact]
    public async Task TheLabelReminder_AndTheExchangeShipment_ReachTheShopper()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/carriers", CarrierRegistryTests.Carrier("dhl", 4.9m))).Expect(HttpStatusCode.Created);
        var email = $"rem.{Guid.NewGuid():N}@example.com";
        var rma = await ReturnAsync(m, "R-1", email, "es");
        JsonNode? shipment = null;
        for (var i = 0; i < 200 && shipment?["label_expires_at"] is null; i++)
        {
            await Task.Delay(50);
            shipment = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK)["shipment"];
        }
        Assert.NotNull(shipment!["label_expires_at"]);
        var reminder = await app.WithDb(m.Id, db => db.Shipments.Where(s => s.TrackingNumber == shipment.Str("tracking_number")).Select(s => s.LabelReminderAt).FirstAsync());
        Assert.NotNull(reminder);
        await app.WithDb(m.Id, db => db.Shipments.Where(s => s.TrackingNumber == shipment.Str("tracking_number"))
            .ExecuteUpdateAsync(u => u.SetProperty(s => s.LabelReminderAt, DateTimeOffset.UtcNow.AddMinutes(-1))));
        await app.Services.GetRequiredService<CarrierWorker>().RemindLabelsAsync(CancellationToken.None);
        var mail = await SmtpSink.WaitForAsync(email, x => x.Subject.Contains("caduca"), "the reminder");
        Assert.StartsWith($"Tu etiqueta de devolución para {rma} caduca el", mail.Subject);
        Assert.Equal(1, await app.WithDb(m.Id, db => db.OutboxMessages.CountAsync(o => o.Type == CarrierWorker.ExpiringEvent)));
        Assert.Equal(0, await app.Services.GetRequiredService<CarrierWorker>().RemindLabelsAsync(CancellationToken.None));

        // An exchange order, then its shipment.
        foreach (var (s, p) in new[] { ("TEE-M", 20m), ("TEE-S", 15m) })
            (await m.Client.Put($"/api/v1/products/{s}", new { product_code = "TEE", title = "Tee", category = "apparel", price = p, stock = 5 })).Expect(HttpStatusCode.OK);
        var order = OrderWith("X-1", email, "es", null);
        order["lines"] = JsonNode.Parse("""[{"id":"L1","sku":"TEE-M","product_code":"TEE","title":"Tee M","category":"apparel","quantity":1,"unit_price":"20.00"}]""");
        (await m.Client.Post("/api/v1/orders", order)).Expect(HttpStatusCode.Created);
        var x = (await m.Client.Post("/api/v1/returns", new
        {
            order_number = "X-1", resolution = "exchange", method = "drop_off",
            lines = new[] { new { order_line_id = "L1", quantity = 1, reason = "too_small", exchange_sku = "TEE-S" } },
        })).Expect(HttpStatusCode.Created).Str("rma");
        (await m.Client.Post("/api/v1/warehouse/receipts", new { code = x })).Expect(HttpStatusCode.OK);
        (await m.Client.Post($"/api/v1/returns/{x}/inspections", new
        {
            lines = new[] { new { order_line_id = "L1", grade = "new", checklist = new { item_matches_order = true, tags_attached = true, unworn = true, no_stains_or_odour = true } } },
        })).Expect(HttpStatusCode.OK);
        string? number = null;
        for (var i = 0; i < 300 && number is null; i++)
        {
            await Task.Delay(50);
            var refunds = (await m.Client.Get($"/api/v1/returns/{x}")).Expect(HttpStatusCode.OK)["refunds"]!.AsArray();
            number = refunds.Count == 0 ? null : refunds[0].Node("exchange_order.number")?.GetValue<string>();
        }
        Assert.NotNull(number);
        (await m.Client.Post($"/api/v1/exchanges/{number}/shipped", new { carrier = "DHL" })).Expect(HttpStatusCode.UnprocessableEntity);
        (await m.Client.Post($"/api/v1/exchanges/EX-NOPE/shipped", new { carrier = "DHL", tracking_number = "1" })).Expect(HttpStatusCode.NotFound);
        var shipped = (await m.Client.Post($"/api/v1/exchanges/{number}/shipped", new { carrier = "DHL", tracking_number = "JJD0099" })).Expect(HttpStatusCode.OK);
        Assert.Equal("shipped", shipped.Str("status"));
        (await m.Client.Post($"/api/v1/exchanges/{number}/shipped", new { carrier = "DHL", tracking_number = "JJD0099" })).Expect(HttpStatusCode.OK);
        (await m.Client.Post($"/api/v1/exchanges/{number}/shipped", new { carrier = "UPS", tracking_number = "1Z" })).Expect(HttpStatusCode.Conflict);
        var stranger = await app.NewMerchantAsync();
        (await stranger.Client.Post($"/api/v1/exchanges/{number}/shipped", new { carrier = "DHL", tracking_number = "JJD0099" })).Expect(HttpStatusCode.NotFound);
        var shippedMail = await SmtpSink.WaitForAsync(email, y => y.Subject == $"Tu cambio {number} está en camino", "the exchange shipment");
        Assert.Contains("JJD0099", shippedMail.Body);
        Assert.Contains("DHL", shippedMail.Body);
        Assert.Equal(1, await app.WithDb(m.Id, db => db.OutboxMessages.CountAsync(o => o.Type == "exchange.shipped")));
    }

    [Fact]
    public async Task WhenRetourTurnsAWebhookEndpointOff_EveryAdminOfThatMerchantGetsAnEmail()
    {
        var m = await app.NewMerchantAsync();
        var admin = $"admin.{Guid.NewGuid():N}@example.com";
        var agent = $"agent.{Guid.NewGuid():N}@example.com";
        await Staff.AddAsync(app, m.Id, admin, "admin");
        await Staff.AddAsync(app, m.Id, agent, "agent");
        var otherShop = await app.NewMerchantAsync();
        var otherAdmin = $"admin.{Guid.NewGuid():N}@example.com";
        await Staff.AddAsync(app, otherShop.Id, otherAdmin, "admin");

        await using var receiver = await Receiver.StartAsync();
        receiver.Answer = _ => 500;
        var hook = (await m.Client.Post("/api/v1/webhooks", new { url = receiver.Url, events = new[] { "return.requested" } })).Expect(HttpStatusCode.Created);
        await ReturnAsync(m, "W-1", $"w.{Guid.NewGuid():N}@example.com", "en");
        var mail = await SmtpSink.WaitForAsync(admin, x => x.Subject.Contains("was turned off"), "the admin's alert", seconds: 30);
        Assert.Contains(receiver.Url, mail.Body);
        Assert.Contains($"/console/settings/webhooks/{hook.Str("id")}", mail.Body);
        await Task.Delay(500);
        Assert.Empty(SmtpSink.To(agent));
        Assert.Empty(SmtpSink.To(otherAdmin));
        Assert.False((await m.Client.Get($"/api/v1/webhooks/{hook.Str("id")}")).Expect(HttpStatusCode.OK)["active"]!.GetValue<bool>());
    }
}
