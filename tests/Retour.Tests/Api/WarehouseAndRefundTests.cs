using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Retour.Features.Portal;
using Retour.Features.Tenancy;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

/// <summary>A host whose payment calls time out fast and whose refund retries come quickly, so failure tests take seconds.</summary>
public sealed class FastRefundApp() : RetourApp(null, new Dictionary<string, string?>
{
    ["RETOUR_PAYMENT_TIMEOUT_MS"] = "300", ["RETOUR_REFUND_RETRY_MS"] = "100", ["RETOUR_REFUND_MAX_ATTEMPTS"] = "3",
});

/// <summary>
/// Receiving by scan (RMA, QR, tracking number; unknown codes kept as unmatched parcels), inspection with the rules'
/// proposed dispositions, their confirmation and effects, and refunds issued exactly once: under parallel calls, lost
/// provider answers, declines with retries and support's retry, as store credit, and isolated per merchant and scope.
/// </summary>
public sealed class WarehouseAndRefundTests(FastRefundApp app) : IClassFixture<FastRefundApp>
{
    private static readonly object ApparelOk = new { item_matches_order = true, tags_attached = true, unworn = true, no_stains_or_odour = true };

    private static async Task<string> ReturnAsync(TestMerchant m, string number, int qty = 1, string resolution = "refund", decimal price = 20m, string method = "drop_off")
    {
        (await m.Client.Post("/api/v1/orders", Orders.Delivered(number, Orders.Line("L1", "TEE-M", price, 2)))).Expect(HttpStatusCode.Created);
        var ret = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf(number, qty: qty, resolution: resolution, method: method))).Expect(HttpStatusCode.Created);
        Assert.Equal("approved", ret.Str("status"));
        return ret.Str("rma");
    }

    private static async Task<string> ReceivedAsync(TestMerchant m, string number, int qty = 1, string resolution = "refund")
    {
        var rma = await ReturnAsync(m, number, qty, resolution);
        (await m.Client.Post("/api/v1/warehouse/receipts", new { code = rma })).Expect(HttpStatusCode.OK);
        return rma;
    }

    private static object Unit(int unit, string grade) => new { order_line_id = "L1", unit, grade, checklist = ApparelOk, notes = "checked" };

    private async Task<JsonNode> UntilAsync(TestMerchant m, string rma, Func<JsonNode, bool> done, string what)
    {
        for (var i = 0; i < 300; i++)
        {
            var ret = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
            // The return and its refunds are two reads; a change may commit between them, so once the condition shows,
            // read again: everything it committed with is visible now.
            if (done(ret)) return (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"{rma}: {what} did not happen within 15 s: {(await m.Client.Get($"/api/v1/returns/{rma}")).Body}\n{app.RecentErrors}");
    }

    private static async Task<JsonArray> LedgerAsync(TestMerchant m) =>
        (await m.Client.Get("/api/v1/sandbox/payments?limit=500")).Expect(HttpStatusCode.OK)["data"]!.AsArray();

    [Fact]
    public async Task Receiving_ByRmaQrOrTracking_IsIdempotent_UnknownCodesWaitToBeMatched_AndStayInTheirShop()
    {
        var m = await app.NewMerchantAsync();
        var other = await app.NewMerchantAsync();
        var rma = await ReturnAsync(m, "W-1");

        var first = (await m.Client.Post("/api/v1/warehouse/receipts", new { code = rma.ToLowerInvariant().Replace("-", "") })).Expect(HttpStatusCode.OK);
        Assert.True(first["matched"]!.GetValue<bool>());
        Assert.False(first["already_received"]!.GetValue<bool>());
        Assert.Equal("received", first.Str("status"));
        Assert.Equal("rma", first.Str("matched_on"));
        var again = (await m.Client.Post("/api/v1/warehouse/receipts", new { code = "RETOUR:" + rma })).Expect(HttpStatusCode.OK);
        Assert.True(again["already_received"]!.GetValue<bool>());
        Assert.Equal("qr", again.Str("matched_on"));
        var ret = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
        Assert.Single(ret["timeline"]!.AsArray(), e => e!.Str("to") == "received");
        Assert.NotNull(ret["received_at"]);

        // Another shop's scanner does not know this RMA: it is an unmatched parcel there, and m's return is untouched.
        var elsewhere = (await other.Client.Post("/api/v1/warehouse/receipts", new { code = rma })).Expect(HttpStatusCode.Created);
        Assert.False(elsewhere["matched"]!.GetValue<bool>());

        var unknown = (await m.Client.Post("/api/v1/warehouse/receipts", new { code = "JJD000111222333" })).Expect(HttpStatusCode.Created);
        var parcelId = unknown.Str("unmatched_parcel.id");
        Assert.Equal(2, (await m.Client.Post("/api/v1/warehouse/receipts", new { code = "JJD000111222333" })).Expect(HttpStatusCode.OK)["unmatched_parcel"]!["scans"]!.GetValue<int>());
        var open = (await m.Client.Get("/api/v1/warehouse/unmatched")).Expect(HttpStatusCode.OK);
        Assert.Single(open["data"]!.AsArray());
        Assert.Single((await other.Client.Get("/api/v1/warehouse/unmatched")).Expect(HttpStatusCode.OK)["data"]!.AsArray());

        var rma2 = await ReturnAsync(m, "W-2");
        var matched = (await m.Client.Post($"/api/v1/warehouse/unmatched/{parcelId}/match", new { @return = rma2 })).Expect(HttpStatusCode.OK);
        Assert.Equal("received", matched.Str("status"));
        Assert.Empty((await m.Client.Get("/api/v1/warehouse/unmatched")).Expect(HttpStatusCode.OK)["data"]!.AsArray());
        (await other.Client.Post($"/api/v1/warehouse/unmatched/{parcelId}/match", new { @return = rma2 })).Expect(HttpStatusCode.NotFound);

        var bad = (await m.Client.Post("/api/v1/warehouse/receipts", new { code = "", warehouse = "nowhere" })).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.True(bad["errors"]!.AsObject().ContainsKey("code"));
        Assert.True((await m.Client.Post("/api/v1/warehouse/receipts", new { code = rma, warehouse = "nowhere" })).Expect(HttpStatusCode.UnprocessableEntity)["errors"]!.AsObject()
            .ContainsKey("warehouse"));

        var rma3 = await ReturnAsync(m, "W-3");
        (await m.Client.Post($"/api/v1/returns/{rma3}/cancel", new { reason = "changed my mind" })).Expect(HttpStatusCode.OK);
        var refused = (await m.Client.Post("/api/v1/warehouse/receipts", new { code = rma3 })).Expect(HttpStatusCode.Conflict);
        Assert.Equal("cancelled", refused.Str("current_status"));
    }

    [Fact]
    public async Task APartlyInspectedReturn_CountsItsUsedUnits_BeforeTheLastUnitIsGraded()
    {
        var m = await app.NewMerchantAsync();
        var rma = await ReceivedAsync(m, "U-1", qty: 2);
        // First the analytics have counted the receipt (so nothing queued before the inspection can count it instead).
        var id = await app.WithDb(m.Id, db => db.Returns.Where(r => r.Rma == rma).Select(r => r.Id).SingleAsync());
        for (var i = 0; i < 150 && !await app.WithDb(m.Id, db => db.AnalyticsFacts.AnyAsync(f => f.EntityId == id && f.Json.Contains("\"status\":\"received\""))); i++)
            await Task.Delay(200);
        await Task.Delay(500);
        Assert.False(await app.WithDb(m.Id, db => db.AnalyticsPending.AnyAsync(p => p.EntityId == id)));
        var partial = (await m.Client.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { Unit(1, "used") } })).Expect(HttpStatusCode.OK);
        Assert.Equal("received", partial.Str("status"));
        // No status change, yet the shopper's profile (serial returners, wardrobing) and the cells count the used unit.
        var email = await app.WithDb(m.Id, db => db.Returns.Where(r => r.Rma == rma).Select(r => r.CustomerEmail!).SingleAsync());
        long used = -1, cells = -1;
        for (var i = 0; i < 150 && (used != 1 || cells != 1); i++)
        {
            await Task.Delay(200);
            used = await app.WithDb(m.Id, db => db.AnalyticsShoppers.Where(s => s.Email == email).Select(s => s.UsedUnits).SingleOrDefaultAsync());
            cells = await app.WithDb(m.Id, db => db.AnalyticsRollups.Where(r => r.Scope == "" && r.Dim == "reason").SumAsync(r => r.UsedUnits));
        }
        Assert.Equal(1, used);
        Assert.Equal(1, cells);
    }

    [Fact]
    public async Task Inspection_ProposesDispositions_TheRefundFollows_AndTheReturnClosesWhenEveryUnitIsDisposed()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Put("/api/v1/warehouse/rules", new { suppliers = new[] { new { code = "acme", name = "Acme Textiles", claim_days = 10 } } })).Expect(HttpStatusCode.OK);
        (await m.Client.Put("/api/v1/products/TEE-M", new { title = "Tee M", category = "apparel", price = 20m, stock = 3, supplier = "acme", cost = 8m }))
            .Expect(HttpStatusCode.OK);
        var rma = await ReceivedAsync(m, "I-1", qty: 2);

        var missing = (await m.Client.Post($"/api/v1/returns/{rma}/inspections",
            new { lines = new object[] { new { order_line_id = "L1", grade = "like_new", checklist = new { tags_attached = true } }, new { order_line_id = "L9", grade = "shiny" } } }))
            .Expect(HttpStatusCode.UnprocessableEntity);
        var fields = missing["errors"]!.AsObject().Select(kv => kv.Key).ToList();
        Assert.Contains("lines[0].checklist.unworn", fields);
        Assert.Contains("lines[1].order_line_id", fields);

        var partial = (await m.Client.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { Unit(1, "like_new") } })).Expect(HttpStatusCode.OK);
        Assert.Equal(1, partial["units_left"]!.GetValue<int>());
        Assert.Equal("received", partial.Str("status"));
        Assert.Equal("restock", partial.Str("units.0.disposition.proposed"));
        Assert.StartsWith("Rule 1 (as new", partial.Str("units.0.disposition.explanation"));
        (await m.Client.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { Unit(1, "used") } })).Expect(HttpStatusCode.UnprocessableEntity);

        var rest = (await m.Client.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { Unit(2, "defective") } })).Expect(HttpStatusCode.OK);
        Assert.Equal("inspected", rest.Str("status"));
        Assert.Equal("return_to_vendor", rest.Str("units.0.disposition.proposed"));
        Assert.Equal("8.00", rest.Str("units.0.disposition.expected_recovery"));
        Assert.Equal("40.00", rest.Str("refund_preview.total"));
        (await m.Client.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { Unit(2, "new") } })).Expect(HttpStatusCode.Conflict);

        // The policy refunds after inspection: the worker pays through the sandbox provider and the return is resolved.
        var resolved = await UntilAsync(m, rma, r => r.Str("status") == "resolved", "the refund after inspection");
        var refund = resolved["refunds"]!.AsArray().Single()!;
        Assert.Equal("issued", refund.Str("status"));
        Assert.Equal("original_payment", refund.Str("method"));
        Assert.Equal("inspection", refund.Str("trigger"));
        Assert.Equal("40.00", refund.Str("amount"));
        var ledger = await LedgerAsync(m);
        Assert.Single(ledger);
        Assert.Equal(refund.Str("provider_key"), ledger[0]!.Str("idempotency_key"));
        Assert.Equal(refund.Str("provider_reference"), ledger[0]!.Str("reference"));
        Assert.Equal(2, resolved["inspections"]!.AsArray().Count);

        var confirmed = (await m.Client.Post($"/api/v1/returns/{rma}/dispositions", null)).Expect(HttpStatusCode.OK).AsArray();
        Assert.Equal(2, confirmed.Count);
        Assert.All(confirmed, d => Assert.Equal("confirmed", d!.Str("state")));
        var closed = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
        Assert.Equal("closed", closed.Str("status"));
        Assert.Equal(4, await app.WithDb(m.Id, db => db.Products.Where(p => p.Sku == "TEE-M").Select(p => p.Stock).SingleAsync()));
        var adjusted = await app.WithDb(m.Id, db => db.OutboxMessages.Where(o => o.MerchantId == m.Id && o.Type == "inventory.adjusted").Select(o => o.Payload).ToListAsync());
        var payload = JsonNode.Parse(Assert.Single(adjusted))!;
        Assert.Equal("TEE-M", payload.Str("sku"));
        Assert.Equal(1, payload["quantity"]!.GetValue<int>());

        // Delivered three days ago with a 10-day claim window: 7 days are left, so the supplier batch warns.
        var batch = (await m.Client.Get("/api/v1/warehouse/rtv-batches")).Expect(HttpStatusCode.OK).AsArray().Single()!;
        Assert.Equal("acme", batch.Str("supplier"));
        Assert.Equal(1, batch["units"]!.GetValue<int>());
        Assert.True(batch["warning"]!.GetValue<bool>());
        var recovery = (await m.Client.Get("/api/v1/warehouse/recovery")).Expect(HttpStatusCode.OK).AsArray();
        Assert.Contains(recovery, r => r!.Str("channel") == "stock" && r.Str("expected_recovery") == "20.00");
        Assert.Contains(recovery, r => r!.Str("channel") == "supplier" && r.Str("expected_recovery") == "8.00");
        (await m.Client.Post($"/api/v1/warehouse/rtv-batches/{batch.Str("id")}/ship", null)).Expect(HttpStatusCode.OK);
        Assert.Empty((await m.Client.Get("/api/v1/warehouse/rtv-batches")).Expect(HttpStatusCode.OK).AsArray());

        // A second refund call answers the same refund; the provider paid once.
        var again = (await m.Client.Post($"/api/v1/returns/{rma}/refunds", null)).Expect(HttpStatusCode.OK);
        Assert.Equal(refund.Str("id"), again.Str("id"));
        Assert.Single(await LedgerAsync(m));
    }

    [Fact]
    public async Task ParallelRefundCalls_WithLostProviderAnswers_PayExactlyOnce_AndReconciliationRecordsIt()
    {
        var m = await app.NewMerchantAsync();
        // The provider pays, then its answer never arrives: the crash between "paid" and "recorded".
        (await m.Client.Put("/api/v1/sandbox/payments/settings", new { latency_ms = 5, lost_response_rate = 1 })).Expect(HttpStatusCode.OK);
        var rmas = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var rma = await ReceivedAsync(m, $"P-{i}");
            (await m.Client.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { Unit(1, "new") } })).Expect(HttpStatusCode.OK);
            rmas.Add(rma);
        }
        var calls = rmas.SelectMany(rma => Enumerable.Range(0, 6).Select(i =>
            m.Client.Post($"/api/v1/returns/{rma}/refunds", null, idempotencyKey: i % 2 == 0 ? $"k-{rma}" : null))).ToList();
        var answers = await Task.WhenAll(calls);
        Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.Created, $"{a.Status}: {a.Body}"));
        foreach (var rma in rmas)
        {
            var ids = answers.Where(a => a.Body!.Str("rma") == rma).Select(a => a.Body!.Str("id")).Distinct().ToList();
            Assert.Single(ids);
            var done = await UntilAsync(m, rma, r => r["refunds"]!.AsArray().FirstOrDefault()?.Str("status") == "issued", "reconciliation");
            Assert.Equal("resolved", done.Str("status"));
            Assert.Contains(done["timeline"]!.AsArray(), e => e!.Str("action") == "refund_outcome_unknown");
        }
        var ledger = await LedgerAsync(m);
        Assert.Equal(3, ledger.Count);
        Assert.Equal(3, ledger.Select(p => p!.Str("idempotency_key")).Distinct().Count());
        var refunds = (await m.Client.Get("/api/v1/refunds")).Expect(HttpStatusCode.OK)["data"]!.AsArray();
        Assert.Equal(3, refunds.Count);
        Assert.Equal(ledger.Select(p => p!.Str("reference")).Order(), refunds.Select(r => r!.Str("provider_reference")).Order());
    }

    [Fact]
    public async Task DeclinedRefund_IsRetriedWithBackoff_ThenSurfacedToSupport_AndSupportsRetryPaysOnce()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Put("/api/v1/sandbox/payments/settings", new { latency_ms = 0, decline_rate = 1 })).Expect(HttpStatusCode.OK);
        var rma = await ReceivedAsync(m, "D-1");
        (await m.Client.Post($"/api/v1/returns/{rma}/refunds", null)).Expect(HttpStatusCode.Conflict); // not inspected yet: not due
        (await m.Client.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { Unit(1, "used") } })).Expect(HttpStatusCode.OK);
        var stuck = await UntilAsync(m, rma, r => r["refunds"]!.AsArray().FirstOrDefault()?["needs_attention"]?.GetValue<bool>() == true, "giving up after 3 attempts");
        var refund = stuck["refunds"]!.AsArray().Single()!;
        Assert.Equal("failed", refund.Str("status"));
        Assert.Equal(3, refund["attempts"]!.GetValue<int>());
        Assert.Contains("card_declined", refund.Str("last_error"));
        Assert.Contains("refund_failed", stuck["flags"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal("inspected", stuck.Str("status"));
        var queue = (await m.Client.Get("/api/v1/refunds?status=failed&needs_attention=true")).Expect(HttpStatusCode.OK)["data"]!.AsArray();
        Assert.Equal(refund.Str("id"), Assert.Single(queue)!.Str("id"));
        Assert.Empty(await LedgerAsync(m));

        (await m.Client.Put("/api/v1/sandbox/payments/settings", new { latency_ms = 0, decline_rate = 0 })).Expect(HttpStatusCode.OK);
        var retried = (await m.Client.Post($"/api/v1/refunds/{refund.Str("id")}/retry", null)).Expect(HttpStatusCode.OK);
        Assert.Equal("issued", retried.Str("status"));
        Assert.Equal("17.00", retried.Str("amount")); // 20.00 less 15% for used
        var after = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
        Assert.Equal("resolved", after.Str("status"));
        Assert.DoesNotContain("refund_failed", after["flags"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Single(await LedgerAsync(m));
        (await m.Client.Post($"/api/v1/refunds/{refund.Str("id")}/retry", null)).Expect(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task StoreCredit_IsAGiftCardOnTheShoppersLedger_RedeemedOncePerKey_AndNeverBelowZero()
    {
        var m = await app.NewMerchantAsync();
        var other = await app.NewMerchantAsync();
        var rma = await ReceivedAsync(m, "S-1", resolution: "store_credit");
        (await m.Client.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { Unit(1, "like_new") } })).Expect(HttpStatusCode.OK);
        var done = await UntilAsync(m, rma, r => r.Str("status") == "resolved", "store credit");
        var refund = done["refunds"]!.AsArray().Single()!;
        Assert.Equal("store_credit", refund.Str("method"));
        Assert.Equal("22.00", refund.Str("amount")); // 20.00 plus the 10% bonus
        var code = refund.Str("gift_card_code");
        Assert.Matches("^RTR-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}$", code);
        Assert.Empty(await LedgerAsync(m)); // store credit never goes through the payment provider

        var credit = (await m.Client.Get("/api/v1/customers/Shopper@Example.com/store-credit")).Expect(HttpStatusCode.OK);
        Assert.Equal("22.00", credit.Str("balance"));
        Assert.Equal("credit", credit.Str("ledger.0.kind"));
        var spent = (await m.Client.Post($"/api/v1/gift-cards/{code.ToLowerInvariant()}/redeem", new { amount = "5.00", reference = "#2001" }, idempotencyKey: "spend-1")).Expect(HttpStatusCode.OK);
        Assert.Equal("17.00", spent.Str("balance"));
        var replay = (await m.Client.Post($"/api/v1/gift-cards/{code.ToLowerInvariant()}/redeem", new { amount = "5.00", reference = "#2001" }, idempotencyKey: "spend-1")).Expect(HttpStatusCode.OK);
        Assert.Equal("17.00", replay.Str("balance"));
        var tooMuch = (await m.Client.Post($"/api/v1/gift-cards/{code}/redeem", new { amount = "17.01" })).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("17.00", tooMuch.Str("errors.amount.0"));
        credit = (await m.Client.Get("/api/v1/customers/shopper@example.com/store-credit")).Expect(HttpStatusCode.OK);
        Assert.Equal("17.00", credit.Str("balance"));
        Assert.Equal(2, credit["ledger"]!.AsArray().Count);
        (await other.Client.Get($"/api/v1/gift-cards/{code}")).Expect(HttpStatusCode.NotFound);
        Assert.Equal("0.00", (await other.Client.Get("/api/v1/customers/shopper@example.com/store-credit")).Expect(HttpStatusCode.OK).Str("balance"));
    }

    [Fact]
    public async Task KeepIt_IsRefundedOnApproval_AndCloses()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("K-1", Orders.Line("L1", "SOCK", 4m, 1)))).Expect(HttpStatusCode.Created);
        var rma = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("K-1", method: "keep"))).Expect(HttpStatusCode.Created).Str("rma");
        var done = await UntilAsync(m, rma, r => r.Str("status") == "closed", "keep-it refund");
        Assert.Equal("keep_it", done.Str("refunds.0.trigger"));
        Assert.Equal("4.00", Assert.Single(await LedgerAsync(m))!.Str("amount"));
        // Only keep-it approvals announce a due refund; other approvals cost the refund handler nothing.
        await ReturnAsync(m, "K-2");
        var due = await app.WithDb(m.Id, db => db.OutboxMessages.Where(o => o.MerchantId == m.Id && o.Type == "refund.due").CountAsync());
        Assert.Equal(1, due);
    }

    [Theory]
    [InlineData("TEE-L", 24, "awaiting_payment", "4.00", 0)]  // dearer variant: the shopper is asked for the difference
    [InlineData("TEE-S", 15, "created", "0.00", 1)]           // cheaper variant: the surplus is refunded
    public async Task Exchange_CreatesTheForwardOrder_AndSettlesThePriceDifference(string sku, decimal price, string status, string due, int payments)
    {
        var m = await app.NewMerchantAsync();
        foreach (var (s, p) in new[] { ("TEE-M", 20m), (sku, price) })
            (await m.Client.Put($"/api/v1/products/{s}", new { product_code = "TEE", title = "Tee", category = "apparel", price = p, stock = 5 })).Expect(HttpStatusCode.OK);
        var order = Orders.Order("E-1", DateTimeOffset.UtcNow.AddDays(-6), DateTimeOffset.UtcNow.AddDays(-3),
            lines: [new { id = "L1", sku = "TEE-M", product_code = "TEE", title = "Tee M", category = "apparel", quantity = 1, unit_price = "20.00" }]);
        (await m.Client.Post("/api/v1/orders", order)).Expect(HttpStatusCode.Created);
        var rma = (await m.Client.Post("/api/v1/returns", new
        {
            order_number = "E-1", resolution = "exchange", method = "drop_off",
            lines = new[] { new { order_line_id = "L1", quantity = 1, reason = "too_small", exchange_sku = sku } },
        })).Expect(HttpStatusCode.Created).Str("rma");
        (await m.Client.Post("/api/v1/warehouse/receipts", new { code = rma })).Expect(HttpStatusCode.OK);
        (await m.Client.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { Unit(1, "new") } })).Expect(HttpStatusCode.OK);
        var done = await UntilAsync(m, rma, r => r.Str("status") == "resolved", "the exchange");
        var refund = done["refunds"]!.AsArray().Single()!;
        Assert.Equal("exchange", refund.Str("method"));
        Assert.Equal(status, refund.Str("exchange_order.status"));
        Assert.Equal(due, refund.Str("exchange_order.amount_due"));
        Assert.Equal(sku, refund.Str("exchange_order.lines.0.sku"));
        Assert.Equal(payments == 1 ? "5.00" : "0.00", refund.Str("amount"));
        Assert.Equal(payments, (await LedgerAsync(m)).Count);
        var events = await app.WithDb(m.Id, db => db.OutboxMessages.Where(o => o.MerchantId == m.Id && o.Type.StartsWith("exchange.")).Select(o => o.Type).ToListAsync());
        Assert.Contains("exchange.order_created", events);
        Assert.Equal(payments == 0, events.Contains("exchange.payment_requested"));
    }

    [Fact]
    public async Task OtherShopsAndNarrowKeys_CannotInspectOrRefund()
    {
        var m = await app.NewMerchantAsync();
        var other = await app.NewMerchantAsync();
        var rma = await ReceivedAsync(m, "X-1");
        (await other.Client.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { Unit(1, "new") } })).Expect(HttpStatusCode.NotFound);
        (await other.Client.Post($"/api/v1/returns/{rma}/refunds", null)).Expect(HttpStatusCode.NotFound);
        (await other.Client.Post($"/api/v1/returns/{rma}/dispositions", null)).Expect(HttpStatusCode.NotFound);

        // A warehouse operator's key: receive, inspect and dispose, nothing financial.
        var secret = ApiKey.NewSecret();
        await app.WithDb(m.Id, async db =>
        {
            db.ApiKeys.Add(new ApiKey { Name = "warehouse", Prefix = ApiKey.PrefixOf(secret), Hash = ApiKey.HashOf(secret),
                Scopes = "warehouse:read warehouse:write returns:read", CreatedAt = DateTimeOffset.UtcNow });
            return await db.SaveChangesAsync();
        });
        var operatorClient = app.Client(secret);
        (await operatorClient.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { Unit(1, "new") } })).Expect(HttpStatusCode.OK);
        (await operatorClient.Post($"/api/v1/returns/{rma}/refunds", null)).Expect(HttpStatusCode.Forbidden);
        (await operatorClient.Get("/api/v1/sandbox/payments")).Expect(HttpStatusCode.Forbidden);
        (await operatorClient.Put("/api/v1/warehouse/rules", new { })).Expect(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task InspectionPhotos_AreKeptWithTheUnit_ApartFromTheShoppersPhotos_AndOnlyImagesAreTaken()
    {
        var m = await app.NewMerchantAsync();
        var rma = await ReceivedAsync(m, "P-1");
        var inspected = (await m.Client.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { Unit(1, "damaged") } })).Expect(HttpStatusCode.OK);
        var inspectionId = inspected.Str("units.0.inspection.id");
        var returnId = inspected.Str("return_id");

        async Task<(HttpStatusCode Status, JsonNode? Body)> Upload(TestMerchant who, string id, byte[] bytes, string type)
        {
            var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(type);
            using var res = await who.Client.PostAsync($"/api/v1/returns/{rma}/inspections/{id}/photos", content);
            var text = await res.Content.ReadAsStringAsync();
            return (res.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null);
        }

        var png = TestImages.Png(40, 30, (200, 30, 30));
        var (status, body) = await Upload(m, inspectionId, png, "image/png");
        Assert.Equal(HttpStatusCode.Created, status);
        var url = body!["photos"]!.AsArray().Single()!.GetValue<string>();
        Assert.StartsWith($"/api/v1/returns/{returnId}/photos/", url);
        using (var photo = await m.Client.GetAsync(url))
        {
            Assert.Equal(HttpStatusCode.OK, photo.StatusCode);
            Assert.Equal("image/png", photo.Content.Headers.ContentType!.MediaType);
        }

        // A phone photo is several megabytes: well past the API's default 1 MiB body limit, within the photo's 10 MiB.
        using (var big = new MemoryStream())
        {
            big.Write(png.AsSpan(0, 33)); // signature and IHDR
            TestImages.Chunk(big, "tEXt", [.. "Comment\0"u8.ToArray(), .. Enumerable.Repeat((byte)'x', 3 * 1024 * 1024)]);
            big.Write(png.AsSpan(33));
            var (bigStatus, bigBody) = await Upload(m, inspectionId, big.ToArray(), "image/png");
            Assert.True(bigStatus == HttpStatusCode.Created, $"{bigStatus}: {bigBody}");
            Assert.Equal(2, bigBody!["photos"]!.AsArray().Count);
        }
        using (var broken = new StringContent("--x\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\n\r\nabc"))
        {
            broken.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=x");
            using var res = await m.Client.PostAsync($"/api/v1/returns/{rma}/inspections/{inspectionId}/photos", broken);
            Assert.Equal(HttpStatusCode.BadRequest, res.StatusCode); // a cut-off form is the sender's mistake, not a 500
        }

        var (notImage, problem) = await Upload(m, inspectionId, "<script>alert(1)</script>"u8.ToArray(), "image/png");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, notImage);
        Assert.NotNull(problem!["errors"]!["photo"]);
        Assert.Equal(HttpStatusCode.NotFound, (await Upload(m, Guid.NewGuid().ToString(), png, "image/png")).Status);
        var other = await app.NewMerchantAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await Upload(other, inspectionId, png, "image/png")).Status);
        for (var i = 2; i < 5; i++) Assert.Equal(HttpStatusCode.Created, (await Upload(m, inspectionId, png, "image/png")).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await Upload(m, inspectionId, png, "image/png")).Status);

        var ret = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
        Assert.Equal(5, ret["inspections"]![0]!["photos"]!.AsArray().Count);
        Assert.Empty(ret["lines"]![0]!["photos"]!.AsArray()); // the shopper's photos stay the shopper's
        Assert.Contains(ret["timeline"]!.AsArray(), e => e!.Str("action") == "inspection_photo_added");
    }

    private async Task<string> StatusPageAsync(TestMerchant m, string rma, string lang)
    {
        var url = PortalPage.StatusUrl(app.Services.GetRequiredService<IDataProtectionProvider>(), m.Slug, m.Id, rma) + "&lang=" + lang;
        using var res = await app.Client(null).GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        return System.Net.WebUtility.HtmlDecode(await res.Content.ReadAsStringAsync());
    }

    private static string Digits(string s) => new([.. s.Where(char.IsAsciiDigit)]);

    [Fact]
    public async Task ThePortalShowsTheShopper_TheSameBreakdownAsStaff_WithTheDateAndMethod_InTheirLanguage()
    {
        var m = await app.NewMerchantAsync();
        var rma = await ReceivedAsync(m, "S-1");
        var before = await StatusPageAsync(m, rma, "de");
        Assert.Contains("Voraussichtlicher Betrag", before);
        Assert.DoesNotContain("id=\"deductions\"", before);

        (await m.Client.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { Unit(1, "used") } })).Expect(HttpStatusCode.OK);
        var resolved = await UntilAsync(m, rma, r => r.Str("status") == "resolved", "the refund after inspection");
        var refund = resolved["refunds"]![0]!;
        Assert.NotEqual("0.00", refund.Str("breakdown.deductions"));

        var de = await StatusPageAsync(m, rma, "de");
        Assert.Contains(">Endbetrag<", de);
        Assert.Contains("Abzüge nach der Prüfung", de);
        Assert.Contains("auf Ihr ursprüngliches Zahlungsmittel erstattet", de);
        Assert.Equal(Digits(refund.Str("amount")), Digits(Regex.Match(de, "id=\"refund-amount\">([^<]+)<").Groups[1].Value));
        Assert.Equal(Digits(refund.Str("breakdown.deductions")), Digits(Regex.Match(de, "id=\"deductions\"><td>[^<]+</td><td class=\"num\">([^<]+)<").Groups[1].Value));

        // Store credit, in Arabic: the gift card's code and how long it is valid.
        var credit = await ReceivedAsync(m, "S-2", resolution: "store_credit");
        (await m.Client.Post($"/api/v1/returns/{credit}/inspections", new { lines = new[] { Unit(1, "new") } })).Expect(HttpStatusCode.OK);
        var done = await UntilAsync(m, credit, r => r.Str("status") == "resolved", "the store credit after inspection");
        var ar = await StatusPageAsync(m, credit, "ar");
        Assert.Contains("dir=\"rtl\"", ar);
        Assert.Contains("أُضيف رصيد المتجر", ar);
        Assert.Contains(done["refunds"]![0]!.Str("gift_card_code"), ar);
        Assert.Contains("صالح حتى", ar);
    }

    [Fact]
    public async Task AProviderThatNeverAnswers_LeavesTheRefundPendingAndAskedAbout_ThenSupportsRetryPaysOnce()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Put("/api/v1/sandbox/payments/settings", new { latency_ms = 0, timeout_rate = 1 })).Expect(HttpStatusCode.OK);
        var rma = await ReceivedAsync(m, "T-1");
        (await m.Client.Post($"/api/v1/returns/{rma}/inspections", new { lines = new[] { Unit(1, "new") } })).Expect(HttpStatusCode.OK);
        // Three calls, each past the 300 ms timeout: never "failed" (it may have paid), but pending and handed to support.
        var stuck = await UntilAsync(m, rma, r => r["refunds"]!.AsArray() is [{ } f] && f["needs_attention"]!.GetValue<bool>(), "the hand-over to support");
        var refund = stuck["refunds"]![0]!;
        Assert.Equal("pending", refund.Str("status"));
        Assert.Equal(3, refund["attempts"]!.GetValue<int>());
        Assert.StartsWith("outcome unknown", refund.Str("last_error"));
        Assert.Empty(await LedgerAsync(m));

        (await m.Client.Put("/api/v1/sandbox/payments/settings", new { latency_ms = 0, timeout_rate = 0 })).Expect(HttpStatusCode.OK);
        var retries = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => m.Client.Post($"/api/v1/refunds/{refund.Str("id")}/retry", null)));
        Assert.Contains(retries, r => r.Status == HttpStatusCode.OK);
        var done = await UntilAsync(m, rma, r => r["refunds"]![0]!.Str("status") == "issued", "the retried refund");
        var ledger = await LedgerAsync(m);
        Assert.Equal(done["refunds"]![0]!.Str("provider_key"), Assert.Single(ledger)!.Str("idempotency_key"));
    }
}
