using System.Net;
using System.Text.RegularExpressions;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

/// <summary>A host that sends email to the test SMTP sink (a real SMTP server on 127.0.0.1), with fast refunds.</summary>
public sealed class SmtpApp() : RetourApp(null, new Dictionary<string, string?>
{
    ["Smtp:Host"] = "127.0.0.1", ["Smtp:Port"] = SmtpSink.Port.ToString(), ["Smtp:From"] = "returns@retour.test",
    ["RETOUR_PUBLIC_URL"] = "http://retour.test",
});

/// <summary>
/// The shopper's emails go through a real SMTP server, in their order's language: the confirmation with the signed
/// link to their status page, and the refund when it goes out. The delivery log shows them, within the merchant.
/// </summary>
public sealed class NotificationTests(SmtpApp app) : IClassFixture<SmtpApp>
{
    private static readonly object ApparelOk = new { item_matches_order = true, tags_attached = true, unworn = true, no_stains_or_odour = true };

    private static async Task<string> ReturnAsync(TestMerchant m, string number, string email, string locale)
    {
        (await m.Client.Post("/api/v1/orders", Orders.Order(number, DateTimeOffset.UtcNow.AddDays(-6), DateTimeOffset.UtcNow.AddDays(-3), email, locale)))
            .Expect(HttpStatusCode.Created);
        return (await m.Client.Post("/api/v1/returns", Orders.ReturnOf(number))).Expect(HttpStatusCode.Created).Str("rma");
    }

    [Fact]
    public async Task TheConfirmationAndTheRefund_ReachTheShopper_InTheirLanguage_ThroughSmtp()
    {
        var m = await app.NewMerchantAsync();
        var email = $"sam.{Guid.NewGuid():N}@example.com";
        var rma = await ReturnAsync(m, "N-1", email, "de");

        var confirmation = await SmtpSink.WaitForAsync(email, x => x.Subject.Contains(rma), "the confirmation");
        Assert.Equal($"Ihre Rücksendung {rma} zur Bestellung N-1", confirmation.Subject);
        Assert.StartsWith("Hallo Sam Shopper,", confirmation.Body);
        Assert.Contains("Status: Genehmigt", confirmation.Body, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("de", confirmation.Headers["Content-Language"]);
        Assert.Contains("returns@retour.test", confirmation.Headers["From"]);
        // The link in the email opens the shopper's status page (signed, no login).
        var link = Regex.Match(confirmation.Body, @"http://retour\.test(/r/\S+)").Groups[1].Value;
        Assert.Contains("lang=de", link);
        var page = await app.Client(null).GetAsync(link);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains(rma, await page.Content.ReadAsStringAsync());

        // The refund, once it goes out after inspection.
        (await m.Client.Post("/api/v1/warehouse/receipts", new { code = rma })).Expect(HttpStatusCode.OK);
        (await m.Client.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { new { order_line_id = "L1", grade = "new", checklist = ApparelOk } } }))
            .Expect(HttpStatusCode.OK);
        var refund = await SmtpSink.WaitForAsync(email, x => x.Subject.Contains("Erstattung"), "the refund email");
        Assert.Equal($"Ihre Erstattung für die Rücksendung {rma}", refund.Subject);
        Assert.Contains("auf Ihr ursprüngliches Zahlungsmittel", refund.Body);
        Assert.Contains("20,00", refund.Body);

        var log = (await m.Client.Get($"/api/v1/notifications?return={rma}")).Expect(HttpStatusCode.OK)["data"]!.AsArray();
        Assert.Equal(["refund_issued", "inspected", "arrived", "return_created"], log.Select(n => n!.Str("template")).ToArray());
        Assert.All(log, n => Assert.Equal("sent", n!.Str("status")));
        var other = await app.NewMerchantAsync();
        (await other.Client.Get($"/api/v1/notifications?return={rma}")).Expect(HttpStatusCode.NotFound);
        Assert.Empty((await other.Client.Get("/api/v1/notifications")).Expect(HttpStatusCode.OK)["data"]!.AsArray());
        (await m.Client.Get("/api/v1/notifications?status=lost")).Expect(HttpStatusCode.UnprocessableEntity);
    }

    [Theory]
    [InlineData("ar", "طلب الإرجاع")]
    [InlineData("ko", "의 반품")]
    [InlineData("ru", "Ваш возврат")]
    [InlineData("es", "Tu devolución")]
    [InlineData("en", "Your return")]
    public async Task TheConfirmation_IsInTheOrdersLanguage(string locale, string subjectPart)
    {
        var m = await app.NewMerchantAsync();
        var email = $"shopper.{locale}.{Guid.NewGuid():N}@example.com";
        var rma = await ReturnAsync(m, "L-" + locale, email, locale);
        var mail = await SmtpSink.WaitForAsync(email, x => x.Subject.Contains(rma), "the confirmation");
        Assert.Contains(subjectPart, mail.Subject);
        Assert.Equal(locale, mail.Headers["Content-Language"]);
    }

    [Fact]
    public async Task EachStepTheShopperCaresAbout_IsAnEmail_ApprovalArrivalInspectionCredit_AndRejectionWithItsReason()
    {
        var m = await app.NewMerchantAsync(Retour.Core.Policies.ReturnPolicy.Default with { AutoApproval = new() { Enabled = false } });
        var email = $"ana.{Guid.NewGuid():N}@example.com";
        (await m.Client.Post("/api/v1/orders", Orders.Order("E-1", DateTimeOffset.UtcNow.AddDays(-6), DateTimeOffset.UtcNow.AddDays(-3), email, "es")))
            .Expect(HttpStatusCode.Created);
        var created = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("E-1", resolution: "store_credit"))).Expect(HttpStatusCode.Created);
        Assert.Equal("pending_review", created.Str("status"));
        var rma = created.Str("rma");
        (await m.Client.Post($"/api/v1/returns/{rma}/approve", new { reason = "ok" })).Expect(HttpStatusCode.OK);
        var approved = await SmtpSink.WaitForAsync(email, x => x.Subject == $"Tu devolución {rma} está aprobada", "the approval");
        Assert.Contains("página de tu devolución", approved.Body);

        (await m.Client.Post("/api/v1/warehouse/receipts", new { code = rma })).Expect(HttpStatusCode.OK);
        await SmtpSink.WaitForAsync(email, x => x.Subject == $"Tu devolución {rma} ha llegado", "the arrival");
        (await m.Client.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { new { order_line_id = "L1", grade = "new", checklist = ApparelOk } } }))
            .Expect(HttpStatusCode.OK);
        await SmtpSink.WaitForAsync(email, x => x.Subject == $"Hemos revisado tu devolución {rma}", "the inspection");
        var credit = await SmtpSink.WaitForAsync(email, x => x.Subject == $"Tu crédito en tienda por la devolución {rma}", "the store credit");
        var code = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK)["refunds"]![0]!.Str("gift_card_code");
        Assert.Contains($"Tu código de tarjeta regalo: {code}", credit.Body);
        Assert.Contains("Válido hasta el", credit.Body);

        // A rejection in Russian, with the reason staff gave.
        var ru = $"ivan.{Guid.NewGuid():N}@example.com";
        (await m.Client.Post("/api/v1/orders", Orders.Order("E-2", DateTimeOffset.UtcNow.AddDays(-6), DateTimeOffset.UtcNow.AddDays(-3), ru, "ru")))
            .Expect(HttpStatusCode.Created);
        var second = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("E-2"))).Expect(HttpStatusCode.Created).Str("rma");
        (await m.Client.Post($"/api/v1/returns/{second}/reject", new { reason = "Товар был в употреблении" })).Expect(HttpStatusCode.OK);
        var rejected = await SmtpSink.WaitForAsync(ru, x => x.Subject == $"Возврат {second} не может быть принят", "the rejection");
        Assert.Contains("Причина: Товар был в употреблении", rejected.Body);
        // Each step once: the two store events (arrived, inspected) are not doubled, the approval not sent twice.
        Assert.Single(SmtpSink.To(email), x => x.Subject.Contains("ha llegado"));
        Assert.Single(SmtpSink.To(email), x => x.Subject.Contains("aprobada"));
    }

    [Fact]
    public async Task SupportCanWriteToTheShopper_OnceWithAnIdempotencyKey_AndTheHistoryShowsIt()
    {
        var m = await app.NewMerchantAsync();
        var email = $"kim.{Guid.NewGuid():N}@example.com";
        var rma = await ReturnAsync(m, "M-1", email, "ko");
        var message = new { subject = "Your parcel", body = "We have a question about the colour you ordered.\nPlease reply to this email." };
        var first = (await m.Client.Post($"/api/v1/returns/{rma}/messages", message, idempotencyKey: "msg-1")).Expect(HttpStatusCode.Created);
        (await m.Client.Post($"/api/v1/returns/{rma}/messages", message, idempotencyKey: "msg-1")).Expect(HttpStatusCode.Created);
        var mail = await SmtpSink.WaitForAsync(email, x => x.Subject == "Your parcel", "the staff message");
        Assert.StartsWith("Sam Shopper님, 안녕하세요.", mail.Body);
        Assert.Contains("question about the colour", mail.Body);
        Assert.Contains(rma, mail.Body);
        await Task.Delay(500);
        Assert.Single(SmtpSink.To(email), x => x.Subject == "Your parcel"); // the retried request sent nothing more
        var other0 = await app.NewMerchantAsync();
        (await other0.Client.Post($"/api/v1/notifications/{first.Str("id")}/resend", null)).Expect(HttpStatusCode.NotFound);
        var history = (await m.Client.Get($"/api/v1/notifications?return={rma}")).Expect(HttpStatusCode.OK)["data"]!.AsArray();
        Assert.Contains(history, n => n!.Str("id") == first.Str("id") && n.Str("template") == "staff_message");
        // Support sends it once more (as after a bounce): the same message goes out again.
        for (var i = 0; i < 100 && (await m.Client.Get($"/api/v1/notifications?return={rma}&status=sent")).Expect(HttpStatusCode.OK)["data"]!.AsArray()
                 .All(n => n!.Str("id") != first.Str("id")); i++) await Task.Delay(50);
        (await m.Client.Post($"/api/v1/notifications/{first.Str("id")}/resend", null)).Expect(HttpStatusCode.OK);
        await SmtpSink.WaitForAsync(email, _ => SmtpSink.To(email).Count(x => x.Subject == "Your parcel") == 2, "the resent message");
        (await m.Client.Post($"/api/v1/notifications/{Guid.NewGuid()}/resend", null)).Expect(HttpStatusCode.NotFound);

        var bad = (await m.Client.Post($"/api/v1/returns/{rma}/messages", new { subject = "a\nb", body = "" })).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(["body", "subject"], bad["errors"]!.AsObject().Select(kv => kv.Key).Order().ToArray());
        var other = await app.NewMerchantAsync();
        (await other.Client.Post($"/api/v1/returns/{rma}/messages", message)).Expect(HttpStatusCode.NotFound);
    }
}
