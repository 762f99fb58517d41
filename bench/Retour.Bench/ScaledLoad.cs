using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;

namespace Retour.Bench;

/// <summary>
/// The scaled scenario: return creation and tracking ingestion measured the same way on each deployment shape, so the
/// shapes compare and the scaling ratio (two web nodes against one) is a measurement, not a claim.
/// <list type="bullet">
/// <item><c>embedded</c>: one <c>retour</c> process doing everything, on SQLite (what <c>scripts/run.sh</c> starts);</item>
/// <item><c>single</c>: one process doing everything, on PostgreSQL, with events delivered in process;</item>
/// <item><c>web1</c> and <c>web2</c>: <c>scripts/cluster.sh</c>'s scaled mode (PostgreSQL, RabbitMQ, nginx, two workers)
/// with one or two web nodes behind nginx.</item>
/// </list>
/// Each shape starts on a fresh database. The loads are the returns scenario's (C clients creating returns, each with its
/// Idempotency-Key) and the tracking scenario's (a) signed single-event webhooks and (b) signed batches of 500, each
/// warmed up first. Over each measured window the CPU time of every part (Retour's processes, PostgreSQL, RabbitMQ, nginx,
/// the bench's own clients) is read from /proc, so the report says where the two cores went.
/// </summary>
public static class ScaledLoad
{
    public static readonly string[] AllShapes = ["embedded", "single", "web1", "web2"];

    public sealed record Measured(LoadResult Load, CpuUse? Cpu, int EventsPerRequest)
    {
        /// <summary>Events taken per second: only successful requests count (a failed batch took no events).</summary>
        public double EventsPerSecond => Load.GoodRps * EventsPerRequest;
    }

    public sealed record ShapeResult(string Shape, string Label, Measured Returns, Drain AfterReturns, double BookingSeconds, Measured Webhooks, long WebhooksAcked, long WebhooksStored, long WebhooksDistinct,
        Measured Batches, long BatchesAcked, long BatchesStored, long BatchesDistinct)
    {
        public long Lost => WebhooksAcked - WebhooksDistinct + (BatchesAcked - BatchesDistinct);
        public long Duplicates => WebhooksStored - WebhooksDistinct + (BatchesStored - BatchesDistinct);
    }

    /// <summary>A running deployment: where to send requests, its database, and the parts whose CPU time is read.</summary>
    private sealed class Deployment(string label, string url, string provider, string db, Dictionary<string, string> cliEnv,
        IReadOnlyDictionary<string, int[]> parts, Func<Task> stop) : IAsyncDisposable
    {
        public string Label => label;
        public string Url => url;
        public string Provider => provider;
        public string Db => db;
        public Dictionary<string, string> CliEnv => cliEnv;
        public IReadOnlyDictionary<string, int[]> Parts => parts;
        public DbConnection Connect() => Orchestrator.Connect(provider, db);
        public ValueTask DisposeAsync() => new(stop());
    }

    public static async Task<int> RunAsync(BenchOptions o)
    {
        var shapes = o.Shapes;
        if (shapes.Contains("single") && o.PgAdmin is null)
        {
            Console.Error.WriteLine("The 'single' shape needs --pg (bench/run.sh starts a PostgreSQL); or leave it out with --shapes embedded,web1,web2.");
            return 1;
        }
        Console.WriteLine($"Retour bench · {Environment.ProcessorCount} cores · .NET {Environment.Version} · scenario scaled · shapes {string.Join(", ", shapes)} · " +
                          $"C={o.Concurrency} (batches {o.BatchConcurrency}) · T={o.DurationSeconds}s (+{o.WarmupSeconds}s warm-up) · {o.Orders} orders, {o.Parcels} parcels · {o.Workers} worker node(s) in scaled mode");
        if (!CpuMeter.Available) Console.WriteLine("  (no /proc: CPU time per part is not read)");
        var results = new List<ShapeResult>();
        var failed = new List<string>();
        foreach (var shape in shapes)
        {
            Console.WriteLine($"\n[{shape}] starting");
            try
            {
                await using var d = await StartAsync(o, shape);
                Console.WriteLine($"  {d.Label} at {d.Url}");
                results.Add(await MeasureAsync(o, shape, d));
                Console.WriteLine($"[{shape}] stopping");
            }
            catch (Exception e)
            {
                // The shapes measured so far are still reported; this one is named as failed.
                Console.WriteLine($"[{shape}] FAILED: {e.GetType().Name}: {e.Message}");
                failed.Add(shape);
            }
        }
        Report(o, results);
        if (failed.Count > 0) Console.WriteLine($"\nNot measured (failed): {string.Join(", ", failed)}");
        await File.WriteAllTextAsync(Path.Combine(o.WorkDir, "last-scaled.json"), JsonSerializer.Serialize(results,
            new JsonSerializerOptions { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals }));
        return failed.Count == 0 && results.All(r => r.Lost == 0 && r.Duplicates == 0) ? 0 : 1;
    }

    private static async Task<Deployment> StartAsync(BenchOptions o, string shape)
    {
        var bench = Environment.ProcessId;
        if (shape is "embedded" or "single")
        {
            var provider = shape == "embedded" ? "sqlite" : "postgres";
            var db = Orchestrator.NewDatabase(o, provider, "scaled");
            var url = $"http://127.0.0.1:{Orchestrator.FreePort()}";
            var env = Orchestrator.RetourEnv(o, provider, db, url);
            env["RETOUR_SANDBOX_AUTOPILOT"] = "false"; // the loads' tracking events only
            var server = ChildProcess.Start(o.RetourDll, [], env, Path.Combine(o.WorkDir, $"retour-scaled-{shape}.log"));
            try
            {
                using (var probe = Orchestrator.Client(1, url)) await server.WaitHealthyAsync(probe, "/health", TimeSpan.FromSeconds(90));
                var parts = new Dictionary<string, int[]> { ["retour"] = [server.Id], ["bench"] = [bench] };
                if (provider == "postgres") parts["postgres"] = await PostmasterAsync(o.PgAdmin!);
                var label = provider == "sqlite" ? "embedded: 1 process, SQLite" : "1 process, PostgreSQL, events in process";
                return new Deployment(label, url, provider, db, env, parts, () => server.DisposeAsync().AsTask());
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }

        var web = shape switch { "web1" => 1, "web2" => 2, _ => throw new ArgumentException($"unknown shape {shape}") };
        var dir = Path.Combine(o.WorkDir, $"cluster-{shape}-{DateTime.UtcNow:HHmmss}");
        var script = Path.Combine(o.RepoRoot, "scripts", "cluster.sh");
        var clusterEnv = new Dictionary<string, string>
        {
            ["RETOUR_CLUSTER_DIR"] = dir,
            ["RETOUR_CLUSTER_WEB_NODES"] = web.ToString(CultureInfo.InvariantCulture),
            ["RETOUR_CLUSTER_WORKER_NODES"] = o.Workers.ToString(CultureInfo.InvariantCulture),
            ["RETOUR_RATE_LIMIT"] = "0",
            ["RETOUR_SANDBOX_AUTOPILOT"] = "false",
            ["Logging__LogLevel__Default"] = "Warning",
            // The same server settings as bench/run.sh's PostgreSQL (durable commits are the cluster's own default).
            ["PG_EXTRA_OPTS"] = "-c shared_buffers=256MB",
        };
        Console.WriteLine($"  scripts/cluster.sh up ({web} web node(s), {o.Workers} worker(s), in {dir})");
        var (code, output) = await ChildProcess.RunProgramToEnd("bash", [script, "up"], clusterEnv);
        var lbUrl = output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => Regex.IsMatch(l, @"^http://127\.0\.0\.1:\d+$"));
        async Task Down()
        {
            var (downCode, downOutput) = await ChildProcess.RunProgramToEnd("bash", [script, "down"], clusterEnv);
            if (downCode != 0) Console.WriteLine($"  scripts/cluster.sh down failed ({downCode}): {downOutput}");
        }
        if (code != 0 || lbUrl is null)
        {
            await Down();
            throw new InvalidOperationException($"scripts/cluster.sh up failed ({code}):\n{output}");
        }
        try
        {
            return ClusterDeployment(o, dir, web, lbUrl, Down);
        }
        catch
        {
            await Down();
            throw;
        }
    }

    private static Deployment ClusterDeployment(BenchOptions o, string dir, int web, string lbUrl, Func<Task> down)
    {
        var bench = Environment.ProcessId;
        var settings = File.ReadAllLines(Path.Combine(dir, "cluster.env"))
            .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1].Trim('\''));
        var dbUrl = settings["DB_URL"];
        var pids = Directory.GetFiles(Path.Combine(dir, "pids")).ToDictionary(f => Path.GetFileName(f), f => CpuMeter.PidFile(f));
        var clusterParts = new Dictionary<string, int[]>
        {
            ["web"] = [.. pids.Where(p => p.Key.StartsWith("web", StringComparison.Ordinal)).SelectMany(p => p.Value)],
            ["workers"] = [.. pids.Where(p => p.Key.StartsWith("worker", StringComparison.Ordinal)).SelectMany(p => p.Value)],
            ["postgres"] = CpuMeter.PidFile(Path.Combine(dir, "pg", "data", "postmaster.pid")),
            ["rabbitmq"] = CpuMeter.PidFile(Path.Combine(dir, "rmq", "rabbit.pid")),
            ["nginx"] = CpuMeter.PidFile(Path.Combine(dir, "nginx", "nginx.pid")),
            ["bench"] = [bench],
        };
        var cli = new Dictionary<string, string>
        {
            ["RETOUR_DB_PROVIDER"] = "postgres", ["RETOUR_DB"] = dbUrl, ["RETOUR_DATA_DIR"] = Path.Combine(dir, "data"),
            ["RETOUR_LOG_FORMAT"] = "text", ["ASPNETCORE_ENVIRONMENT"] = "Production",
        };
        return new Deployment($"scaled: {web} web node(s) behind nginx, {o.Workers} worker(s), PostgreSQL, RabbitMQ", lbUrl, "postgres", dbUrl, cli, clusterParts, down);
    }

    /// <summary>The postmaster's PID of the bench's own PostgreSQL (its data directory's postmaster.pid; the bench runs beside it).</summary>
    private static async Task<int[]> PostmasterAsync(string admin)
    {
        await using var conn = new NpgsqlConnection(admin);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SHOW data_directory", conn);
        return CpuMeter.PidFile(Path.Combine((string)(await cmd.ExecuteScalarAsync())!, "postmaster.pid"));
    }

    private static async Task<ShapeResult> MeasureAsync(BenchOptions o, string shape, Deployment d)
    {
        var meter = new CpuMeter(d.Parts);
        var warmup = TimeSpan.FromSeconds(o.WarmupSeconds);
        var duration = TimeSpan.FromSeconds(o.DurationSeconds);

        // Tracking ingestion first, on a merchant with the sandbox carrier and booked parcels; background work catches up
        // before each load, so each measures its own work.
        var (slug, trackingKey) = await Orchestrator.MerchantAsync(o, d.CliEnv);
        using var tracking = Orchestrator.Client(o.Concurrency, d.Url, trackingKey);
        await TrackingLoad.SetUpMerchantAsync(tracking);
        var booking = DateTime.UtcNow;
        var parcels = await TrackingLoad.BookParcelsAsync(tracking, d.Connect, slug, o.Parcels);
        var bookingSeconds = (DateTime.UtcNow - booking).TotalSeconds;
        await CatchUpAsync(d, warmup);

        using var anonymous = Orchestrator.Client(o.Concurrency, d.Url);
        long webhooksAcked = 0;
        var webhooks = await WarmedAsync(d, "(a) signed webhooks, 1 new event each", anonymous, o.Concurrency, warmup, duration,
            TrackingLoad.SignedWebhooks(TrackingLoad.Templates.Load(), slug, parcels),
            s => { if (s is >= 200 and < 300) Interlocked.Increment(ref webhooksAcked); }, meter, 1);
        var (webhooksStored, webhooksDistinct) = await TrackingLoad.CountStoredAsync(d.Connect, slug, TrackingLoad.SingleEvents);
        await CatchUpAsync(d, warmup);

        using var batcher = Orchestrator.Client(o.BatchConcurrency, d.Url);
        long batchesAcked = 0;
        var batches = await WarmedAsync(d, $"(b) signed batches of {TrackingLoad.BatchEvents}", batcher, o.BatchConcurrency, warmup, duration,
            TrackingLoad.SignedBatches(slug, parcels),
            s => { if (s is >= 200 and < 300) Interlocked.Add(ref batchesAcked, TrackingLoad.BatchEvents); }, meter, TrackingLoad.BatchEvents);
        var (batchesStored, batchesDistinct) = await TrackingLoad.CountStoredAsync(d.Connect, slug, TrackingLoad.BatchedEvents);
        Console.WriteLine($"  stored events: (a) {webhooksStored} for {webhooksAcked} acknowledged, (b) {batchesStored} for {batchesAcked}");

        // Return creation last, on a merchant of its own with no carrier (as the returns scenario). Creating returns far
        // outpaces their background work (notifications, analytics, webhooks), so the backlog it leaves is measured too:
        // how fast the deployment's background work clears it, for up to a minute.
        var (_, key) = await Orchestrator.MerchantAsync(o, d.CliEnv);
        using var api = Orchestrator.Client(o.Concurrency, d.Url, key);
        await Orchestrator.SeedOrdersAsync(api, o.Orders);
        await CatchUpAsync(d, warmup);
        var sequence = new long[1];
        Console.WriteLine($"  returns: warming up for {o.WarmupSeconds}s");
        await Orchestrator.ReturnsLoadAsync(o, api, TimeSpan.Zero, warmup, sequence);
        // The warm-up's background work is done before the window, so the window carries only its own.
        await CatchUpAsync(d, warmup);
        await AnalyzeAsync(d);
        var returnsCpu = new CpuMeter.Reading(meter);
        var returns = await Orchestrator.ReturnsLoadAsync(o, api, TimeSpan.FromSeconds(2), duration, sequence, returnsCpu.Window);
        Orchestrator.Print(returns);
        var (backlog, handledBefore) = (await PendingAsync(d), await HandledAsync(d));
        var (drainSeconds, left) = await DrainAsync(d, TimeSpan.FromSeconds(60));
        var drained = new Drain(backlog, drainSeconds, left, await HandledAsync(d) - handledBefore);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  outbox: {drained}"));

        return new ShapeResult(shape, d.Label, new Measured(returns, returnsCpu.Use, 1), drained, bookingSeconds,
            webhooks, webhooksAcked, webhooksStored, webhooksDistinct, batches, batchesAcked, batchesStored, batchesDistinct);
    }

    /// <summary>The outbox events waiting when the returns load stopped, and how the background work cleared them.</summary>
    public sealed record Drain(long Backlog, double Seconds, long Left, long Handled)
    {
        /// <summary>Events handled (done or dead-lettered) per second while it drained, follow-up events included.</summary>
        public double PerSecond => Handled / Seconds;
        public override string ToString() => Backlog == 0 || Seconds < 0.5
            ? "nothing waiting when the load stopped (the background work kept up)"
            : Left == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{Backlog} events waiting when the load stopped, cleared in {Seconds:F1}s ({PerSecond:F0} events/s)")
            : string.Create(CultureInfo.InvariantCulture, $"{Backlog} events waiting when the load stopped, {Left} still waiting after {Seconds:F0}s ({PerSecond:F0} events/s)");
    }

    /// <summary>A warm-up with the real load, ANALYZE, then the measured window with its CPU reading.</summary>
    private static async Task<Measured> WarmedAsync(Deployment d, string name, HttpClient client, int concurrency, TimeSpan warmup, TimeSpan duration,
        Func<long, HttpRequestMessage> request, Action<int> onStatus, CpuMeter meter, int eventsPerRequest)
    {
        Console.WriteLine($"  {name}: warming up for {warmup.TotalSeconds:F0}s");
        await LoadRunner.RunAsync("warm-up", client, concurrency, TimeSpan.Zero, warmup, request, onStatus: onStatus);
        await CatchUpAsync(d, warmup);
        await AnalyzeAsync(d);
        var cpu = new CpuMeter.Reading(meter);
        var result = await LoadRunner.RunAsync(name, client, concurrency, TimeSpan.FromSeconds(2), duration, request, onStatus: onStatus, onWindow: cpu.Window);
        Orchestrator.Print(result);
        return new Measured(result, cpu.Use, eventsPerRequest);
    }

    private static async Task AnalyzeAsync(Deployment d)
    {
        if (d.Provider == "postgres") await Orchestrator.AnalyzeAsync(d.Db);
    }

    private static Task<long> PendingAsync(Deployment d) => CountAsync(d, "processed_at IS NULL AND dead_at IS NULL");

    private static Task<long> HandledAsync(Deployment d) => CountAsync(d, "processed_at IS NOT NULL OR dead_at IS NOT NULL");

    private static async Task<long> CountAsync(Deployment d, string where)
    {
        await using var conn = d.Connect();
        await conn.OpenAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT count(*) FROM outbox_messages WHERE {where}";
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until no outbox event is waiting (background work has caught up) or the limit passes; the seconds, and the events left.</summary>
    private static async Task<(double Seconds, long Left)> DrainAsync(Deployment d, TimeSpan limit)
    {
        var started = DateTime.UtcNow;
        var said = DateTime.UtcNow;
        while (true)
        {
            var pending = await PendingAsync(d);
            var waited = DateTime.UtcNow - started;
            if (pending == 0 || waited > limit) return (waited.TotalSeconds, pending);
            if (DateTime.UtcNow - said > TimeSpan.FromSeconds(15))
            {
                Console.WriteLine($"  waiting for background work: {pending} outbox events ({waited.TotalSeconds:F0}s)");
                said = DateTime.UtcNow;
            }
            await Task.Delay(250);
        }
    }

    /// <summary>
    /// Before a load: background work must have caught up, so the load measures its own work. The limit grows with the
    /// warm-up (a one-process deployment clears a 20 s warm-up's returns in about four minutes): 30 times it, at least 10 minutes.
    /// </summary>
    private static async Task CatchUpAsync(Deployment d, TimeSpan warmup)
    {
        var (seconds, left) = await DrainAsync(d, TimeSpan.FromSeconds(Math.Max(600, 30 * warmup.TotalSeconds)));
        if (left > 0) throw new TimeoutException($"{left} outbox events still waiting after {seconds:F0}s");
    }

    private static readonly string[] PartOrder = ["retour", "web", "workers", "postgres", "rabbitmq", "nginx", "bench"];

    private static void Report(BenchOptions o, List<ShapeResult> results)
    {
        Console.WriteLine($"\nScaled scenario: return creation and tracking ingestion by deployment shape ({Environment.ProcessorCount} cores, C={o.Concurrency}, batches {o.BatchConcurrency})");
        Console.WriteLine($"{"shape",-9} {"load",-40} {"events/s",9} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"errors",7} {"busy",6}  CPU ms per request, by part");
        foreach (var r in results)
        {
            foreach (var m in new[] { r.Returns, r.Webhooks, r.Batches })
            {
                var cpu = m.Cpu is { } c
                    ? string.Join(", ", PartOrder.Where(c.PartSeconds.ContainsKey).Append("other")
                        .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p} {1000 * (p == "other" ? c.OtherSeconds : c.PartSeconds[p]) / m.Load.Requests:F2}")))
                    : "";
                var busy = m.Cpu is { } u ? u.BusyCores.ToString("F2", CultureInfo.InvariantCulture) : "";
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Shape,-9} {m.Load.Name,-40} {m.EventsPerSecond,9:F0} {m.Load.P50,8:F1} {m.Load.P95,8:F1} {m.Load.P99,8:F1} {m.Load.Errors,7} {busy,6}  {cpu}"));
            }
        }
        Console.WriteLine("\n(busy: cores busy on average over the window, of the machine's " + Environment.ProcessorCount + "; CPU ms per request: each part's CPU time over the window ÷ requests answered)");
        foreach (var r in results)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Shape,-9} {r.Label}: parcels booked in {r.BookingSeconds:F0}s; tracking events stored {r.WebhooksStored + r.BatchesStored} for {r.WebhooksAcked + r.BatchesAcked} acknowledged (lost {r.Lost}, duplicates {r.Duplicates}); after the returns load, outbox: {r.AfterReturns}"));

        double? Median(string shape, Func<ShapeResult, double> f)
        {
            var xs = results.Where(r => r.Shape == shape).Select(f).Order().ToArray();
            return xs.Length == 0 ? null : xs.Length % 2 == 1 ? xs[xs.Length / 2] : (xs[xs.Length / 2 - 1] + xs[xs.Length / 2]) / 2;
        }
        if (Median("web1", r => 0) is null || Median("web2", r => 0) is null) return;
        string Ratio(string what, Func<ShapeResult, double> f) =>
            string.Create(CultureInfo.InvariantCulture, $"{what} {Median("web2", f)!.Value / Median("web1", f)!.Value:F2}× ({Median("web1", f):F0} → {Median("web2", f):F0}/s)");
        Console.WriteLine($"\nScaling ratio, 2 web nodes ÷ 1 web node (scaled mode, same machine): " +
                          $"{Ratio("returns", r => r.Returns.EventsPerSecond)}; {Ratio("signed webhooks", r => r.Webhooks.EventsPerSecond)}; {Ratio("batched events", r => r.Batches.EventsPerSecond)}");
    }
}
