using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Retour.Bench;

/// <summary>
/// The analytics scenario (PostgreSQL): `retour demo generate --returns N` fills a fresh database (timed), Retour starts
/// on it, and each dashboard endpoint is driven by C clients for T seconds. Each endpoint is also answered the direct way,
/// a GROUP BY over the raw tables (returns, return lines, orders, order lines, refunds) for the same period, and the
/// ratio of the two is printed.
/// </summary>
public static class AnalyticsLoad
{
    public const string Key = "bench-analytics-key-0123456789";

    public sealed record Row(string Name, LoadResult Retour, double? RawP50, double? RawMax);

    public sealed record Result(long Returns, double GenerateSeconds, string GenerateSummary, IReadOnlyList<Row> Rows, int Concurrency);

    private sealed record Endpoint(string Name, string Path, string? RawSql);

    public static async Task<Result> RunAsync(BenchOptions o, string db)
    {
        var url = $"http://127.0.0.1:{Orchestrator.FreePort()}";
        var env = Orchestrator.RetourEnv(o, "postgres", db, url);
        env["RETOUR_DEMO_API_KEY"] = Key;

        Console.WriteLine($"  retour demo generate --returns {o.AnalyticsReturns:N0} --merchant demo");
        var watch = Stopwatch.StartNew();
        var (code, output) = await ChildProcess.RunToEnd(o.RetourDll, ["demo", "generate", "--returns", o.AnalyticsReturns.ToString(CultureInfo.InvariantCulture), "--merchant", "demo"], env);
        var seconds = watch.Elapsed.TotalSeconds;
        var summary = output.Split('\n').LastOrDefault(l => l.StartsWith("Added ", StringComparison.Ordinal))?.Trim()
            ?? throw new InvalidOperationException($"demo generate failed ({code}): {output}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {summary}\n  wall clock with start-up and migration: {seconds:F0} s"));
        await Orchestrator.AnalyzeAsync(db);

        await using var server = ChildProcess.Start(o.RetourDll, [], env, Path.Combine(o.WorkDir, "retour-analytics.log"));
        using var probe = Orchestrator.Client(1, url);
        await server.WaitHealthyAsync(probe, "/health", TimeSpan.FromSeconds(120));
        await WaitForRollupsAsync(db);
        await Orchestrator.AnalyzeAsync(db);

        var merchant = await ScalarAsync<Guid>(db, "SELECT id FROM merchants WHERE slug = 'demo'");
        var today = DateTime.UtcNow.Date;
        string D(DateTime d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var year = $"from={D(today.AddDays(-364))}&to={D(today)}";
        var endpoints = new List<Endpoint>
        {
            new("summary, last 90 days", "/api/v1/analytics/summary", Raw.Summary),
            new("summary, last 12 months", $"/api/v1/analytics/summary?{year}", Raw.Summary),
            new("summary, 24 months", $"/api/v1/analytics/summary?from={D(today.AddMonths(-24))}&to={D(today)}", Raw.Summary),
            new("summary, 12 months, apparel", $"/api/v1/analytics/summary?{year}&category=apparel", Raw.SummaryApparel),
            new("breakdown reason, 12 months", $"/api/v1/analytics/breakdown?dimension=reason&{year}", Raw.ByReason),
            new("breakdown category, 12 months", $"/api/v1/analytics/breakdown?dimension=category&{year}", Raw.ByCategory),
            new("breakdown sku, 12 months", $"/api/v1/analytics/breakdown?dimension=sku&{year}", Raw.BySku),
            new("breakdown region, 12 months", $"/api/v1/analytics/breakdown?dimension=region&{year}", Raw.ByRegion),
            new("breakdown carrier, 12 months", $"/api/v1/analytics/breakdown?dimension=carrier&{year}", Raw.ByCarrier),
            new("breakdown segment, 12 months", $"/api/v1/analytics/breakdown?dimension=segment&{year}", Raw.BySegment),
            new("trend by month, 24 months", $"/api/v1/analytics/trend?interval=month&from={D(today.AddMonths(-24))}&to={D(today)}", Raw.TrendByMonth),
            new("funnel, 12 months", $"/api/v1/analytics/funnel?{year}", null),
            new("insight sizing, 12 months", $"/api/v1/analytics/insights/sizing?level=product&{year}", null),
            new("insight suppliers (+RTV), 12 months", $"/api/v1/analytics/insights/suppliers?{year}", null),
            new("insight carriers, 12 months", $"/api/v1/analytics/insights/carriers?{year}", null),
            new("insight serial returners, 90 days", "/api/v1/analytics/insights/serial-returners", null),
            new("insight comments, 90 days", "/api/v1/analytics/insights/comments", null),
        };
        using var client = Orchestrator.Client(o.AnalyticsConcurrency, url, Key);
        var rows = new List<Row>();
        foreach (var e in endpoints)
        {
            var r = await LoadRunner.RunAsync(e.Name, client, o.AnalyticsConcurrency, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(o.AnalyticsSeconds),
                _ => new HttpRequestMessage(HttpMethod.Get, e.Path));
            var (from, to) = Period(e.Path, today);
            var raw = e.RawSql is null ? ((double?)null, (double?)null) : await TimeRawAsync(db, e.RawSql, merchant, from, to);
            rows.Add(new Row(e.Name, r, raw.Item1, raw.Item2));
            var rawText = raw.Item1 is { } p ? string.Create(CultureInfo.InvariantCulture, $"; raw GROUP BY {p:F0} ms") : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {e.Name}: p50 {r.P50:F1} ms, p95 {r.P95:F1} ms, p99 {r.P99:F1} ms, {r.Rps:F0}/s, errors {r.Errors}") + rawText);
        }
        return new Result(o.AnalyticsReturns, seconds, summary, rows, o.AnalyticsConcurrency);
    }

    public static void Report(Result r)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"\nAnalytics on PostgreSQL over {r.Returns:N0} generated returns ({r.Concurrency} clients per endpoint)"));
        Console.WriteLine($"{"endpoint",-34} {"req/s",7} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"errors",7} {"raw ms",8} {"raw/rollup",11}");
        foreach (var row in r.Rows)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{row.Name,-34} {row.Retour.Rps,7:F0} {row.Retour.P50,8:F1} {row.Retour.P95,8:F1} {row.Retour.P99,8:F1} {row.Retour.Errors,7} " +
                $"{(row.RawP50 is { } raw ? raw.ToString("F0", CultureInfo.InvariantCulture) : "–"),8} " +
                $"{(row.RawP50 is { } x ? (x / row.Retour.P50).ToString("F0", CultureInfo.InvariantCulture) + "×" : "–"),11}"));
        var generateOk = r.GenerateSeconds < 600;
        // An endpoint that completed nothing in the window has no percentiles (NaN): it fails the target and is named.
        var ok = r.Rows.All(x => x.Retour.P95 < 300 && x.Retour.Errors == 0);
        var worst = r.Rows.FirstOrDefault(x => double.IsNaN(x.Retour.P95)) ?? r.Rows.MaxBy(x => x.Retour.P95)!;
        var worstText = double.IsNaN(worst.Retour.P95) ? "no request completed in the window"
            : string.Create(CultureInfo.InvariantCulture, $"p95 {worst.Retour.P95:F1} ms");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Generation target (1,000,000 returns in under 10 minutes): {(r.Returns >= 1_000_000 ? generateOk ? "MET" : "NOT MET" : "not measured at this size")} ({r.GenerateSeconds:F0} s for {r.Returns:N0})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Dashboard target (every endpoint p95 < 300 ms, 0 errors): {(ok ? "MET" : "NOT MET")} (worst: {worst.Name}, {worstText})"));
    }

    private static (DateTime From, DateTime To) Period(string path, DateTime today)
    {
        var q = path.Contains('?') ? path[(path.IndexOf('?') + 1)..].Split('&').Select(p => p.Split('=')).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]) : [];
        var to = q.TryGetValue("to", out var t) ? DateTime.Parse(t, CultureInfo.InvariantCulture) : today;
        var from = q.TryGetValue("from", out var f) ? DateTime.Parse(f, CultureInfo.InvariantCulture) : to.AddDays(-89);
        return (DateTime.SpecifyKind(from, DateTimeKind.Utc), DateTime.SpecifyKind(to.AddDays(1), DateTimeKind.Utc));
    }

    /// <summary>The generated data's outbox events (the demo shop's own seeding) are processed before measuring.</summary>
    private static async Task WaitForRollupsAsync(string db)
    {
        var until = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < until)
        {
            var pending = await ScalarAsync<long>(db, "SELECT (SELECT count(*) FROM analytics_pending) + (SELECT count(*) FROM outbox_messages WHERE processed_at IS NULL AND dead_at IS NULL AND type IN ('order.created','return.requested'))");
            if (pending == 0) return;
            await Task.Delay(500);
        }
        Console.WriteLine("  (analytics queue not empty after 3 minutes; measuring anyway)");
    }

    private static async Task<T> ScalarAsync<T>(string db, string sql)
    {
        await using var conn = new NpgsqlConnection(db);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>One warm-up run, then three timed runs of the raw query: the median and the slowest.</summary>
    private static async Task<(double?, double?)> TimeRawAsync(string db, string sql, Guid merchant, DateTime from, DateTime to)
    {
        await using var conn = new NpgsqlConnection(db);
        await conn.OpenAsync();
        var times = new List<double>();
        for (var i = 0; i < 4; i++)
        {
            await using var cmd = new NpgsqlCommand(sql, conn);
            cmd.Parameters.AddWithValue("m", merchant);
            cmd.Parameters.AddWithValue("from", from);
            cmd.Parameters.AddWithValue("to", to);
            cmd.CommandTimeout = 300;
            var started = Stopwatch.GetTimestamp();
            await using (var reader = await cmd.ExecuteReaderAsync()) while (await reader.ReadAsync()) { }
            if (i > 0) times.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        times.Sort();
        return (times[times.Count / 2], times[^1]);
    }

    /// <summary>The direct answers: the same figures from the raw tables, as one would write them without rollups.</summary>
    private static class Raw
    {
        private const string Returned = """
            returned AS (SELECT r.id, r.order_id, r.carrier_code, r.created_at, l.sku, l.category, l.reason, l.quantity,
                                l.quantity * (ol.unit_price - ol.discount / ol.quantity) AS value
                           FROM returns r JOIN return_lines l ON l.return_id = r.id JOIN order_lines ol ON ol.id = l.order_line_id
                          WHERE r.merchant_id = @m AND r.created_at >= @from AND r.created_at < @to)
            """;
        private const string Sold = """
            sold AS (SELECT o.id, o.ship_country, o.ship_region, o.customer_email, o.placed_at, ol.sku, ol.category, ol.quantity,
                            ol.quantity * ol.unit_price - ol.discount AS value
                       FROM orders o JOIN order_lines ol ON ol.order_id = o.id
                      WHERE o.merchant_id = @m AND o.placed_at >= @from AND o.placed_at < @to AND o.cancelled_at IS NULL)
            """;

        public const string Summary = $"""
            WITH {Returned}, {Sold}
            SELECT (SELECT count(DISTINCT id) FROM returned), (SELECT sum(quantity) FROM returned), (SELECT sum(value) FROM returned),
                   (SELECT sum(quantity) FROM sold), (SELECT sum(value) FROM sold),
                   (SELECT sum(f.amount) FROM refunds f JOIN returns r ON r.id = f.return_id
                     WHERE r.merchant_id = @m AND r.created_at >= @from AND r.created_at < @to AND f.status = 'issued'),
                   (SELECT avg(extract(epoch FROM f.issued_at - r.created_at) / 3600) FROM refunds f JOIN returns r ON r.id = f.return_id
                     WHERE r.merchant_id = @m AND r.created_at >= @from AND r.created_at < @to AND f.status = 'issued')
            """;

        public const string SummaryApparel = $"""
            WITH {Returned}, {Sold}
            SELECT (SELECT count(DISTINCT id) FROM returned WHERE category = 'apparel'), (SELECT sum(quantity) FROM returned WHERE category = 'apparel'),
                   (SELECT sum(quantity) FROM sold WHERE category = 'apparel')
            """;

        public const string ByReason = $"WITH {Returned} SELECT reason, count(DISTINCT id), sum(quantity), sum(value) FROM returned GROUP BY reason";

        public const string ByCategory = $"""
            WITH {Returned}, {Sold}
            SELECT coalesce(a.category, b.category), a.returns, a.units, b.sold FROM
              (SELECT category, count(DISTINCT id) AS returns, sum(quantity) AS units FROM returned GROUP BY category) a
              FULL JOIN (SELECT category, sum(quantity) AS sold FROM sold GROUP BY category) b ON a.category = b.category
            """;

        public const string BySku = $"""
            WITH {Returned}, {Sold}
            SELECT coalesce(a.sku, b.sku), a.returns, a.units, b.sold FROM
              (SELECT sku, count(DISTINCT id) AS returns, sum(quantity) AS units FROM returned GROUP BY sku) a
              FULL JOIN (SELECT sku, sum(quantity) AS sold FROM sold GROUP BY sku) b ON a.sku = b.sku
            """;

        public const string ByRegion = $"""
            WITH {Returned}, {Sold}
            SELECT coalesce(a.k, b.k), a.returns, a.units, b.sold FROM
              (SELECT o.ship_country || '-' || coalesce(o.ship_region, '') AS k, count(DISTINCT r.id) AS returns, sum(r.quantity) AS units
                 FROM returned r JOIN orders o ON o.id = r.order_id GROUP BY 1) a
              FULL JOIN (SELECT ship_country || '-' || coalesce(ship_region, '') AS k, sum(quantity) AS sold FROM sold GROUP BY 1) b ON a.k = b.k
            """;

        public const string ByCarrier = $"WITH {Returned} SELECT coalesce(carrier_code, 'none'), count(DISTINCT id), sum(quantity), sum(value) FROM returned GROUP BY 1";

        public const string BySegment = $"""
            WITH {Returned}
            SELECT CASE WHEN EXISTS (SELECT 1 FROM orders h WHERE h.merchant_id = o.merchant_id AND h.customer_email = o.customer_email
                                      AND h.placed_at < o.placed_at) THEN 'repeat' ELSE 'new' END AS segment,
                   count(DISTINCT r.id), sum(r.quantity)
              FROM returned r JOIN orders o ON o.id = r.order_id GROUP BY 1
            """;

        public const string TrendByMonth = $"""
            WITH {Returned}, {Sold}
            SELECT coalesce(a.m, b.m), a.returns, a.units, b.sold FROM
              (SELECT date_trunc('month', created_at) AS m, count(DISTINCT id) AS returns, sum(quantity) AS units FROM returned GROUP BY 1) a
              FULL JOIN (SELECT date_trunc('month', placed_at) AS m, sum(quantity) AS sold FROM sold GROUP BY 1) b ON a.m = b.m
            """;
    }
}
