using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Retour.Bench;

/// <summary>Runs the returns scenario against Retour and against the limit server on each provider, then prints the figures.</summary>
public static class Orchestrator
{
    private const string Bench = "bench";

    public static async Task<int> RunAsync(BenchOptions o)
    {
        if (!File.Exists(o.RetourDll))
        {
            Console.Error.WriteLine($"{o.RetourDll} not found: build first with `dotnet build -c Release` (bench/run.sh does).");
            return 1;
        }
        Directory.CreateDirectory(o.WorkDir);
        if (o.Scenario == "scaled") return await ScaledLoad.RunAsync(o);
        if (o.AttachUrl is not null)
        {
            using var attached = Client(o.Concurrency, o.AttachUrl, o.AttachKey);
            Print(await ReturnsLoadAsync(o, attached));
            return 0;
        }
        Console.WriteLine($"Retour bench · {Environment.ProcessorCount} cores · .NET {Environment.Version} · scenario {o.Scenario} · C={o.Concurrency} (portal {o.PortalConcurrency}) · T={o.DurationSeconds}s (+{o.WarmupSeconds}s warm-up) · {o.Orders} orders");
        var rows = new List<(string Provider, LoadResult Retour, LoadResult Limit)>();
        var portals = new List<(string Provider, PortalLoad.Result Result)>();
        TrackingResult? tracking = null;
        WarehouseLoad.Result? warehouse = null;
        AnalyticsLoad.Result? analytics = null;
        foreach (var provider in o.Providers)
        {
            if (o.RunReturns)
            {
                var db = NewDatabase(o, provider);
                Console.WriteLine($"\n[{provider}] database ready");
                var retour = await RunRetourAsync(o, provider, db);
                var limit = await RunLimitAsync(o, provider, db);
                rows.Add((provider, retour, limit));
                Print(retour);
                Print(limit);
            }
            if (o.RunTracking && provider == "postgres")
            {
                Console.WriteLine($"\n[{provider}] tracking ingestion");
                tracking = await RunTrackingAsync(o, NewDatabase(o, provider, "tracking"));
            }
            else if (o.RunTracking && o.Scenario == "tracking") Console.WriteLine($"\n[{provider}] the tracking scenario runs on PostgreSQL only");
            if (o.RunWarehouse && provider == "postgres")
            {
                Console.WriteLine($"\n[{provider}] warehouse: receive, inspect and refund");
                warehouse = await WarehouseLoad.RunAsync(o, NewDatabase(o, provider, "warehouse"));
            }
            else if (o.RunWarehouse && o.Scenario == "warehouse") Console.WriteLine($"\n[{provider}] the warehouse scenario runs on PostgreSQL only");
            if (o.RunAnalytics && provider == "postgres")
            {
                Console.WriteLine($"\n[{provider}] analytics over generated history");
                analytics = await AnalyticsLoad.RunAsync(o, NewDatabase(o, provider, "analytics"));
            }
            else if (o.RunAnalytics) Console.WriteLine($"\n[{provider}] the analytics scenario runs on PostgreSQL only");
            if (o.RunPortal)
            {
                Console.WriteLine($"\n[{provider}] portal scenario on the demo shop");
                var portal = await RunPortalAsync(o, provider, NewDatabase(o, provider, "portal"));
                portals.Add((provider, portal));
                foreach (var r in new[] { portal.Form, portal.Lookup, portal.Items, portal.LookupAndItems }) Print(r);
            }
        }

        Console.WriteLine("\nResults");
        Console.WriteLine($"{"provider",-9} {"scenario",-28} {"req/s",9} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"errors",7} {"of limit",9}");
        foreach (var (provider, retour, limit) in rows)
        {
            Console.WriteLine(Line(provider, retour, retour.Rps / limit.Rps));
            Console.WriteLine(Line(provider, limit, 1));
        }
        foreach (var (provider, p) in portals)
            foreach (var r in new[] { p.Form, p.Lookup, p.Items, p.LookupAndItems })
                Console.WriteLine(Line(provider, r, double.NaN));
        if (tracking is { } tr)
        {
            Console.WriteLine();
            Console.WriteLine($"{"tracking (postgres)",-44} {"events/s",9} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"errors",7} {"of limit",9}");
            string T(LoadResult r, double perRequest, double ofLimit) => string.Create(CultureInfo.InvariantCulture,
                $"{r.Name,-44} {r.Rps * perRequest,9:F0} {r.P50,8:F1} {r.P95,8:F1} {r.P99,8:F1} {r.Errors,7} {(double.IsNaN(ofLimit) ? "" : ofLimit.ToString("P0", CultureInfo.InvariantCulture)),9}");
            var ra = tr.Single.Rps / tr.SingleLimit.Rps;
            var rb = tr.Batch.Rps / tr.BatchLimit.Rps;
            Console.WriteLine(T(tr.Single, 1, ra));
            Console.WriteLine(T(tr.SingleLimit, 1, 1));
            Console.WriteLine(T(tr.Batch, TrackingLoad.BatchEvents, rb));
            Console.WriteLine(T(tr.BatchLimit, TrackingLoad.BatchEvents, 1));
            Console.WriteLine($"Stored events: (a) {tr.SingleStored} for {tr.SingleAcked} acknowledged, duplicates {tr.SingleStored - tr.SingleDistinct}, lost {tr.SingleAcked - tr.SingleDistinct}; " +
                              $"(b) {tr.BatchStored} for {tr.BatchAcked} acknowledged, duplicates {tr.BatchStored - tr.BatchDistinct}, lost {tr.BatchAcked - tr.BatchDistinct}");
            var okA = tr.Single.Rps >= 2000 && ra >= 0.40 && tr.Single.Errors == 0 && tr.SingleStored == tr.SingleAcked;
            var okB = tr.Batch.Rps * TrackingLoad.BatchEvents >= 20000 && rb >= 0.40 && tr.Batch.Errors == 0 && tr.BatchStored == tr.BatchAcked;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Tracking target (a) ≥ 2,000 events/s at C={o.Concurrency} and ≥ 40% of its limit, 0 duplicates: {(okA ? "MET" : "NOT MET")} ({tr.Single.Rps:F0}/s, {ra:P0}, p99 {tr.Single.P99:F1} ms)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Tracking target (b) ≥ 20,000 events/s in batches of 500 and ≥ 40% of its limit, 0 duplicates: {(okB ? "MET" : "NOT MET")} ({tr.Batch.Rps * TrackingLoad.BatchEvents:F0}/s, {rb:P0}, p99 {tr.Batch.P99:F1} ms per batch)"));
        }
        if (warehouse is not null) WarehouseLoad.Report(warehouse);
        if (analytics is not null) AnalyticsLoad.Report(analytics);
        var pgPortal = portals.FirstOrDefault(r => r.Provider == "postgres").Result;
        if (pgPortal is not null)
        {
            var steps = new[] { pgPortal.Form, pgPortal.Lookup, pgPortal.Items };
            var ok = steps.All(r => r.P95 < 50 && r.Errors == 0);
            Console.WriteLine($"\nPortal target on PostgreSQL (p95 < 50 ms per request at {o.PortalConcurrency} shoppers, 0 errors): {(ok ? "MET" : "NOT MET")} " +
                              $"(p95 {string.Join(" / ", steps.Select(r => r.P95.ToString("F1", CultureInfo.InvariantCulture)))} ms for form / lookup / lines; " +
                              $"{pgPortal.LookupAndItems.Rps:F0} shoppers/s; errors {steps.Sum(r => r.Errors)})");
        }
        var pg = rows.FirstOrDefault(r => r.Provider == "postgres");
        if (pg.Retour is not null)
        {
            var ratio = pg.Retour.Rps / pg.Limit.Rps;
            var ok = ratio >= 0.40 && pg.Retour.P99 < 100 && pg.Retour.Errors == 0;
            Console.WriteLine($"\nTarget on PostgreSQL (≥ 40% of the limit, p99 < 100 ms, 0 errors): {(ok ? "MET" : "NOT MET")} " +
                              $"({ratio:P0} of limit, p99 {pg.Retour.P99:F1} ms, {pg.Retour.Errors} errors)");
        }
        await File.WriteAllTextAsync(Path.Combine(o.WorkDir, "last-results.json"), JsonSerializer.Serialize(new
        {
            returns = rows.Select(r => new { r.Provider, r.Retour, r.Limit }),
            portal = portals.Select(p => new { p.Provider, p.Result }),
            tracking,
            warehouse,
            analytics,
        }, new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        return 0;
    }

    private static string Line(string provider, LoadResult r, double ofLimit) =>
        string.Create(CultureInfo.InvariantCulture, $"{provider,-9} {r.Name,-28} {r.Rps,9:F0} {r.P50,8:F1} {r.P95,8:F1} {r.P99,8:F1} {r.Errors,7} {(double.IsNaN(ofLimit) ? "" : ofLimit.ToString("P0", CultureInfo.InvariantCulture)),9}");

    internal static void Print(LoadResult r) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {r.Name}: {r.Requests} requests in {r.Seconds:F1}s = {r.Rps:F0}/s; p50 {r.P50:F1} ms, p95 {r.P95:F1} ms, p99 {r.P99:F1} ms; errors {r.Errors}; statuses {string.Join(", ", r.Statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}"));

    internal static string NewDatabase(BenchOptions o, string provider, string kind = "returns")
    {
        var stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        if (provider == "postgres")
        {
            var name = $"retour_bench_{kind}_{stamp}";
            using var conn = new NpgsqlConnection(o.PgAdmin);
            conn.Open();
            using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", conn);
            cmd.ExecuteNonQuery();
            return new NpgsqlConnectionStringBuilder(o.PgAdmin) { Database = name, MaxPoolSize = 100 }.ConnectionString;
        }
        return $"Data Source={Path.Combine(o.WorkDir, $"bench-{kind}-{stamp}.db")}";
    }

    internal static HttpClient Client(int concurrency, string baseUrl, string? key = null)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency * 2, PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseCookies = false };
        var client = new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    internal static Dictionary<string, string> RetourEnv(BenchOptions o, string provider, string db, string url) => new()
    {
        ["RETOUR_DB_PROVIDER"] = provider,
        ["RETOUR_DB"] = db,
        ["RETOUR_URLS"] = url,
        ["RETOUR_DATA_DIR"] = o.WorkDir,
        ["RETOUR_SEED_DEMO"] = "false",
        ["RETOUR_RATE_LIMIT"] = "0", // one key drives thousands of requests a second here
        ["Logging__LogLevel__Default"] = "Warning",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
    };

    private static async Task<LoadResult> RunRetourAsync(BenchOptions o, string provider, string db)
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        var env = RetourEnv(o, provider, db, url);
        await using var server = ChildProcess.Start(o.RetourDll, [], env, Path.Combine(o.WorkDir, $"retour-{provider}.log"));
        using var probe = Client(1, url);
        await server.WaitHealthyAsync(probe, "/health", TimeSpan.FromSeconds(60));

        var (_, key) = await MerchantAsync(o, env);

        using var client = Client(o.Concurrency, url, key);
        await SeedOrdersAsync(client, o.Orders);

        // Warm up with the real load, so the JIT settles and the tables hold returns; then give PostgreSQL the statistics
        // a database in service has (autovacuum would, within a minute or so, at a random moment of a short run);
        // PostgreSQL re-plans every cached statement whose tables got new statistics. Then measure.
        var sequence = new long[1];
        Console.WriteLine($"  warming up for {o.WarmupSeconds}s");
        await ReturnsLoadAsync(o, client, TimeSpan.Zero, TimeSpan.FromSeconds(o.WarmupSeconds), sequence);
        if (provider == "postgres") await AnalyzeAsync(db);
        return await ReturnsLoadAsync(o, client, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(o.DurationSeconds), sequence);
    }

    internal static async Task<(string Slug, string Key)> MerchantAsync(BenchOptions o, Dictionary<string, string> env)
    {
        var slug = $"{Bench}-{Guid.NewGuid():N}"[..20];
        var (code, output) = await ChildProcess.RunToEnd(o.RetourDll, ["merchant", "create", "--slug", slug, "--name", "Bench shop"], env);
        var key = output.Split('\n').FirstOrDefault(l => l.StartsWith("Admin API key", StringComparison.Ordinal))?.Split(": ")[1].Trim()
                  ?? throw new InvalidOperationException($"merchant create failed ({code}): {output}");
        return (slug, key);
    }

    public sealed record TrackingResult(LoadResult Single, LoadResult SingleLimit, LoadResult Batch, LoadResult BatchLimit,
        long SingleAcked, long SingleStored, long SingleDistinct, long BatchAcked, long BatchStored, long BatchDistinct);

    /// <summary>The tracking scenario (see TrackingLoad): parcels booked through Retour, then (a) and (b) each against its limit.</summary>
    private static async Task<TrackingResult> RunTrackingAsync(BenchOptions o, string db)
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        var env = RetourEnv(o, "postgres", db, url);
        env["RETOUR_SANDBOX_AUTOPILOT"] = "false"; // only the bench's events
        await using var server = ChildProcess.Start(o.RetourDll, [], env, Path.Combine(o.WorkDir, "retour-tracking.log"));
        using (var probe = Client(1, url)) await server.WaitHealthyAsync(probe, "/health", TimeSpan.FromSeconds(60));
        var (slug, key) = await MerchantAsync(o, env);
        using var api = Client(o.Concurrency, url, key);
        await TrackingLoad.SetUpMerchantAsync(api);
        var parcels = await TrackingLoad.BookParcelsAsync(api, () => Connect("postgres", db), slug, o.Parcels);

        var templates = TrackingLoad.Templates.Load();
        using var anonymous = Client(o.Concurrency, url);
        long acked = 0;
        var nextWebhook = TrackingLoad.SignedWebhooks(templates, slug, parcels);
        void Ack(int status) { if (status is >= 200 and < 300) Interlocked.Increment(ref acked); }
        Console.WriteLine($"  (a) single webhooks: warming up for {o.WarmupSeconds}s");
        await LoadRunner.RunAsync("warm-up", anonymous, o.Concurrency, TimeSpan.Zero, TimeSpan.FromSeconds(o.WarmupSeconds), nextWebhook, onStatus: Ack);
        await AnalyzeAsync(db);
        var single = await LoadRunner.RunAsync("(a) signed webhooks, 1 new event each", anonymous, o.Concurrency, TimeSpan.FromSeconds(2),
            TimeSpan.FromSeconds(o.DurationSeconds), nextWebhook, onStatus: Ack);
        Print(single);
        var (singleStored, singleDistinct) = await TrackingLoad.CountStoredAsync(() => Connect("postgres", db), slug, TrackingLoad.SingleEvents);

        LoadResult singleLimit;
        {
            var limitUrl = $"http://127.0.0.1:{FreePort()}";
            await using var limit = ChildProcess.Start(typeof(Orchestrator).Assembly.Location, ["--serve-limit", "--provider", "postgres", "--db", db, "--urls", limitUrl],
                new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production" }, Path.Combine(o.WorkDir, "limit-tracking.log"));
            using var client = Client(o.Concurrency, limitUrl);
            await limit.WaitHealthyAsync(client, "/health", TimeSpan.FromSeconds(60));
            long limitSequence = -1;
            singleLimit = await LoadRunner.RunAsync("limit: 1 INSERT/request, same bodies", client, o.Concurrency, TimeSpan.FromSeconds(o.WarmupSeconds),
                TimeSpan.FromSeconds(o.DurationSeconds), _ =>
                {
                    var (body, _, _, _) = TrackingLoad.Webhook(templates, slug, parcels, Interlocked.Increment(ref limitSequence));
                    var req = new HttpRequestMessage(HttpMethod.Post, "/limit") { Content = new ByteArrayContent(body) };
                    req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                    return req;
                });
            Print(singleLimit);
        }

        using var batcher = Client(o.BatchConcurrency, url);
        long batchAcked = 0;
        var nextBatch = TrackingLoad.SignedBatches(slug, parcels);
        void BatchAck(int status) { if (status is >= 200 and < 300) Interlocked.Add(ref batchAcked, TrackingLoad.BatchEvents); }
        Console.WriteLine($"  (b) batches of {TrackingLoad.BatchEvents}: warming up for {o.WarmupSeconds}s");
        await LoadRunner.RunAsync("warm-up", batcher, o.BatchConcurrency, TimeSpan.Zero, TimeSpan.FromSeconds(o.WarmupSeconds), nextBatch, onStatus: BatchAck);
        await AnalyzeAsync(db);
        var batch = await LoadRunner.RunAsync($"(b) signed batches of {TrackingLoad.BatchEvents}", batcher, o.BatchConcurrency, TimeSpan.FromSeconds(2),
            TimeSpan.FromSeconds(o.DurationSeconds), nextBatch, onStatus: BatchAck);
        Print(batch);
        var (batchStored, batchDistinct) = await TrackingLoad.CountStoredAsync(() => Connect("postgres", db), slug, TrackingLoad.BatchedEvents);
        var batchLimit = await TrackingLoad.RawBatchLimitAsync(db, parcels, o.BatchConcurrency, TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.FromSeconds(o.DurationSeconds));
        Print(batchLimit);
        return new TrackingResult(single, singleLimit, batch, batchLimit, acked, singleStored, singleDistinct, batchAcked, batchStored, batchDistinct);
    }

    internal static async Task AnalyzeAsync(string db)
    {
        await using var conn = new NpgsqlConnection(db);
        await conn.OpenAsync();
        await using var analyze = new NpgsqlCommand("ANALYZE", conn);
        await analyze.ExecuteNonQueryAsync();
    }

    /// <summary>A connection to the bench's database of either provider (not opened).</summary>
    internal static DbConnection Connect(string provider, string db) =>
        provider == "postgres" ? new NpgsqlConnection(db) : new SqliteConnection(db);

    /// <summary>Sends one set-up request and insists on a 2xx.</summary>
    internal static async Task SendAsync(HttpClient api, HttpMethod method, string path, string json)
    {
        using var res = await api.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") });
        if (!res.IsSuccessStatusCode) throw new InvalidOperationException($"{method} {path}: {(int)res.StatusCode} {await res.Content.ReadAsStringAsync()}");
    }

    private static Task<LoadResult> ReturnsLoadAsync(BenchOptions o, HttpClient client) =>
        ReturnsLoadAsync(o, client, TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.FromSeconds(o.DurationSeconds), new long[1]);

    /// <summary>Returns spread over the orders; <paramref name="sequence"/> carries on across calls so no unit is asked for twice.</summary>
    internal static Task<LoadResult> ReturnsLoadAsync(BenchOptions o, HttpClient client, TimeSpan warmup, TimeSpan duration, long[] sequence, Action<bool>? onWindow = null)
    {
        var orders = o.Orders;
        return LoadRunner.RunAsync("POST /api/v1/returns", client, o.Concurrency, warmup, duration, n =>
        {
            // Spread returns over the orders, so requests rarely race for the same order (as in real traffic).
            var k = Interlocked.Increment(ref sequence[0]);
            var order = k % orders;
            var line = (k / orders) % 2 == 0 ? "L1" : "L2";
            var body = $$"""{"order_number":"B{{order}}","lines":[{"order_line_id":"{{line}}","quantity":1,"reason":"too_small","comment":"bench"}],"resolution":"refund","method":"drop_off"}""";
            var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/returns") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            if (Environment.GetEnvironmentVariable("BENCH_NO_KEYS") is null) req.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            return req;
        }, onWindow: onWindow);
    }

    internal static async Task SeedOrdersAsync(HttpClient client, int count)
    {
        var placed = DateTimeOffset.UtcNow.AddDays(-5).ToString("O");
        var delivered = DateTimeOffset.UtcNow.AddDays(-2).ToString("O");
        var done = 0;
        var started = DateTime.UtcNow;
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var body = $$$"""
                {"number":"B{{{i}}}","placed_at":"{{{placed}}}","delivered_at":"{{{delivered}}}","currency":"EUR",
                 "customer":{"email":"shopper{{{i % 5000}}}@example.com","name":"Bench Shopper","locale":"de"},
                 "shipping_address":{"name":"Bench Shopper","line1":"Hauptstr. 1","city":"Berlin","postal_code":"10115","country":"DE"},
                 "lines":[{"id":"L1","sku":"TEE-{{{i % 40}}}","title":"Tee","category":"apparel","quantity":3,"unit_price":"19.99","tax":"11.39","final_sale":false,"variant":{"size":"M","color":"blue"}},
                          {"id":"L2","sku":"MUG-{{{i % 13}}}","title":"Mug","category":"home","quantity":3,"unit_price":"12.00","tax":"6.84","final_sale":false}]}
                """;
            using var res = await client.PostAsync("/api/v1/orders", new StringContent(body, Encoding.UTF8, "application/json"), ct);
            if (res.StatusCode != HttpStatusCode.Created) throw new InvalidOperationException($"Seeding failed: {(int)res.StatusCode} {await res.Content.ReadAsStringAsync(ct)}");
            var n = Interlocked.Increment(ref done);
            if (n % 5000 == 0 || n == count) Console.WriteLine($"  seeded {n}/{count} orders ({(DateTime.UtcNow - started).TotalSeconds:F0}s)");
        });
    }

    private const string PortalKey = "rtr_bench_portal_key_0123456789abcdef";

    /// <summary>Retour with the demo shop seeded (as <c>scripts/run.sh</c> starts it), driven by shoppers through the portal.</summary>
    private static async Task<PortalLoad.Result> RunPortalAsync(BenchOptions o, string provider, string db)
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        var env = RetourEnv(o, provider, db, url);
        env["RETOUR_SEED_DEMO"] = "true";
        env["RETOUR_DEMO_API_KEY"] = PortalKey;
        await using var server = ChildProcess.Start(o.RetourDll, [], env, Path.Combine(o.WorkDir, $"retour-portal-{provider}.log"));
        using var api = Client(1, url, PortalKey);
        await server.WaitHealthyAsync(api, "/health", TimeSpan.FromSeconds(90));
        var orders = await PortalLoad.DemoOrdersAsync(api);
        Console.WriteLine($"  {orders.Count} delivered demo orders; {o.PortalConcurrency} shoppers; warming up for {o.WarmupSeconds}s");
        await PortalLoad.RunAsync(url, "demo", orders, o.PortalConcurrency, TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.Zero);
        if (provider == "postgres") await AnalyzeAsync(db);
        return await PortalLoad.RunAsync(url, "demo", orders, o.PortalConcurrency, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(o.DurationSeconds));
    }

    private static async Task<LoadResult> RunLimitAsync(BenchOptions o, string provider, string db)
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        var self = typeof(Orchestrator).Assembly.Location;
        await using var server = ChildProcess.Start(self, ["--serve-limit", "--provider", provider, "--db", db, "--urls", url],
            new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production" }, Path.Combine(o.WorkDir, $"limit-{provider}.log"));
        using var client = Client(o.Concurrency, url);
        await server.WaitHealthyAsync(client, "/health", TimeSpan.FromSeconds(60));
        return await LoadRunner.RunAsync("limit: 1 INSERT/request", client, o.Concurrency, TimeSpan.FromSeconds(o.WarmupSeconds), TimeSpan.FromSeconds(o.DurationSeconds), n =>
            new HttpRequestMessage(HttpMethod.Post, "/limit")
            {
                Content = new StringContent($$"""{"order_number":"B{{n}}","lines":[{"order_line_id":"L1","quantity":1,"reason":"too_small","comment":"bench"}],"resolution":"refund","method":"drop_off"}""",
                    Encoding.UTF8, "application/json"),
            });
    }

    internal static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
