using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Retour.Features.Analytics;
using Retour.Features.Demo;
using Retour.Infrastructure;
using Retour.Infrastructure.Db;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

/// <summary>
/// Analytics end to end: orders and returns made through the API reach the rollups through the outbox; every answer
/// (summary, breakdown, trend, funnel, CSV) is read from them; recomputing any fact changes nothing; the generator's
/// data equals what a rebuild from its raw rows gives; merchants and roles are kept apart.
/// </summary>
public sealed class AnalyticsTests(RetourApp app) : IClassFixture<RetourApp>
{
    private static object Order(string number, string country, string? region, params object[] lines) => new
    {
        number, placed_at = DateTimeOffset.UtcNow.AddDays(-6), delivered_at = DateTimeOffset.UtcNow.AddDays(-3), currency = "EUR",
        customer = new { email = $"{number.ToLowerInvariant()}@example.com", name = "Sam", locale = "en" },
        shipping_address = new { name = "Sam", line1 = "Main St 1", city = "Somewhere", postal_code = "10115", country, region },
        lines,
    };

    private static async Task<JsonNode> WaitForAsync(HttpClient client, string url, Func<JsonNode, bool> done, string what)
    {
        JsonNode? last = null;
        for (var i = 0; i < 150; i++)
        {
            var (status, body) = await client.Get(url);
            if (status == HttpStatusCode.OK && body is not null && done(body)) return body;
            last = body;
            await Task.Delay(200);
        }
        throw new Xunit.Sdk.XunitException($"Timed out waiting for {what}; last answer: {last?.ToJsonString()}");
    }

    private static long L(JsonNode? n, string path) => n.Node(path)!.GetValue<long>();
    private static double? D(JsonNode? n, string path) => n.Node(path)?.GetValue<double>();

    /// <summary>Every non-zero rollup cell of a merchant, for before/after comparisons.</summary>
    private Task<Dictionary<string, string>> SnapshotAsync(Guid merchantId) => app.WithDb(merchantId, async db =>
        (await db.AnalyticsRollups.AsNoTracking().ToListAsync())
            .Where(r => r.Returns != 0 || r.Units != 0 || r.Orders != 0 || r.SoldUnits != 0 || r.Value != 0 || r.RefundTotal != 0 || r.CycleCount != 0)
            .ToDictionary(r => $"{r.Scope}|{r.Dim}|{r.Day}|{r.Key}", r => string.Join(',', r.Returns, r.Units, r.Value, r.RefundTotal, r.FeesTotal,
                r.RecoveredValue, r.StoreCredit, r.Exchanges, r.AutoApproved, r.CycleCount, Math.Round(r.CycleHours, 3).ToString(CultureInfo.InvariantCulture),
                r.SmallUnits, r.LargeUnits, r.QualityUnits, r.UsedUnits, r.Orders, r.SoldUnits, r.SoldValue)));

    /// <summary>Every shopper profile of a merchant (history entries sorted: SQLite's rebuild keeps no order).</summary>
    private Task<Dictionary<string, string>> ProfilesAsync(Guid merchantId) => app.WithDb(merchantId, async db =>
        (await db.AnalyticsShoppers.AsNoTracking().ToListAsync()).ToDictionary(s => s.Email, s => string.Join(',', s.Returns, s.UsedUnits,
            s.LastReturnAt.ToUnixTimeMilliseconds(), s.History is null ? "-" : string.Join(' ', s.History.Split(' ').Order(StringComparer.Ordinal)))));

    /// <summary>Queues every return and order of the merchant again and drains the worker: a full rebuild from the raw rows.</summary>
    private async Task RecomputeAllAsync(Guid merchantId)
    {
        var ids = await app.WithDb(merchantId, async db =>
            (await db.Returns.Select(r => r.Id).ToListAsync()).Select(id => (id, "return"))
            .Concat((await db.Orders.Select(o => o.Id).ToListAsync()).Select(id => (id, "order"))).ToList());
        await app.WithDb(merchantId, async db =>
        {
            foreach (var (id, kind) in ids) await AnalyticsQueue.EnqueueAsync(db, merchantId, kind, id, DateTimeOffset.UtcNow.AddSeconds(-1), default);
            return 0;
        });
        await app.Services.GetRequiredService<AnalyticsWorker>().DrainAsync(default);
    }

    [Fact]
    public async Task ReturnsMadeThroughTheApi_ReachEveryAnswer_AndRecomputingChangesNothing()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/orders", Order("A-1", "DE", "BY", Orders.Line("L1", "TEE-M", 20m, 2), Orders.Line("L2", "HEAD-1", 100m, 1, "electronics"))))
            .Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/orders", Order("A-2", "US", "CA", Orders.Line("L1", "TEE-M", 20m, 1)))).Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("A-1", "L1", 1, "too_small"), Guid.NewGuid().ToString())).Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("A-1", "L2", 1, "defective", "store_credit"), Guid.NewGuid().ToString())).Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("A-2", "L1", 1, "too_large"), Guid.NewGuid().ToString())).Expect(HttpStatusCode.Created);

        var summary = await WaitForAsync(m.Client, "/api/v1/analytics/summary", s => L(s, "returns") == 3 && L(s, "sold_units") == 4, "three returns and four units sold");
        Assert.Equal(3, L(summary, "units"));
        Assert.Equal(0.75, D(summary, "return_rate_units"));
        Assert.Equal("140.00", summary.Str("value"));      // 20 + 100 + 20 of 40 + 100 + 20 sold
        Assert.Equal("160.00", summary.Str("sold_value"));
        Assert.Equal(0.875, D(summary, "return_rate_value"));
        Assert.Equal(0.3333, D(summary, "store_credit_share"));
        Assert.Equal("rollup", summary.Str("source"));
        foreach (var field in new[] { "return_rate_units", "return_rate_value", "returns", "refund_total", "fees_total", "avg_cycle_hours", "recovered_value" })
            Assert.True(summary.AsObject().ContainsKey(field), field);

        var reasons = (await m.Client.Get("/api/v1/analytics/breakdown?dimension=reason")).Expect(HttpStatusCode.OK);
        Assert.Equal(3, L(reasons, "total_rows"));
        var rows = reasons["rows"]!.AsArray();
        Assert.All(rows, r => Assert.Equal(1, L(r, "returns")));
        Assert.Equal(["defective", "too_large", "too_small"], rows.Select(r => r.Str("key")).Order().ToArray());
        Assert.All(rows, r => Assert.Equal("returned_units", r.Str("rate_basis")));

        var categories = (await m.Client.Get("/api/v1/analytics/breakdown?dimension=category&sort=key")).Expect(HttpStatusCode.OK);
        var apparel = categories["rows"]!.AsArray().Single(r => r.Str("key") == "apparel");
        Assert.Equal(2, L(apparel, "units"));
        Assert.Equal(3, L(apparel, "sold_units"));
        Assert.Equal(0.6667, D(apparel, "rate"));
        Assert.Equal(1.0, D(categories["rows"]!.AsArray().Single(r => r.Str("key") == "electronics"), "rate"));

        var regions = (await m.Client.Get("/api/v1/analytics/breakdown?dimension=region")).Expect(HttpStatusCode.OK);
        Assert.Equal(["DE-BY", "US-CA"], regions["rows"]!.AsArray().Select(r => r.Str("key")).Order().ToArray());
        var segments = (await m.Client.Get("/api/v1/analytics/breakdown?dimension=segment")).Expect(HttpStatusCode.OK);
        Assert.Equal("new", segments["rows"]![0].Str("key"));

        // One filter reads pre-summed cells; two filters are summed from the facts and say so.
        var apparelOnly = (await m.Client.Get("/api/v1/analytics/summary?category=apparel")).Expect(HttpStatusCode.OK);
        Assert.Equal(2, L(apparelOnly, "returns"));
        Assert.Equal(3, L(apparelOnly, "sold_units"));
        var germanApparel = (await m.Client.Get("/api/v1/analytics/summary?category=apparel&region=DE")).Expect(HttpStatusCode.OK);
        Assert.Equal("facts", germanApparel.Str("source"));
        Assert.Equal(1, L(germanApparel, "returns"));
        Assert.Equal(2, L(germanApparel, "sold_units"));
        var viaCarrier = (await m.Client.Get("/api/v1/analytics/summary?carrier=none")).Expect(HttpStatusCode.OK);
        Assert.Null(viaCarrier["return_rate_units"]); // nothing is sold through a carrier: no denominator

        // CSV, by query and by Accept header, with CsvHelper's quoting.
        var csv = await m.Client.GetAsync("/api/v1/analytics/breakdown?dimension=reason&format=csv");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("key,returns,units,value,rate,", lines[0]);
        Assert.Equal(4, lines.Length);
        using (var req = new HttpRequestMessage(HttpMethod.Get, "/api/v1/analytics/trend?interval=week"))
        {
            req.Headers.Accept.ParseAdd("text/csv");
            var trendCsv = await m.Client.SendAsync(req);
            Assert.Equal("text/csv", trendCsv.Content.Headers.ContentType!.MediaType);
            Assert.StartsWith("period,returns,units,sold_units,return_rate_units", await trendCsv.Content.ReadAsStringAsync());
        }

        // Days are the shop's (Berlin) days: the default period is its last 90.
        var trend = (await m.Client.Get("/api/v1/analytics/trend?interval=day")).Expect(HttpStatusCode.OK);
        Assert.Equal(90, trend["points"]!.AsArray().Count);
        Assert.Equal(3, trend["points"]!.AsArray().Sum(p => L(p, "returns")));

        var funnel = (await m.Client.Get("/api/v1/analytics/funnel")).Expect(HttpStatusCode.OK);
        Assert.Equal(3, L(funnel["stages"]![0], "returns"));
        Assert.Equal("requested", funnel["stages"]![0].Str("stage"));

        // The worker keeps each shopper's profile: A-1's shopper made two returns of one order, A-2's one.
        var profiles = await ProfilesAsync(m.Id);
        Assert.Equal(2, profiles.Count);
        Assert.StartsWith("2,0,", profiles["a-1@example.com"]);
        Assert.Equal(2, profiles["a-1@example.com"].Split(',')[3].Split(' ').Length);
        var serial = (await m.Client.Get("/api/v1/analytics/insights/serial-returners?min_returns=2&min_rate=1")).Expect(HttpStatusCode.OK);
        var row = Assert.Single(serial["rows"]!.AsArray());
        Assert.Equal("a-1@example.com", row.Str("email"));
        Assert.Equal(2, L(row, "returns"));
        Assert.Equal(1, L(row, "orders"));
        Assert.Equal(1, L(row, "returned_orders"));
        Assert.Equal(2, L(row, "units"));
        Assert.Equal("130.00", row.Str("value"));          // what the shopper gets back: 20, and 100 as store credit with its 10 % bonus
        Assert.Equal(["many_returns", "high_rate"], row!["signals"]!.AsArray().Select(x => x!.GetValue<string>()).ToArray());

        // A full recomputation from the raw rows leaves every cell and profile as it was.
        var before = await SnapshotAsync(m.Id);
        Assert.NotEmpty(before);
        await RecomputeAllAsync(m.Id);
        Assert.Equal(before, await SnapshotAsync(m.Id));
        Assert.Equal(profiles, await ProfilesAsync(m.Id));
    }

    [Fact]
    public async Task MerchantsAndRoles_AreKeptApart()
    {
        var a = await app.NewMerchantAsync();
        var b = await app.NewMerchantAsync();
        (await a.Client.Post("/api/v1/orders", Order("I-1", "DE", null, Orders.Line("L1", "TEE-M", 20m, 1)))).Expect(HttpStatusCode.Created);
        (await a.Client.Post("/api/v1/returns", Orders.ReturnOf("I-1"), Guid.NewGuid().ToString())).Expect(HttpStatusCode.Created);
        await WaitForAsync(a.Client, "/api/v1/analytics/summary", s => L(s, "returns") == 1, "A's return");
        var other = (await b.Client.Get("/api/v1/analytics/summary")).Expect(HttpStatusCode.OK);
        Assert.Equal(0, L(other, "returns"));
        Assert.Equal(0, L(other, "sold_units"));
        Assert.Empty((await b.Client.Get("/api/v1/analytics/breakdown?dimension=sku")).Expect(HttpStatusCode.OK)["rows"]!.AsArray());

        await Staff.AddAsync(app, a.Id, $"analyst-{a.Slug}@example.com", "analyst");
        await Staff.AddAsync(app, a.Id, $"agent-{a.Slug}@example.com", "agent");
        await Staff.AddAsync(app, a.Id, $"wh-{a.Slug}@example.com", "warehouse");
        var analyst = await Staff.SessionAsync(app, $"analyst-{a.Slug}@example.com");
        Assert.Equal(1, L((await analyst.Get("/api/v1/analytics/summary")).Expect(HttpStatusCode.OK), "returns"));
        Assert.Equal(HttpStatusCode.Forbidden, (await (await Staff.SessionAsync(app, $"agent-{a.Slug}@example.com")).Get("/api/v1/analytics/summary")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await Staff.SessionAsync(app, $"wh-{a.Slug}@example.com")).Get("/api/v1/analytics/breakdown?dimension=reason")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client(null).Get("/api/v1/analytics/summary")).Status);

        var secret = Retour.Features.Tenancy.ApiKey.NewSecret();
        await app.WithDb(a.Id, async db =>
        {
            db.ApiKeys.Add(new Retour.Features.Tenancy.ApiKey { Name = "reader", Prefix = "r", Hash = Retour.Features.Tenancy.ApiKey.HashOf(secret), Scopes = "returns:read orders:read", CreatedAt = DateTimeOffset.UtcNow });
            return await db.SaveChangesAsync();
        });
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client(secret).Get("/api/v1/analytics/summary")).Status);

        // Shoppers by name and their words are returns data: a key with analytics:read alone does not get them.
        var numbers = Retour.Features.Tenancy.ApiKey.NewSecret();
        await app.WithDb(a.Id, async db =>
        {
            db.ApiKeys.Add(new Retour.Features.Tenancy.ApiKey { Name = "numbers", Prefix = "n", Hash = Retour.Features.Tenancy.ApiKey.HashOf(numbers), Scopes = "analytics:read", CreatedAt = DateTimeOffset.UtcNow });
            return await db.SaveChangesAsync();
        });
        Assert.Equal(HttpStatusCode.OK, (await app.Client(numbers).Get("/api/v1/analytics/summary")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client(numbers).Get("/api/v1/analytics/insights/serial-returners")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client(numbers).Get("/api/v1/analytics/insights/comments")).Status);
        Assert.Equal(HttpStatusCode.OK, (await analyst.Get("/api/v1/analytics/insights/serial-returners?min_returns=1&min_rate=0")).Status);
        // B never sees A's shopper or comment.
        var theirs = (await b.Client.Get("/api/v1/analytics/insights/serial-returners?min_returns=1&min_rate=0")).Expect(HttpStatusCode.OK);
        Assert.Empty(theirs["rows"]!.AsArray());
        Assert.Equal(0, L((await b.Client.Get("/api/v1/analytics/insights/comments")).Expect(HttpStatusCode.OK), "comments"));
        var ours = (await a.Client.Get("/api/v1/analytics/insights/comments")).Expect(HttpStatusCode.OK);
        Assert.Equal(1, L(ours, "comments"));
    }

    [Fact]
    public async Task BadInput_GetsFieldErrors()
    {
        var m = await app.NewMerchantAsync();
        async Task Field(HttpStatusCode want, (HttpStatusCode Status, JsonNode? Body) r, string field)
        {
            Assert.Equal(want, r.Status);
            Assert.True(r.Body?["errors"]?[field] is not null, $"no error for '{field}' in {r.Body?.ToJsonString()}");
            await Task.CompletedTask;
        }
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Get("/api/v1/analytics/breakdown"), "dimension");
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Get("/api/v1/analytics/breakdown?dimension=colour"), "dimension");
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Get("/api/v1/analytics/breakdown?dimension=reason&limit=0"), "limit");
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Get("/api/v1/analytics/breakdown?dimension=reason&sort=price"), "sort");
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Get("/api/v1/analytics/breakdown?dimension=sku&carrier=dhl"), "dimension");
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Get("/api/v1/analytics/breakdown?dimension=sku&category=apparel&region=DE"), "dimension");
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Get("/api/v1/analytics/summary?from=yesterday"), "from");
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Get("/api/v1/analytics/summary?to=0001-01-01"), "to");
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Get("/api/v1/analytics/trend?to=9999-12-31"), "to");
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Get("/api/v1/analytics/summary?from=2026-05-01&to=2026-04-01"), "from");
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Get("/api/v1/analytics/trend?interval=hour"), "interval");
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Post("/api/v1/analytics/classify", new { text = "" }), "text");
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Post("/api/v1/analytics/what-if", new { months = 6 }), "policy");
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Post("/api/v1/analytics/what-if", new { policy = new { window_days = 30 }, months = 0 }), "months");
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Post("/api/v1/analytics/what-if", new { policy = new { window_days = -3 } }), "policy.window_days");
        await Field(HttpStatusCode.UnprocessableEntity, await m.Client.Post("/api/v1/analytics/what-if", new { policy = new { window_dayz = 3 } }), "policy.window_dayz");
    }

    [Fact]
    public async Task Classify_NamesTheReason_AndTheLanguage()
    {
        var m = await app.NewMerchantAsync();
        var de = (await m.Client.Post("/api/v1/analytics/classify", new { text = "Die Hose ist viel zu groß und rutscht ständig" })).Expect(HttpStatusCode.OK);
        Assert.Equal("too_large", de.Str("reason"));
        Assert.Equal("de", de.Str("language"));
        Assert.InRange(D(de, "confidence")!.Value, 0.3, 1.0);
        var ko = (await m.Client.Post("/api/v1/analytics/classify", new { text = "배송 중에 박스가 찌그러져서 제품이 파손됐어요" })).Expect(HttpStatusCode.OK);
        Assert.Equal("damaged", ko.Str("reason"));
        Assert.Equal("ko", ko.Str("language"));
    }

    [Fact]
    public async Task GeneratedHistory_EqualsItsRebuild_HasCategoryRates_AndFeedsTheWhatIf()
    {
        var m = await app.NewMerchantAsync(DemoCatalogue.Policy);
        var report = await app.Services.GetRequiredService<DemoGenerator>().RunAsync(new GenerateOptions(m.Slug, 600, Months: 4, ChunkReturns: 250), null, default);
        Assert.Equal(600, report.Returns);
        Assert.True(report.Orders > 600);
        var from = DateTime.UtcNow.AddMonths(-5).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

        var summary = (await m.Client.Get($"/api/v1/analytics/summary?from={from}")).Expect(HttpStatusCode.OK);
        Assert.Equal(600, L(summary, "returns"));
        Assert.Equal(report.Orders, L(summary, "orders") + await app.WithDb(m.Id, db => db.Orders.CountAsync(o => o.CancelledAt != null)));
        Assert.True(D(summary, "avg_cycle_hours") > 24);
        Assert.NotEqual("0.00", summary.Str("recovered_value"));
        Assert.Equal(600, await app.WithDb(m.Id, db => db.Returns.CountAsync()));

        // Rates over orders old enough to have come back (the last weeks' orders are still under way).
        var ripe = DateTime.UtcNow.AddDays(-45).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var cats = (await m.Client.Get($"/api/v1/analytics/breakdown?dimension=category&from={from}&to={ripe}")).Expect(HttpStatusCode.OK)["rows"]!.AsArray();
        var apparel = D(cats.Single(r => r.Str("key") == "apparel"), "rate")!.Value;
        var electronics = D(cats.Single(r => r.Str("key") == "electronics"), "rate")!.Value;
        Assert.InRange(apparel, 0.18, 0.45);
        Assert.True(electronics < apparel / 2, $"electronics {electronics} vs apparel {apparel}");

        // Insights: the dress runs large against apparel; suppliers and carriers answer (and as CSV).
        var sizing = (await m.Client.Get($"/api/v1/analytics/insights/sizing?level=product&min_units=10&from={from}")).Expect(HttpStatusCode.OK);
        var dress = sizing["rows"]!.AsArray().Single(r => r.Str("key") == "DRESS");
        Assert.Equal("large", dress.Str("runs"));
        Assert.Equal("apparel", dress.Str("category"));
        Assert.True(D(dress, "large_share") > D(dress, "category_large_share"));
        Assert.DoesNotContain(sizing["rows"]!.AsArray(), r => r.Str("key") == "TEE" && r!["runs"]?.GetValue<string>() == "large");
        var suppliers = (await m.Client.Get($"/api/v1/analytics/insights/suppliers?from={from}")).Expect(HttpStatusCode.OK);
        Assert.Contains(suppliers["rows"]!.AsArray(), r => r.Str("supplier") == "voltco");
        Assert.StartsWith("supplier,returns,returned_units,quality_units", await m.Client.GetStringAsync($"/api/v1/analytics/insights/suppliers?from={from}&format=csv"));
        (await m.Client.Get($"/api/v1/analytics/insights/carriers?from={from}")).Expect(HttpStatusCode.OK);
        // Return to vendor: voltco's defective units go back to it, with their value and the credit expected.
        var voltco = suppliers["rows"]!.AsArray().Single(r => r.Str("supplier") == "voltco")!;
        Assert.True(L(voltco, "rtv_units") > 0, voltco.ToJsonString());
        decimal M(string field) => decimal.Parse(voltco.Str(field), CultureInfo.InvariantCulture);
        Assert.True(M("rtv_value") > 0 && M("rtv_recovery") > 0 && M("rtv_recovery") <= M("rtv_value"), voltco.ToJsonString());
        // Serial returners: the generated 2 % who return most of what they buy, many of it worn; every row has a reason to be there.
        var serial = (await m.Client.Get($"/api/v1/analytics/insights/serial-returners?from={from}&min_returns=3")).Expect(HttpStatusCode.OK);
        var flagged = serial["rows"]!.AsArray();
        Assert.NotEmpty(flagged);
        Assert.All(flagged, r => Assert.True(r!["signals"]!.AsArray().Any(x => x!.GetValue<string>() is "high_rate" or "wardrobing"), r.ToJsonString()));
        Assert.All(flagged.Where(r => r!["signals"]!.AsArray().Any(x => x!.GetValue<string>() == "high_rate")),
            r => Assert.True(L(r, "returns") >= 3 && D(r, "return_rate") >= 0.5, r!.ToJsonString()));
        Assert.Contains(flagged, r => r!["signals"]!.AsArray().Any(x => x!.GetValue<string>() == "wardrobing") && L(r, "used_units") >= 2);
        Assert.StartsWith("email,orders,returns", await m.Client.GetStringAsync($"/api/v1/analytics/insights/serial-returners?from={from}&format=csv"));
        // Against a direct count over the rows, for a period inside the history (so lifetime and period differ): every
        // row's returns and used units, and exactly the shoppers a direct count flags for a high rate or wardrobing.
        var (midFrom, midTo) = (DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-75)), DateOnly.FromDateTime(DateTime.UtcNow.AddDays(-20)));
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var (periodStart, periodEnd) = (Retour.Core.Policies.Returnability.StartOfDay(midFrom, berlin), Retour.Core.Policies.Returnability.StartOfDay(midTo.AddDays(1), berlin));
        var direct = await app.WithDb(m.Id, async db =>
        {
            var returns = await db.Returns.Where(r => r.CreatedAt >= periodStart && r.CreatedAt < periodEnd && r.CustomerEmail != null)
                .Select(r => new { r.CustomerEmail, r.OrderId, Used = db.Inspections.Count(i => i.ReturnId == r.Id && i.Grade == Retour.Core.Warehouse.Grade.Used) }).ToListAsync();
            var placed = (await db.Orders.Where(o => o.PlacedAt >= periodStart && o.PlacedAt < periodEnd && o.CustomerEmail != null).Select(o => o.CustomerEmail!).ToListAsync())
                .CountBy(e => e).ToDictionary(kv => kv.Key, kv => kv.Value);
            return returns.GroupBy(r => r.CustomerEmail!).ToDictionary(g => g.Key, g =>
            {
                var returned = g.Select(r => r.OrderId).Distinct().Count();
                return (Returns: (long)g.Count(), Used: (long)g.Sum(r => r.Used), HighRate: g.Count() >= 3 && (double)returned / Math.Max(returned, placed.GetValueOrDefault(g.Key)) >= 0.5);
            });
        });
        var period = $"from={midFrom:yyyy-MM-dd}&to={midTo:yyyy-MM-dd}&min_returns=3&limit=500";
        var all = (await m.Client.Get($"/api/v1/analytics/insights/serial-returners?{period}")).Expect(HttpStatusCode.OK);
        Assert.False(all["truncated"]!.GetValue<bool>());
        var listed = all["rows"]!.AsArray();
        Assert.Equal(L(all, "total_rows"), listed.Count);
        Assert.All(listed, r => Assert.Equal((direct[r.Str("email")].Returns, direct[r.Str("email")].Used), (L(r, "returns"), L(r, "used_units"))));
        string[] Flagged(string signal) => [.. listed.Where(r => r!["signals"]!.AsArray().Any(x => x!.GetValue<string>() == signal)).Select(r => r.Str("email")).Order(StringComparer.Ordinal)];
        Assert.Equal(direct.Where(kv => kv.Value.Used >= 2).Select(kv => kv.Key).Order(StringComparer.Ordinal), Flagged("wardrobing"));
        Assert.Equal(direct.Where(kv => kv.Value.HighRate).Select(kv => kv.Key).Order(StringComparer.Ordinal), Flagged("high_rate"));
        Assert.NotEmpty(Flagged("wardrobing"));
        Assert.NotEmpty(Flagged("high_rate"));
        // A shopper too busy for a history (over 1,000 returns) is counted from the returns: the same answer.
        await app.WithDb(m.Id, db => db.AnalyticsShoppers.ExecuteUpdateAsync(u => u.SetProperty(x => x.History, (string?)null)));
        var counted = (await m.Client.Get($"/api/v1/analytics/insights/serial-returners?{period}")).Expect(HttpStatusCode.OK);
        Assert.Equal(all.ToJsonString(), counted.ToJsonString());
        await app.WithDb(m.Id, db => ShopperProfiles.RebuildAsync(db, m.Id, DateTimeOffset.UtcNow, default)); // the generator's own rebuild
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await m.Client.Get("/api/v1/analytics/insights/serial-returners?min_rate=2")).Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await m.Client.Get("/api/v1/analytics/insights/serial-returners?carrier=dhl")).Status);
        // Comments in shoppers' words, classified: per picked reason, how many agree.
        var words = (await m.Client.Get($"/api/v1/analytics/insights/comments?from={from}")).Expect(HttpStatusCode.OK);
        Assert.All(words["rows"]!.AsArray(), r => Assert.InRange(D(r, "agreement")!.Value, 0, 1));
        // Every commented return is counted once per (picked, said) pair: at least once, at most once per commented line.
        var since = Retour.Core.Policies.Returnability.StartOfDay(DateOnly.Parse(from, CultureInfo.InvariantCulture), TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
        var commentedReturns = await app.WithDb(m.Id, db => db.Returns.CountAsync(r => r.CreatedAt >= since && r.Lines.Any(l => l.Comment != null)));
        var commentedLines = await app.WithDb(m.Id, db => db.ReturnLines.CountAsync(l => l.Comment != null && db.Returns.Any(r => r.Id == l.ReturnId && r.CreatedAt >= since)));
        Assert.InRange(L(words, "comments"), commentedReturns, commentedLines);
        Assert.True(commentedReturns > 50, $"{commentedReturns} commented returns");
        Assert.Contains(words["rows"]!.AsArray(), r => D(r, "agreement") > 0.5);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await m.Client.Get("/api/v1/analytics/insights/sizing?level=colour")).Status);

        // The facts and shopper profiles the generator wrote are exactly what the live path rebuilds from its rows.
        var before = await SnapshotAsync(m.Id);
        var profilesBefore = await ProfilesAsync(m.Id);
        Assert.Equal(direct.Count, profilesBefore.Count(p => direct.ContainsKey(p.Key)));
        Assert.DoesNotContain("-", profilesBefore.Values.Select(p => p.Split(',')[3]));
        Assert.Contains(profilesBefore.Values, p => !p.StartsWith("1,", StringComparison.Ordinal));
        await RecomputeAllAsync(m.Id);
        Assert.Equal(profilesBefore, await ProfilesAsync(m.Id));
        // Schema 15's fill of an upgraded database gives the same profiles.
        await app.WithDb(m.Id, async db =>
        {
            var fill = Migrator.Scripts(db.IsPostgres ? DbProvider.Postgres : DbProvider.Sqlite).Single(x => x.Version == 15).Sql;
            await db.AnalyticsShoppers.ExecuteDeleteAsync();
            var insert = fill.IndexOf("INSERT INTO analytics_shoppers", StringComparison.Ordinal);
            return await db.Database.ExecuteSqlRawAsync(fill[insert..(fill.IndexOf(';', insert) + 1)]);
        });
        Assert.Equal(profilesBefore, await ProfilesAsync(m.Id));
        var after = await SnapshotAsync(m.Id);
        var changed = before.Where(kv => after.GetValueOrDefault(kv.Key) != kv.Value).Select(kv => $"{kv.Key}: {kv.Value} -> {after.GetValueOrDefault(kv.Key)}")
            .Concat(after.Where(kv => !before.ContainsKey(kv.Key)).Select(kv => $"{kv.Key}: (none) -> {kv.Value}")).Take(8).ToList();
        Assert.True(changed.Count == 0, string.Join("\n", changed));

        // What-if: a shorter window keeps fewer returns; a restocking fee on apparel collects more fees.
        var shorter = DemoCatalogue.Policy with { WindowDays = 7, Categories = new Dictionary<string, Retour.Core.Policies.CategoryRule>(), ProductWindows = new Dictionary<string, int>() };
        var w = (await m.Client.Post("/api/v1/analytics/what-if", $"{{\"policy\": {Retour.Infrastructure.Http.Json.Serialize(shorter)}, \"months\": 12}}")).Expect(HttpStatusCode.OK);
        Assert.True(L(w, "replayed") >= 550);
        Assert.True(L(w, "simulated.returns") < L(w, "current.returns"), w.ToJsonString());
        Assert.True(decimal.Parse(w.Str("simulated.refund_total"), CultureInfo.InvariantCulture) < decimal.Parse(w.Str("current.refund_total"), CultureInfo.InvariantCulture));
        var fee = DemoCatalogue.Policy with { RestockingFee = new Retour.Core.Policies.Fee(Retour.Core.Policies.FeeKind.Percent, 10m) };
        var f = (await m.Client.Post("/api/v1/analytics/what-if", $"{{\"policy\": {Retour.Infrastructure.Http.Json.Serialize(fee)}}}")).Expect(HttpStatusCode.OK);
        Assert.Equal(L(f, "current.returns"), L(f, "simulated.returns"));
        Assert.True(decimal.Parse(f.Str("simulated.fees_total"), CultureInfo.InvariantCulture) > decimal.Parse(f.Str("current.fees_total"), CultureInfo.InvariantCulture));
        foreach (var field in new[] { "refund_total", "fees_total", "returns", "auto_approval_rate" })
        {
            Assert.NotNull(w["current"]![field]);
            Assert.NotNull(w["simulated"]![field]);
        }
    }
}
