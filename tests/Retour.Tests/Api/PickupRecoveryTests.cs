using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Retour.Features.Carriers;
using Retour.Tests.Support;
using Xunit;
using static Retour.Tests.Api.CarrierRegistryTests;

namespace Retour.Tests.Api;

/// <summary>
/// Failed pickups (NDR): the sandbox carrier fails a pickup, the shopper is asked through a signed link, answers in the
/// portal (or support answers through the API), the carrier is booked again, and the case ends recovered, failed again,
/// or escalated to support after too many attempts or too long without an answer. Audited, isolated per merchant.
/// </summary>
public sealed class PickupRecoveryTests(FastCarrierApp app) : IClassFixture<FastCarrierApp>
{
    private static readonly object Failing = new { pickup_success_rate = 0, exception_rate = 0, damage_rate = 0, delay_rate = 0, duplicate_rate = 0, out_of_order_rate = 0 };
    private static readonly object Collecting = new { pickup_success_rate = 1, exception_rate = 0, damage_rate = 0, delay_rate = 0, duplicate_rate = 0, out_of_order_rate = 0 };

    /// <summary>Lets the parcel's current plan happen (its clock set far back) and polls the sandbox.</summary>
    private async Task LiveAsync(TestMerchant m, string tracking)
    {
        var past = DateTimeOffset.UtcNow.AddDays(-60);
        await app.WithDb(m.Id, db => db.Shipments.Where(s => s.TrackingNumber == tracking).ExecuteUpdateAsync(u => u
            .SetProperty(s => s.NextPollAt, DateTimeOffset.UtcNow.AddSeconds(-1))
            .SetProperty(s => s.CreatedAt, past)
            .SetProperty(s => s.StatusAt, past.AddDays(-1))
            .SetProperty(s => s.RebookedAt, s => s.RebookedAt == null ? null : past)));
        await app.Services.GetRequiredService<CarrierWorker>().PollDueAsync(CancellationToken.None);
    }

    private static async Task<JsonNode> IssueAsync(TestMerchant m, string rma, string state)
    {
        for (var i = 0; i < 200; i++)
        {
            var ret = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
            // The return and its shipment are two reads; the change may commit between them, so once the case shows it,
            // read again: everything it committed with is visible now.
            if (ret.Node("shipment.pickup.issue.state")?.GetValue<string>() == state) return (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"The failed pickup of {rma} did not become {state} within 10 s.");
    }

    /// <summary>A day the carrier collects (cut-off 16:00 means the first day may be the day after tomorrow), never Sunday.</summary>
    private static string Day(int ahead = 3)
    {
        var day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin")).DateTime).AddDays(ahead);
        return (day.DayOfWeek == DayOfWeek.Sunday ? day.AddDays(1) : day).ToString("yyyy-MM-dd");
    }

    private static string Sunday()
    {
        var day = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(3);
        while (day.DayOfWeek != DayOfWeek.Sunday) day = day.AddDays(1);
        return day.ToString("yyyy-MM-dd");
    }

    private async Task<(string Rma, string Tracking)> FailedPickupAsync(TestMerchant m, string number)
    {
        var rma = await ReturnAsync(m, number, method: "pickup");
        var tracking = (await BookedAsync(m, rma)).Str("shipment.tracking_number");
        await LiveAsync(m, tracking);
        return (rma, tracking);
    }

    private static string Token(string html) =>
        Regex.Match(html, "name=\"__rt\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value is { Length: > 0 } t ? t : throw new Xunit.Sdk.XunitException("No antiforgery token in the page.");

    [Fact]
    public async Task FailedPickup_AsksTheShopperWithASignedLink_TheirAnswerBooksAReattempt_AndACollectionRecoversIt()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/carriers", Carrier("sbx", 4m, options: Failing))).Expect(HttpStatusCode.Created);
        var (rma, tracking) = await FailedPickupAsync(m, "N-1");

        var failed = await IssueAsync(m, rma, "awaiting_shopper");
        Assert.Equal("pickup_failed", failed.Str("status"));
        Assert.Equal("pickup_failed", failed.Str("shipment.status"));
        Assert.Equal(1, failed["shipment"]!["pickup"]!["issue"]!["attempt"]!.GetValue<int>());
        Assert.Contains(failed.Str("shipment.pickup.issue.reason"), new[] { "not_available", "address_not_found", "refused" });
        Assert.NotNull(failed["shipment"]!["pickup"]!["issue"]!["answer_by"]);
        Assert.Contains(failed["timeline"]!.AsArray(), e => e!.Str("action") == "pickup_failed");

        // The event carries the link the notification sends: the return's pickup page, signed.
        var payload = await app.WithDb(m.Id, db => db.OutboxMessages.Where(o => o.MerchantId == m.Id && o.Type == PickupRecoveryFlow.FailedEvent).Select(o => o.Payload).SingleAsync());
        var link = new Uri(JsonNode.Parse(payload)!.Str("respond_url"));
        Assert.Equal($"/r/{m.Slug}/returns/{rma}/pickup", link.AbsolutePath);

        var shopper = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var url = link.PathAndQuery;
        var page = await shopper.GetAsync(url);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("SBX Parcel could not collect your parcel", html);
        Assert.Contains("id=\"rebook\"", html);
        // A token for another return, or none, opens nothing.
        Assert.Equal(HttpStatusCode.NotFound, (await shopper.GetAsync($"/r/{m.Slug}/returns/{rma}/pickup?t=forged")).StatusCode);
        // The status page points there too.
        var status = await (await shopper.GetAsync(url.Replace("/pickup?", "?"))).Content.ReadAsStringAsync();
        Assert.Contains("id=\"arrange-pickup\"", status);

        async Task<HttpResponseMessage> Answer(string form, params (string, string)[] fields) => await shopper.PostAsync(url,
            new FormUrlEncodedContent([new("__rt", Token(form)), .. fields.Select(f => new KeyValuePair<string, string>(f.Item1, f.Item2))]));
        var sunday = await Answer(html, ("action", "confirm"), ("pickup_date", Sunday()));
        var sundayHtml = await sunday.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.UnprocessableEntity, sunday.StatusCode);
        Assert.Contains("id=\"err_pickup_date\"", sundayHtml);
        var badAddress = await Answer(sundayHtml, ("action", "fix_address"), ("pickup_date", Day()), ("addr_name", "Ana"), ("addr_line1", "Hauptstr. 1"),
            ("addr_postal_code", "1234"), ("addr_city", "Berlin"), ("addr_country", "DE"));
        var badHtml = await badAddress.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badAddress.StatusCode);
        Assert.Contains("id=\"err_addr_postal_code\"", badHtml);
        Assert.Equal("awaiting_shopper", (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK).Str("shipment.pickup.issue.state"));

        var day = Day(4);
        var ok = await Answer(badHtml, ("action", "confirm"), ("pickup_date", day));
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        Assert.Contains("rebooked=1", ok.Headers.Location!.ToString());

        var rebooked = await IssueAsync(m, rma, "rebooked");
        Assert.Equal("awaiting_shipment", rebooked.Str("status"));
        Assert.Equal("pickup_scheduled", rebooked.Str("shipment.status"));
        Assert.Equal(day, rebooked.Str("shipment.pickup.date"));
        Assert.Equal(1, rebooked["shipment"]!["pickup"]!["rebooks"]!.GetValue<int>());
        Assert.Equal("confirm", rebooked.Str("shipment.pickup.issue.action"));
        Assert.Contains(rebooked["shipment"]!["events"]!.AsArray(), e => e!.Str("raw_code") == "PU_BOOKED" && e.Str("message").Contains("re-booked"));
        Assert.Contains(rebooked["timeline"]!.AsArray(), e => e!.Str("action") == "pickup_rebook_requested" && e.Str("actor_type") == "shopper");
        Assert.True(await app.WithDb(m.Id, db => db.OutboxMessages.AnyAsync(o => o.MerchantId == m.Id && o.Type == PickupRecoveryFlow.RebookedEvent)));
        Assert.Contains("nothing to arrange", await (await shopper.GetAsync(url)).Content.ReadAsStringAsync());

        // The carrier comes again and collects: the case is recovered, the return moves on, and the scorecard counts it.
        var got = (await m.Client.Get("/api/v1/carriers/sbx")).Expect(HttpStatusCode.OK).AsObject();
        got["adapter_options"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(Collecting));
        (await m.Client.Put("/api/v1/carriers/sbx", got)).Expect(HttpStatusCode.OK);
        await LiveAsync(m, tracking);
        var collected = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
        Assert.Equal("recovered", collected.Str("shipment.pickup.issue.state"));
        Assert.Equal("delivered", collected.Str("status"));
        Assert.Equal(1, collected["shipment"]!["pickup"]!["failures"]!.GetValue<int>());
        Assert.Contains(collected["timeline"]!.AsArray(), e => e!.Str("action") == "pickup_recovered");
        var card = (await m.Client.Get("/api/v1/carriers/scorecard?days=90")).Expect(HttpStatusCode.OK).AsArray().Single()!;
        Assert.Equal("1", card.Str("ndr_rate"));
        Assert.Equal("1", card.Str("recovery_rate"));
        Assert.Equal("0", card.Str("first_attempt_rate"));
    }

    [Fact]
    public async Task SupportAnswersThroughTheApi_FieldErrors_Idempotent_AndTheLastAttemptEscalates_WithinItsMerchant()
    {
        var m = await app.NewMerchantAsync();
        var other = await app.NewMerchantAsync();
        (await m.Client.Send(HttpMethod.Patch, "/api/v1/merchant", new { pickup_max_attempts = 0, pickup_answer_hours = 0 }))
            .Expect(HttpStatusCode.UnprocessableEntity);
        var patched = (await m.Client.Send(HttpMethod.Patch, "/api/v1/merchant", new { pickup_max_attempts = 2 })).Expect(HttpStatusCode.OK);
        Assert.Equal(2, patched["pickup_max_attempts"]!.GetValue<int>());
        Assert.Equal(48, patched["pickup_answer_hours"]!.GetValue<int>());
        (await m.Client.Post("/api/v1/carriers", Carrier("sbx", 4m, options: Failing))).Expect(HttpStatusCode.Created);
        var (rma, tracking) = await FailedPickupAsync(m, "N-2");
        var first = await IssueAsync(m, rma, "awaiting_shopper");
        var id = first.Str("shipment.pickup.issue.id");

        var list = (await m.Client.Get("/api/v1/ndr-cases?state=awaiting_shopper")).Expect(HttpStatusCode.OK);
        Assert.Equal(id, list.Str("data.0.id"));
        (await m.Client.Get("/api/v1/ndr-cases?state=lost")).Expect(HttpStatusCode.UnprocessableEntity);
        // Another merchant sees none of it and cannot answer it.
        Assert.Empty((await other.Client.Get("/api/v1/ndr-cases")).Expect(HttpStatusCode.OK)["data"]!.AsArray());
        (await other.Client.Get($"/api/v1/ndr-cases/{id}")).Expect(HttpStatusCode.NotFound);
        (await other.Client.Post($"/api/v1/ndr-cases/{id}/rebook", new { action = "confirm", pickup_date = Day() })).Expect(HttpStatusCode.NotFound);

        var bad = (await m.Client.Post($"/api/v1/ndr-cases/{id}/rebook", new { action = "teleport", pickup_date = "tomorrow" })).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(["action", "pickup_date"], bad["errors"]!.AsObject().Select(e => e.Key).Order());
        var sunday = (await m.Client.Post($"/api/v1/ndr-cases/{id}/rebook", new { action = "confirm", pickup_date = Sunday() })).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("Monday to Saturday", sunday["errors"]!["pickup_date"]!.ToJsonString());
        var abroad = new { name = "Ana", line1 = "Ring 1", city = "Wien", postal_code = "1010", country = "AT" };
        var notServed = (await m.Client.Post($"/api/v1/ndr-cases/{id}/rebook", new { action = "fix_address", pickup_date = Day(), address = abroad })).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("does not collect", notServed["errors"]!["address.postal_code"]!.ToJsonString());

        var fixedAddress = new { name = "Ana Lima", line1 = "Neue Str. 5", city = "Hamburg", postal_code = "20095", country = "DE", phone = "+49 40 123456" };
        var body = new { action = "fix_address", pickup_date = Day(), address = fixedAddress };
        var answered = (await m.Client.Post($"/api/v1/ndr-cases/{id}/rebook", body, idempotencyKey: "ndr-" + id)).Expect(HttpStatusCode.OK);
        Assert.Equal("rebook_requested", answered.Str("state"));
        Assert.StartsWith("api_key:", answered.Str("answered_by"));
        var replay = (await m.Client.Post($"/api/v1/ndr-cases/{id}/rebook", body, idempotencyKey: "ndr-" + id)).Expect(HttpStatusCode.OK);
        Assert.Equal(answered.Str("updated_at"), replay.Str("updated_at"));
        var rebooked = await IssueAsync(m, rma, "rebooked");
        Assert.Contains(rebooked["timeline"]!.AsArray(), e => e!.Str("action") == "pickup_address_changed" && e.Str("reason").Contains("20095"));
        (await m.Client.Post($"/api/v1/ndr-cases/{id}/rebook", new { action = "confirm", pickup_date = Day() })).Expect(HttpStatusCode.Conflict);

        // The second failure is the last attempt allowed: support has it at once.
        await LiveAsync(m, tracking);
        var escalated = await IssueAsync(m, rma, "escalated");
        Assert.Equal(2, escalated["shipment"]!["pickup"]!["issue"]!["attempt"]!.GetValue<int>());
        Assert.Contains("pickup_escalated", escalated["flags"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Contains("2 failed pickup attempts", escalated.Str("shipment.pickup.issue.escalation_reason"));
        Assert.Equal("failed_again", (await m.Client.Get($"/api/v1/ndr-cases/{id}")).Expect(HttpStatusCode.OK).Str("state"));
        var queue = (await m.Client.Get("/api/v1/ndr-cases?state=escalated")).Expect(HttpStatusCode.OK)["data"]!.AsArray();
        Assert.Equal(escalated.Str("shipment.pickup.issue.id"), Assert.Single(queue)!.Str("id"));
        Assert.True(await app.WithDb(m.Id, db => db.OutboxMessages.AnyAsync(o => o.MerchantId == m.Id && o.Type == PickupRecoveryFlow.EscalatedEvent)));
        // Nothing was asked of the shopper this time: no second pickup_failed event with a link.
        Assert.Equal(1, await app.WithDb(m.Id, db => db.OutboxMessages.CountAsync(o => o.MerchantId == m.Id && o.Type == PickupRecoveryFlow.FailedEvent)));

        // Support books one more try for the shopper; the flag goes.
        (await m.Client.Post($"/api/v1/ndr-cases/{escalated.Str("shipment.pickup.issue.id")}/rebook", new { action = "confirm", pickup_date = Day(5) })).Expect(HttpStatusCode.OK);
        var again = await IssueAsync(m, rma, "rebooked");
        Assert.DoesNotContain("pickup_escalated", again["flags"]!.AsArray().Select(f => f!.GetValue<string>()));
    }

    [Fact]
    public async Task NoAnswerInTime_EscalatesOnce_AndTheShopperCanStillAnswer()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/carriers", Carrier("sbx", 4m, options: Failing))).Expect(HttpStatusCode.Created);
        var (rma, _) = await FailedPickupAsync(m, "N-3");
        var id = (await IssueAsync(m, rma, "awaiting_shopper")).Str("shipment.pickup.issue.id");
        var worker = app.Services.GetRequiredService<CarrierWorker>();
        await app.WithDb(m.Id, db => db.NdrCases.Where(c => c.Id == Guid.Parse(id)).ExecuteUpdateAsync(u => u.SetProperty(c => c.AnswerBy, DateTimeOffset.UtcNow.AddMinutes(-1))));
        // The host's own worker may get there first (it runs every 2 s); either way it happens once.
        await worker.EscalateOverdueAsync(CancellationToken.None);
        var escalated = await IssueAsync(m, rma, "escalated");
        Assert.Contains("no answer from the shopper within 48 hours", escalated.Str("shipment.pickup.issue.escalation_reason"));
        Assert.Equal(0, await worker.EscalateOverdueAsync(CancellationToken.None));
        Assert.Equal(1, await app.WithDb(m.Id, db => db.AuditEvents.CountAsync(e => e.Action == "pickup_escalated")));
        Assert.Equal("pickup_failed", escalated.Str("status"));
        // The shopper may still answer (support would otherwise call them).
        (await m.Client.Post($"/api/v1/ndr-cases/{id}/rebook", new { action = "confirm", pickup_date = Day() })).Expect(HttpStatusCode.OK);
        await IssueAsync(m, rma, "rebooked");
    }
}
