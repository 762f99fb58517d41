using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Retour.Features.Carriers;
using Retour.Infrastructure.Db;
using Retour.Tests.Support;
using Spectre.Console;
using Xunit;

namespace Retour.Tests.Api;

/// <summary>A host whose carrier calls time out fast and retry once, so fallback tests take a second, not a minute.</summary>
public sealed class FastCarrierApp() : RetourApp(null, new Dictionary<string, string?> { ["RETOUR_CARRIER_TIMEOUT_MS"] = "300", ["RETOUR_CARRIER_RETRIES"] = "1" });

/// <summary>
/// The carrier registry through the API and the CSV import, and what it drives: allocation on approval (stored with its
/// explanation), fallback when a carrier fails, cancellation, label expiry, the sandbox's polled life and the scorecard.
/// </summary>
public sealed class CarrierRegistryTests(FastCarrierApp app) : IClassFixture<FastCarrierApp>
{
    internal static object Carrier(string code, decimal price, int days = 3, string areas = "DE", object? options = null, string services = "pickup,drop_off") => new
    {
        code, name = code.ToUpperInvariant() + " Parcel", adapter = "sandbox", services = services.Split(','),
        areas = areas.Split(';').Select(a => a.Split(':')).Select(p => new { country = p[0], postal_codes = p.Length > 1 ? p[1].Split(',') : null }),
        rate_card = new
        {
            currency = "EUR",
            zones = new[] { new { code = "de", areas = new[] { new { country = "DE" } } } },
            bands = new[] { new { max_grams = 5000, prices = new Dictionary<string, decimal> { ["de"] = price } } },
        },
        transit_days = days, daily_capacity = 100, pickup_cutoff = "16:00", adapter_options = options ?? new { }, active = true,
    };

    internal static async Task<JsonNode> BookedAsync(TestMerchant m, string rma)
    {
        for (var i = 0; i < 200; i++)
        {
            var ret = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
            if (ret["shipment"] is JsonObject && ret.Str("status") == "awaiting_shipment") return ret;
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"{rma} was not booked within 10 s.");
    }

    internal static async Task<string> ReturnAsync(TestMerchant m, string number, string method = "drop_off")
    {
        (await m.Client.Post("/api/v1/orders", Orders.Delivered(number))).Expect(HttpStatusCode.Created);
        return (await m.Client.Post("/api/v1/returns", Orders.ReturnOf(number, method: method))).Expect(HttpStatusCode.Created).Str("rma");
    }

    [Fact]
    public async Task Registry_RoundTrips_RefusesBadInputByField_AndStaysWithinItsMerchant()
    {
        var m = await app.NewMerchantAsync();
        var other = await app.NewMerchantAsync();
        var created = (await m.Client.Post("/api/v1/carriers", Carrier("dhl", 4.9m, areas: "DE:10000..19999,8*;AT"))).Expect(HttpStatusCode.Created);
        Assert.Equal("10000..19999", created.Str("areas.0.postal_codes.0"));
        Assert.Equal("8*", created.Str("areas.0.postal_codes.1"));
        Assert.Equal("4.9", created.Str("rate_card.bands.0.prices.de"));
        Assert.Equal("16:00", created.Str("pickup_cutoff"));
        (await m.Client.Post("/api/v1/carriers", Carrier("dhl", 5m))).Expect(HttpStatusCode.Conflict);

        // A GET answer can be edited and sent back.
        var got = (await m.Client.Get("/api/v1/carriers/dhl")).Expect(HttpStatusCode.OK).AsObject();
        got["transit_days"] = 2;
        got["active"] = false;
        var put = (await m.Client.Put("/api/v1/carriers/dhl", got)).Expect(HttpStatusCode.OK);
        Assert.Equal(2, put["transit_days"]!.GetValue<int>());
        Assert.False(put["active"]!.GetValue<bool>());

        var bad = (await m.Client.Post("/api/v1/carriers", new
        {
            code = "Bad Code", name = "", adapter = "fedex-api", services = new[] { "teleport", "box_free" },
            areas = new[] { new { country = "Germany", postal_codes = new[] { "9..1" } } },
            rate_card = new { currency = "EUR", zones = new[] { new { code = "de", areas = new[] { new { country = "DE" } } } },
                bands = new[] { new { max_grams = 1000, prices = new Dictionary<string, decimal> { ["eu"] = 5m } } } },
            transit_days = 0, pickup_cutoff = "4pm",
        })).Expect(HttpStatusCode.UnprocessableEntity);
        var fields = bad["errors"]!.AsObject().Select(e => e.Key).ToList();
        Assert.Equal(["code", "name", "adapter", "services", "areas[0]", "rate_card.bands[0].prices.eu", "transit_days", "pickup_cutoff"], fields);
        Assert.Equal(2, bad["errors"]!["services"]!.AsArray().Count); // an unknown service, and box-free without drop-off
        var options = (await m.Client.Post("/api/v1/carriers", Carrier("sbx", 5m, options: new { pickup_success_rate = 2, teleport = true }))).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(["adapter_options.teleport", "adapter_options.pickup_success_rate"], options["errors"]!.AsObject().Select(e => e.Key));
        (await m.Client.Post("/api/v1/carriers", new { code = "x", unknown_field = 1 })).Expect(HttpStatusCode.UnprocessableEntity);
        (await m.Client.Put("/api/v1/carriers/scorecard", Carrier("scorecard", 5m))).Expect(HttpStatusCode.UnprocessableEntity);

        // Another merchant sees none of it, and its own carrier of the same code is its own.
        Assert.Empty((await other.Client.Get("/api/v1/carriers")).Expect(HttpStatusCode.OK).AsArray());
        (await other.Client.Get("/api/v1/carriers/dhl")).Expect(HttpStatusCode.NotFound);
        (await other.Client.Send(HttpMethod.Delete, "/api/v1/carriers/dhl")).Expect(HttpStatusCode.NotFound);
        (await other.Client.Put("/api/v1/carriers/dhl", Carrier("dhl", 1m))).Expect(HttpStatusCode.Created);
        Assert.Equal("4.9", (await m.Client.Get("/api/v1/carriers/dhl")).Expect(HttpStatusCode.OK).Str("rate_card.bands.0.prices.de"));

        // A key without carriers:write reads but cannot change the registry.
        var readOnly = await app.WithDb(m.Id, async db =>
        {
            var secret = Retour.Features.Tenancy.ApiKey.NewSecret();
            db.ApiKeys.Add(new Retour.Features.Tenancy.ApiKey { Name = "reader", Prefix = "r", Hash = Retour.Features.Tenancy.ApiKey.HashOf(secret), Scopes = "carriers:read", CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
            return app.Client(secret);
        });
        (await readOnly.Get("/api/v1/carriers/dhl")).Expect(HttpStatusCode.OK);
        (await readOnly.Put("/api/v1/carriers/dhl", Carrier("dhl", 1m))).Expect(HttpStatusCode.Forbidden);

        (await m.Client.Send(HttpMethod.Delete, "/api/v1/carriers/dhl")).Expect(HttpStatusCode.NoContent);
        (await m.Client.Get("/api/v1/carriers/dhl")).Expect(HttpStatusCode.NotFound);
        Assert.True(await app.WithDb(m.Id, db => db.AuditEvents.AnyAsync(a => a.Action == "carrier_deleted")));
    }

    [Fact]
    public async Task Approval_AllocatesByTheMerchantsWeights_AndStoresTheDecisionWithTheShipment()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/carriers", Carrier("cheap", 3.9m, days: 5))).Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/carriers", Carrier("fast", 7.8m, days: 1))).Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/carriers", Carrier("north", 1m, areas: "DE:2*"))).Expect(HttpStatusCode.Created);
        var settings = (await m.Client.Put("/api/v1/allocation", new { weights = new { cost = 1, speed = 0, performance = 0 }, rules = Array.Empty<object>() })).Expect(HttpStatusCode.OK);
        Assert.Equal("1", settings.Str("weights.cost"));

        var ret = await BookedAsync(m, await ReturnAsync(m, "A-1"));
        var s = ret["shipment"]!;
        Assert.Equal("cheap", s.Str("carrier"));
        Assert.Equal("cheap", ret.Str("carrier"));
        Assert.Equal("cheap", s.Str("allocation.chosen"));
        Assert.Equal(["cheap", "fast"], s["allocation"]!["candidates"]!.AsArray().Select(c => c!.Str("carrier")));
        Assert.Equal("0.5", s.Str("allocation.candidates.1.cost_score"));
        Assert.Equal("does not serve DE 10115", s.Str("allocation.excluded.0.reason"));
        Assert.StartsWith("cheap has the best score", s.Str("allocation.explanation"));
        Assert.True(s["allocation"]!["attempts"]![0]!["succeeded"]!.GetValue<bool>());

        // The same question through the preview, and a split rule that is stable per return.
        (await m.Client.Put("/api/v1/allocation", new { rules = new[] { new { type = "split", shares = new Dictionary<string, int> { ["cheap"] = 50, ["fast"] = 50 } } } })).Expect(HttpStatusCode.OK);
        var p1 = (await m.Client.Post("/api/v1/allocation/preview", new { service = "drop_off", address = new { country = "DE", postal_code = "10115" }, key = "k1" })).Expect(HttpStatusCode.OK);
        var p2 = (await m.Client.Post("/api/v1/allocation/preview", new { service = "drop_off", address = new { country = "DE", postal_code = "10115" }, key = "k1" })).Expect(HttpStatusCode.OK);
        Assert.Equal(p1.ToJsonString(), p2.ToJsonString());
        Assert.Equal("rule 1: split cheap 50%/fast 50% for all returns", p1.Str("rule"));
        var bad = (await m.Client.Put("/api/v1/allocation", new { rules = new[] { new { type = "pin", carrier = "dpd" } } })).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Equal(["rules[0].carrier"], bad["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal("1", (await m.Client.Get("/api/v1/allocation")).Expect(HttpStatusCode.OK)["rules"]!.AsArray().Count.ToString());
    }

    [Fact]
    public async Task AFailingOrSlowCarrier_FallsBackToTheNext_AndTheFallbackIsRecorded()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/carriers", Carrier("broken", 1m, options: new { book_failure_rate = 1 }))).Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/carriers", Carrier("slow", 2m, options: new { book_delay_ms = 5000 }))).Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/carriers", Carrier("steady", 9m))).Expect(HttpStatusCode.Created);
        (await m.Client.Put("/api/v1/allocation", new { weights = new { cost = 1, speed = 0, performance = 0 } })).Expect(HttpStatusCode.OK);

        var ret = await BookedAsync(m, await ReturnAsync(m, "F-1"));
        var s = ret["shipment"]!;
        Assert.Equal("steady", s.Str("carrier"));
        var attempts = s["allocation"]!["attempts"]!.AsArray();
        Assert.Equal(["broken", "slow", "steady"], attempts.Select(a => a!.Str("carrier")));
        Assert.Contains("refused the booking", attempts[0]!.Str("error"));
        Assert.Equal("timed out after 0.3 s", attempts[1]!.Str("error"));
        Assert.True(attempts[2]!["succeeded"]!.GetValue<bool>());
        Assert.Equal("broken", s.Str("allocation.chosen")); // the decision, and then what happened
        var audit = await app.WithDb(m.Id, db => db.AuditEvents.Where(a => a.Action == "carrier_allocated" || a.Action == "status_changed").Select(a => a.Reason).ToListAsync());
        Assert.Contains(audit, r => r!.Contains("(after broken, slow failed)"));
    }

    [Fact]
    public async Task Cancelling_CancelsTheShipment_AndAnUnusedLabelExpiresTheReturn()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/carriers", Carrier("sbx", 4m))).Expect(HttpStatusCode.Created);
        var cancelled = await ReturnAsync(m, "C-1", method: "pickup");
        var booked = await BookedAsync(m, cancelled);
        Assert.Equal("pickup_scheduled", booked.Str("shipment.status"));
        Assert.Equal("09:00-13:00", booked.Str("shipment.pickup.window"));
        (await m.Client.Post($"/api/v1/returns/{cancelled}/cancel", new { reason = "changed my mind" })).Expect(HttpStatusCode.OK);
        JsonNode? s = null;
        for (var i = 0; i < 200 && s?["cancelled_at"] is null; i++)
        {
            await Task.Delay(50);
            s = (await m.Client.Get($"/api/v1/returns/{cancelled}")).Expect(HttpStatusCode.OK)["shipment"];
        }
        Assert.NotNull(s!["cancelled_at"]);
        Assert.Contains(s["events"]!.AsArray(), e => e!.Str("raw_code") == "CANCELLED" && e.Str("message").Contains("pickup on"));

        // A drop-off label nobody used: its time has come (set back here rather than waiting 30 days).
        var unused = await ReturnAsync(m, "E-1");
        var label = await BookedAsync(m, unused);
        Assert.NotNull(label["shipment"]!["label_expires_at"]);
        await app.WithDb(m.Id, db => db.Shipments.Where(x => x.TrackingNumber == label["shipment"]!.Str("tracking_number"))
            .ExecuteUpdateAsync(u => u.SetProperty(x => x.LabelExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1))));
        // The host's own worker may get there first (it runs every 2 s); either way it happens once.
        var worker = app.Services.GetRequiredService<CarrierWorker>();
        await worker.ExpireLabelsAsync(CancellationToken.None);
        Assert.Equal(0, await worker.ExpireLabelsAsync(CancellationToken.None));
        var expired = (await m.Client.Get($"/api/v1/returns/{unused}")).Expect(HttpStatusCode.OK);
        Assert.Equal(1, await app.WithDb(m.Id, db => db.OutboxMessages.CountAsync(o => o.Type == CarrierWorker.ExpiredEvent)));
        Assert.Equal("expired", expired.Str("status"));
        Assert.Equal("expired", expired.Str("shipment.status"));
        Assert.True(await app.WithDb(m.Id, db => db.OutboxMessages.AnyAsync(o => o.Type == CarrierWorker.ExpiredEvent)));
        // The units are free again: the same line can be returned anew.
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("E-1"))).Expect(HttpStatusCode.Created);
    }

    [Fact]
    public async Task TheSandboxIsPolled_ItsLifeMovesTheReturnToDelivered_OnceEach_AndFeedsTheScorecard()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/carriers", Carrier("sbx", 4m, options: new
        {
            pickup_success_rate = 1, exception_rate = 0, damage_rate = 0, delay_rate = 0, duplicate_rate = 1, out_of_order_rate = 0,
        }))).Expect(HttpStatusCode.Created);
        var rma = await ReturnAsync(m, "P-1", method: "pickup");
        var tracking = (await BookedAsync(m, rma)).Str("shipment.tracking_number");
        // Autopilot is off in tests; the poll job is due and the parcel's simulated life lies in the past.
        Assert.True(await app.WithDb(m.Id, db => db.Shipments.AnyAsync(s => s.TrackingNumber == tracking && s.NextPollAt == null)));
        await app.WithDb(m.Id, db => db.Shipments.Where(s => s.TrackingNumber == tracking).ExecuteUpdateAsync(u => u
            .SetProperty(s => s.NextPollAt, DateTimeOffset.UtcNow.AddSeconds(-1)).SetProperty(s => s.CreatedAt, DateTimeOffset.UtcNow.AddDays(-60))));
        var worker = app.Services.GetRequiredService<CarrierWorker>();
        Assert.Equal(5, await worker.PollDueAsync(CancellationToken.None)); // PU_OK, HUB_IN, HUB_OUT, OFD, DLV; each reported twice
        var ret = (await m.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.OK);
        Assert.Equal("delivered", ret.Str("status"));
        Assert.Equal("delivered", ret.Str("shipment.status"));
        Assert.Equal(6, ret["shipment"]!["events"]!.AsArray().Count);
        Assert.True(await app.WithDb(m.Id, db => db.Shipments.AnyAsync(s => s.TrackingNumber == tracking && s.NextPollAt == null && s.PickedUpAt != null && s.DeliveredAt != null)));
        Assert.Equal(0, await worker.PollDueAsync(CancellationToken.None));

        var card = (await m.Client.Get("/api/v1/carriers/scorecard?days=90")).Expect(HttpStatusCode.OK).AsArray().Single()!;
        Assert.Equal("sbx", card.Str("carrier"));
        Assert.Equal("1", card.Str("pickup_success_rate"));
        Assert.Equal("1", card.Str("first_attempt_rate"));
        Assert.Equal("1", card.Str("on_time_rate"));
        Assert.Equal("0", card.Str("damage_rate"));
        Assert.Equal(1, card["counts"]!["delivered"]!.GetValue<int>());
        (await m.Client.Get("/api/v1/carriers/scorecard?days=0")).Expect(HttpStatusCode.UnprocessableEntity);
        var other = await app.NewMerchantAsync();
        Assert.Empty((await other.Client.Get("/api/v1/carriers/scorecard")).Expect(HttpStatusCode.OK).AsArray());
    }

    [Fact]
    public async Task CsvImport_CreatesAndReplaces_AllOrNothing()
    {
        var m = await app.NewMerchantAsync();
        var adapters = app.Services.GetRequiredService<CarrierAdapters>();
        const string good = """
            code,name,adapter,services,areas,transit_days,daily_capacity,pickup_cutoff,active,currency,zones,rates,adapter_options
            dhl,DHL Paket,sandbox,"pickup,drop_off","DE:0*,1*;AT",2,500,16:00,true,EUR,de=DE|at=AT,"2000:de=4.90,at=8.50|10000:de=6.90,at=11",pickup_success_rate=0.95
            hermes,Hermes,sandbox,"drop_off,box_free",DE,3,,,yes,EUR,de=DE,5000:de=3.95,
            """;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) });
        var summary = await app.WithDb(m.Id, db => ImportCarriers.RunAsync(db, new StringReader(good), adapters, TimeProvider.System, console, CancellationToken.None));
        Assert.Equal((2, 2, 0), (summary.Rows, summary.Created, summary.Updated));
        var dhl = (await m.Client.Get("/api/v1/carriers/dhl")).Expect(HttpStatusCode.OK);
        Assert.Equal("DE", dhl.Str("areas.0.country"));
        Assert.Equal("0*", dhl.Str("areas.0.postal_codes.0"));
        Assert.Equal("8.5", dhl.Str("rate_card.bands.0.prices.at"));
        Assert.Equal(0.95, dhl["adapter_options"]!["pickup_success_rate"]!.GetValue<double>());
        Assert.Equal(500, dhl["daily_capacity"]!.GetValue<int>());

        const string bad = """
            code,name,services,areas,transit_days,rates,zones,currency
            dhl,DHL Paket,pickup,DE,1,1000:de=5,de=DE,EUR
            ups,UPS,fly,DE:1..22,x,1000:de=five,de=DE,EUR
            """;
        var rejected = await app.WithDb(m.Id, db => ImportCarriers.RunAsync(db, new StringReader(bad), adapters, TimeProvider.System, console, CancellationToken.None));
        Assert.Equal(0, rejected.Created + rejected.Updated);
        Assert.All(rejected.Rejected, r => Assert.Equal(3, r.Line));
        Assert.Contains(rejected.Rejected, r => r.Reason.StartsWith("transit_days:"));
        Assert.Contains(rejected.Rejected, r => r.Reason.StartsWith("rates:"));
        Assert.Contains(rejected.Rejected, r => r.Reason.StartsWith("areas:"));
        // Nothing changed, not even the valid row.
        Assert.Equal(2, (await m.Client.Get("/api/v1/carriers/dhl")).Expect(HttpStatusCode.OK)["transit_days"]!.GetValue<int>());
        await Assert.ThrowsAsync<InvalidDataException>(() => app.WithDb(m.Id, db =>
            ImportCarriers.RunAsync(db, new StringReader("code,name\nx,y\n"), adapters, TimeProvider.System, console, CancellationToken.None)));
    }
}
