using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;

namespace Retour.Bench;

/// <summary>
/// The warehouse scenario (PostgreSQL): returns are received by scan, inspected unit by unit and refunded, as warehouse
/// stations work through a backlog, while the sandbox payment provider declines, times out and loses answers at the
/// rates set here. Each station takes the next return and does the three requests in turn; a tenth of the refunds are
/// also asked for twice more at the same moment (once with the same Idempotency-Key, once without), and the refund
/// worker issues them too (the policy refunds after inspection), so every refund is raced. A second, smaller batch then
/// runs with Retour killed (SIGKILL) halfway and restarted: stations retry what had no answer. At the end the sandbox
/// provider's own ledger is compared with Retour's refunds: duplicates, payments Retour never recorded, and refunds
/// recorded as paid that the provider never paid.
/// </summary>
public static class WarehouseLoad
{
    /// <param name="DuplicatePayments">From the provider's ledger alone: payments beyond one per order (each bench order has one return of one unit).</param>
    /// <param name="ExtraRefunds">From Retour's books: refunds beyond one per return.</param>
    public sealed record Books(long Refunds, long Issued, long Pending, long Failed, long NeedsAttention, long Payments, long DuplicatePayments,
        long ExtraRefunds, long UnrecordedPayments, long UnpaidRefunds, decimal RefundedAmount, decimal PaidAmount, long ReturnsResolved)
    {
        public long DuplicateRefunds => DuplicatePayments;
    }

    public sealed record Result(int Returns, int Stations, double Seconds, LoadResult Receive, LoadResult Inspect, LoadResult Refund, LoadResult PerReturn,
        long RacedRequests, double SettleSeconds, int CrashReturns, double CrashDownSeconds, double CrashRecoverySeconds, long CrashRetries, long CrashErrors,
        Books Ledger, string PaymentFaults, int ReturnsProcessed)
    {
        public double ReturnsPerSecond => Returns / Seconds;
    }

    private const string PaymentFaults = """{"latency_ms":20,"decline_rate":0.01,"timeout_rate":0.01,"lost_response_rate":0.01}""";
    private static readonly object Checklist = new { item_matches_order = true, tags_attached = true, unworn = true, no_stains_or_odour = true };

    /// <summary>Grades as they come off a real returns line, mostly resaleable: like_new 70 %, used 15 %, defective 10 %, damaged 5 %.</summary>
    private static string Grade(int i) => (i % 20) switch { < 14 => "like_new", < 17 => "used", < 19 => "defective", _ => "damaged" };

    /// <summary>What a scanner reads: the RMA as printed, the label's QR payload, or the RMA typed in lower case without its dash.</summary>
    private static string Scan(string rma, int i) => (i % 3) switch { 0 => rma, 1 => "RETOUR:" + rma, _ => rma.Replace("-", "").ToLowerInvariant() };

    public static async Task<Result> RunAsync(BenchOptions o, string db)
    {
        var url = $"http://127.0.0.1:{Orchestrator.FreePort()}";
        var env = Orchestrator.RetourEnv(o, "postgres", db, url);
        env["RETOUR_SANDBOX_AUTOPILOT"] = "false";
        env["RETOUR_PAYMENT_TIMEOUT_MS"] = "1000";  // a provider that does not answer within a second is treated as unknown
        env["RETOUR_REFUND_RETRY_MS"] = "500";
        env["RETOUR_REFUND_MAX_ATTEMPTS"] = "8";
        var log = Path.Combine(o.WorkDir, "retour-warehouse.log");
        var server = ChildProcess.Start(o.RetourDll, [], env, log);
        try
        {
            using (var probe = Orchestrator.Client(1, url)) await server.WaitHealthyAsync(probe, "/health", TimeSpan.FromSeconds(60));
            var (_, key) = await Orchestrator.MerchantAsync(o, env);
            using var api = Orchestrator.Client(o.Stations * 3, url, key);
            await SendAsync(api, HttpMethod.Put, "/api/v1/sandbox/payments/settings", PaymentFaults);

            var warm = Math.Max(200, o.WarehouseReturns / 10);
            var total = warm + o.WarehouseReturns + o.CrashReturns;
            await Orchestrator.SeedOrdersAsync(api, total);
            var rmas = await CreateReturnsAsync(api, total);

            Console.WriteLine($"  warming up: {warm} returns through receive, inspect and refund");
            await PipelineAsync(api, rmas, 0, warm, o.Stations, retry: false, onProgress: null);
            await Orchestrator.AnalyzeAsync(db);

            Console.WriteLine($"  measuring: {o.WarehouseReturns} returns, {o.Stations} stations; sandbox payments {PaymentFaults}");
            var run = await PipelineAsync(api, rmas, warm, o.WarehouseReturns, o.Stations, retry: false, onProgress: null);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {o.WarehouseReturns} returns in {run.Seconds:F1}s = {o.WarehouseReturns / run.Seconds:F0} returns/s"));
            var settle = await SettleAsync(db, TimeSpan.FromMinutes(5));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  every refund settled {settle:F1}s after the last station finished"));

            double down = 0, recovery = 0;
            long crashRetries = 0, crashErrors = 0;
            if (o.CrashReturns > 0)
            {
                Console.WriteLine($"  crash: {o.CrashReturns} more returns; Retour is killed (SIGKILL) halfway and restarted");
                await SendAsync(api, HttpMethod.Put, "/api/v1/sandbox/payments/settings", """{"latency_ms":20,"decline_rate":0.01,"timeout_rate":0.02,"lost_response_rate":0.05}""");
                var killed = new TaskCompletionSource();
                var half = Math.Max(1, o.CrashReturns / 2);
                var pipeline = PipelineAsync(api, rmas, warm + o.WarehouseReturns, o.CrashReturns, o.Stations, retry: true,
                    onProgress: done => { if (done == half) killed.TrySetResult(); });
                await killed.Task;
                var clock = Stopwatch.StartNew();
                await server.KillAsync();
                await server.DisposeAsync();
                Console.WriteLine($"  killed Retour with {half} of {o.CrashReturns} returns done; restarting");
                server = ChildProcess.Start(o.RetourDll, [], env, log + ".restarted");
                using (var probe = Orchestrator.Client(1, url)) await server.WaitHealthyAsync(probe, "/health", TimeSpan.FromSeconds(60));
                down = clock.Elapsed.TotalSeconds;
                var sinceRestart = Stopwatch.StartNew();
                var crashRun = await pipeline;
                crashRetries = crashRun.Retries;
                crashErrors = crashRun.Receive.Errors + crashRun.Inspect.Errors + crashRun.Refund.Errors;
                await SettleAsync(db, TimeSpan.FromMinutes(5));
                recovery = sinceRestart.Elapsed.TotalSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  down for {down:F1}s; {crashRun.Retries} requests retried; every refund settled {recovery:F1}s after the restart"));
            }

            var books = await BooksAsync(db);
            return new Result(o.WarehouseReturns, o.Stations, run.Seconds, run.Receive, run.Inspect, run.Refund, run.Whole, run.Raced, settle,
                o.CrashReturns, down, recovery, crashRetries, crashErrors, books, PaymentFaults, total);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task SendAsync(HttpClient api, HttpMethod method, string path, string json)
    {
        using var res = await api.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") });
        if (!res.IsSuccessStatusCode) throw new InvalidOperationException($"{method} {path}: {(int)res.StatusCode} {await res.Content.ReadAsStringAsync()}");
    }

    /// <summary>One return of one unit per order (the orders' L1, an apparel line), approved by the default rules; their RMAs in order.</summary>
    private static async Task<string[]> CreateReturnsAsync(HttpClient api, int count)
    {
        var rmas = new string[count];
        var done = 0;
        var started = Stopwatch.StartNew();
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var body = $$"""{"order_number":"B{{i}}","lines":[{"order_line_id":"L1","quantity":1,"reason":"too_small"}],"resolution":"refund","method":"drop_off"}""";
            using var res = await api.PostAsync("/api/v1/returns", new StringContent(body, Encoding.UTF8, "application/json"), ct);
            var text = await res.Content.ReadAsStringAsync(ct);
            var ret = JsonNode.Parse(text);
            if (res.StatusCode != HttpStatusCode.Created || ret?["status"]?.GetValue<string>() != "approved")
                throw new InvalidOperationException($"Creating return {i} failed: {(int)res.StatusCode} {text}");
            rmas[i] = ret["rma"]!.GetValue<string>();
            var n = Interlocked.Increment(ref done);
            if (n % 5000 == 0 || n == count) Console.WriteLine($"  created {n}/{count} returns ({started.Elapsed.TotalSeconds:F0}s)");
        });
        return rmas;
    }

    private sealed record Run(double Seconds, LoadResult Receive, LoadResult Inspect, LoadResult Refund, LoadResult Whole, long Raced, long Retries);

    /// <summary>
    /// Stations working through returns [from, from + count): receive, inspect, refund. With <paramref name="retry"/>, a request
    /// without an answer (connection refused while Retour restarts, or a 5xx) is sent again until it gets one, as a scanner
    /// operator would; an inspection that committed before the crash then answers 409, which counts as done.
    /// </summary>
    private static async Task<Run> PipelineAsync(HttpClient api, string[] rmas, int from, int count, int stations, bool retry, Action<int>? onProgress)
    {
        var steps = new[] { "POST /warehouse/receipts", "POST /returns/{id}/inspections", "POST /returns/{id}/refunds", "receive + inspect + refund" };
        var lat = steps.Select(_ => new List<double>[stations]).ToArray();
        var stat = steps.Select(_ => new Dictionary<int, long>[stations]).ToArray();
        var err = steps.Select(_ => new long[stations]).ToArray();
        long next = from - 1, done = 0, raced = 0, retries = 0;
        var clock = Stopwatch.StartNew();

        async Task<int> Send(int step, int w, Func<HttpRequestMessage> make, Func<int, bool> ok)
        {
            for (var attempt = 0; ; attempt++)
            {
                var started = Stopwatch.GetTimestamp();
                int status;
                try
                {
                    using var res = await api.SendAsync(make(), HttpCompletionOption.ResponseContentRead);
                    status = (int)res.StatusCode;
                }
                catch (Exception) { status = 0; }
                var good = ok(status);
                if (good || !retry || attempt > 600 || (status != 0 && status < 500))
                {
                    lat[step][w].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    stat[step][w][status] = stat[step][w].GetValueOrDefault(status) + 1;
                    if (!good) err[step][w]++;
                    return status;
                }
                Interlocked.Increment(ref retries);
                await Task.Delay(100);
            }
        }

        HttpRequestMessage Json(string path, object? body, string? key = null)
        {
            var req = new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = body is null ? null : new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
            };
            if (key is not null) req.Headers.Add("Idempotency-Key", key);
            return req;
        }

        async Task Station(int w)
        {
            for (var s = 0; s < steps.Length; s++) { lat[s][w] = new List<double>(count / stations + 16); stat[s][w] = []; }
            long i;
            while ((i = Interlocked.Increment(ref next)) < from + count)
            {
                var rma = rmas[i];
                var k = (int)i;
                var started = Stopwatch.GetTimestamp();
                await Send(0, w, () => Json("/api/v1/warehouse/receipts", new { code = Scan(rma, k) }), s => s == 200);
                await Send(1, w, () => Json($"/api/v1/returns/{rma}/inspections", new
                {
                    lines = new[] { new { order_line_id = "L1", unit = 1, grade = Grade(k), checklist = Checklist, notes = "bench" } },
                }), s => s == 200 || (retry && s == 409));
                var refundKey = $"bench-refund-{rma}";
                if (k % 10 == 0)
                {
                    // The same refund asked for three times at once: a retry with the same key, and a second client without one.
                    Interlocked.Add(ref raced, 2);
                    var first = Send(2, w, () => Json($"/api/v1/returns/{rma}/refunds", null, refundKey), s => s is 200 or 201);
                    var others = Task.WhenAll(SendRaw(() => Json($"/api/v1/returns/{rma}/refunds", null, refundKey)), SendRaw(() => Json($"/api/v1/returns/{rma}/refunds", null)));
                    await first;
                    await others;
                }
                else await Send(2, w, () => Json($"/api/v1/returns/{rma}/refunds", null, refundKey), s => s is 200 or 201);
                lat[3][w].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                stat[3][w][200] = stat[3][w].GetValueOrDefault(200) + 1;
                var d = (int)Interlocked.Increment(ref done);
                onProgress?.Invoke(d);
                if (d % 2500 == 0) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {d}/{count} returns ({clock.Elapsed.TotalSeconds:F0}s)"));
            }
        }

        async Task SendRaw(Func<HttpRequestMessage> make)
        {
            try { using var _ = await api.SendAsync(make()); } catch (Exception) { /* counted by the ledger comparison, not here */ }
        }

        await Task.WhenAll(Enumerable.Range(0, stations).Select(w => Task.Run(() => Station(w))));
        var seconds = clock.Elapsed.TotalSeconds;
        var results = steps.Select((name, s) => LoadRunner.Summarise(name, stations, seconds, lat[s], stat[s], err[s])).ToArray();
        return new Run(seconds, results[0], results[1], results[2], results[3], raced, retries);
    }

    /// <summary>Waits until no refund is pending or waiting for a retry; the seconds it took.</summary>
    private static async Task<double> SettleAsync(string db, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        await using var conn = new NpgsqlConnection(db);
        await conn.OpenAsync();
        for (var polls = 0; ; polls++)
        {
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM refunds WHERE status = 'pending' OR (status = 'failed' AND next_attempt_at IS NOT NULL)", conn);
            var open = (long)(await cmd.ExecuteScalarAsync())!;
            if (open == 0) return clock.Elapsed.TotalSeconds;
            if (clock.Elapsed > limit)
            {
                Console.WriteLine($"  {open} refunds still unsettled after {limit.TotalSeconds:F0}s");
                return clock.Elapsed.TotalSeconds;
            }
            if (polls % 20 == 0) Console.WriteLine($"    {open} refunds pending or waiting for a retry");
            await Task.Delay(250);
        }
    }

    /// <summary>The sandbox provider's ledger against Retour's refunds.</summary>
    private static async Task<Books> BooksAsync(string db)
    {
        await using var conn = new NpgsqlConnection(db);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT
              (SELECT count(*) FROM refunds),
              (SELECT count(*) FROM refunds WHERE status = 'issued'),
              (SELECT count(*) FROM refunds WHERE status = 'pending'),
              (SELECT count(*) FROM refunds WHERE status = 'failed'),
              (SELECT count(*) FROM refunds WHERE needs_attention),
              (SELECT count(*) FROM sandbox_payments),
              -- the provider's ledger alone: payments beyond the first for one order (each bench order has one return of one unit)
              (SELECT count(*) - count(DISTINCT payment_reference) FROM sandbox_payments),
              -- Retour's books: refunds beyond the first for one return
              (SELECT count(*) - count(DISTINCT return_id) FROM refunds),
              -- the provider paid, and Retour does not have that refund as issued
              (SELECT count(*) FROM sandbox_payments p WHERE NOT EXISTS (SELECT 1 FROM refunds r WHERE r.provider_key = p.idempotency_key AND r.status = 'issued')),
              -- Retour has it as paid to the original payment, and the provider never paid it
              (SELECT count(*) FROM refunds r WHERE r.status = 'issued' AND r.method = 'original_payment' AND r.amount > 0
                 AND NOT EXISTS (SELECT 1 FROM sandbox_payments p WHERE p.idempotency_key = r.provider_key)),
              (SELECT coalesce(sum(amount), 0) FROM refunds WHERE status = 'issued' AND method = 'original_payment'),
              (SELECT coalesce(sum(amount), 0) FROM sandbox_payments),
              (SELECT count(*) FROM returns WHERE status IN ('resolved', 'closed'))
            """, conn);
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return new Books(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5), r.GetInt64(6), r.GetInt64(7),
            r.GetInt64(8), r.GetInt64(9), r.GetDecimal(10), r.GetDecimal(11), r.GetInt64(12));
    }

    public static void Report(Result w)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"warehouse (postgres): {w.Returns} returns received, inspected and refunded by {w.Stations} stations in {w.Seconds:F1}s = {w.ReturnsPerSecond:F0} returns/s ({w.ReturnsPerSecond * 3:F0} requests/s)"));
        Console.WriteLine($"{"step",-36} {"req/s",9} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"errors",7}");
        foreach (var r in new[] { w.Receive, w.Inspect, w.Refund, w.PerReturn })
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Name,-36} {r.Rps,9:F0} {r.P50,8:F1} {r.P95,8:F1} {r.P99,8:F1} {r.Errors,7}"));
        var b = w.Ledger;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Payments {w.PaymentFaults}; {w.RacedRequests} extra refund requests raced the first; settled {w.SettleSeconds:F1}s after the last station."));
        if (w.CrashReturns > 0)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Crash: {w.CrashReturns} more returns, SIGKILL halfway, down {w.CrashDownSeconds:F1}s, {w.CrashRetries} requests resent, {w.CrashErrors} left without a good answer, every refund settled {w.CrashRecoverySeconds:F1}s after the restart."));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Books: {b.Refunds} refunds ({b.Issued} issued, {b.Pending} pending, {b.Failed} failed, {b.NeedsAttention} with support); provider ledger {b.Payments} payments; " +
            $"returns resolved {b.ReturnsResolved}; refunded {b.RefundedAmount:F2} EUR, provider paid {b.PaidAmount:F2} EUR"));
        Console.WriteLine($"Duplicate refunds: {b.DuplicateRefunds} (the provider's ledger: payments beyond one per order); Retour's refunds beyond one per return {b.ExtraRefunds}; " +
                          $"paid but not recorded {b.UnrecordedPayments}; recorded but not paid {b.UnpaidRefunds}; {b.Issued} issued for {w.ReturnsProcessed} returns processed");
        var ok = b.DuplicateRefunds == 0 && b.ExtraRefunds == 0 && b.UnrecordedPayments == 0 && b.UnpaidRefunds == 0 && b.Pending == 0 && b.RefundedAmount == b.PaidAmount
                 && b.Issued == w.ReturnsProcessed && b.Payments == w.ReturnsProcessed && w.Receive.Errors + w.Inspect.Errors + w.Refund.Errors + w.CrashErrors == 0;
        Console.WriteLine($"Warehouse target (0 duplicate refunds, every return refunded once, the books agree, 0 errors): {(ok ? "MET" : "NOT MET")}");
    }
}
