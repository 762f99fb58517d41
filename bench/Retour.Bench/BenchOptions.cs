namespace Retour.Bench;

public sealed record BenchOptions
{
    public bool ServeLimit { get; init; }
    public IReadOnlyList<string> Providers { get; init; } = ["sqlite"];
    public string? PgAdmin { get; init; }
    public int Concurrency { get; init; } = 32;
    public int DurationSeconds { get; init; } = 20;
    public int WarmupSeconds { get; init; } = 20;
    public int Orders { get; init; } = 20_000;
    /// <summary>returns, portal or all.</summary>
    public string Scenario { get; init; } = "all";
    public int PortalConcurrency { get; init; } = 16;
    /// <summary>Parcels the tracking scenario spreads its events over, and the concurrent senders of batches.</summary>
    public int Parcels { get; init; } = 4000;
    public int BatchConcurrency { get; init; } = 4;
    /// <summary>The warehouse scenario: returns measured, stations working in parallel, and returns in the crash run (0: none).</summary>
    public int WarehouseReturns { get; init; } = 10_000;
    public int Stations { get; init; } = 16;
    public int CrashReturns { get; init; } = 1000;
    /// <summary>The analytics scenario: returns generated, clients per endpoint, seconds per endpoint.</summary>
    public int AnalyticsReturns { get; init; } = 1_000_000;
    public int AnalyticsConcurrency { get; init; } = 4;
    public int AnalyticsSeconds { get; init; } = 10;
    /// <summary>The scaled scenario (not part of "all": it starts clusters): the deployment shapes measured, in order, and the worker nodes of scaled mode.</summary>
    public IReadOnlyList<string> Shapes { get; init; } = ScaledLoad.AllShapes;
    public int Workers { get; init; } = 2;
    /// <summary>Not part of "all": generating a million returns takes minutes of its own.</summary>
    public bool RunAnalytics => Scenario is "analytics";
    public bool RunWarehouse => Scenario is "all" or "warehouse";
    public bool RunReturns => Scenario is "all" or "returns";
    public bool RunPortal => Scenario is "all" or "portal";
    public bool RunTracking => Scenario is "all" or "tracking";
    public string RetourDll { get; init; } = "";
    /// <summary>The repository (scripts/cluster.sh is run from it).</summary>
    public string RepoRoot { get; init; } = "";
    public string WorkDir { get; init; } = Path.Combine(Path.GetTempPath(), "retour-bench");
    // For --serve-limit
    public string Provider { get; init; } = "sqlite";
    public string Db { get; init; } = "";
    public string Urls { get; init; } = "";
    /// <summary>Drive an already-running Retour (for profiling): its URL and an API key; orders B0…B{Orders-1} must exist.</summary>
    public string? AttachUrl { get; init; }
    public string? AttachKey { get; init; }

    public static BenchOptions Parse(string[] args)
    {
        var root = RepoRootDir();
        var o = new BenchOptions { RepoRoot = root ?? ".", RetourDll = root is null ? "retour.dll" : Path.Combine(root, "src", "Retour", "bin", "Release", "net10.0", "retour.dll") };
        string? providers = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--serve-limit": o = o with { ServeLimit = true }; break;
                case "--provider": providers = Next(); break;
                case "--pg": o = o with { PgAdmin = Next() }; break;
                case "-c" or "--concurrency": o = o with { Concurrency = int.Parse(Next()) }; break;
                case "-t" or "--duration": o = o with { DurationSeconds = int.Parse(Next()) }; break;
                case "--warmup": o = o with { WarmupSeconds = int.Parse(Next()) }; break;
                case "--orders": o = o with { Orders = int.Parse(Next()) }; break;
                case "--scenario": o = o with { Scenario = Next() is var sc and ("all" or "returns" or "portal" or "tracking" or "warehouse" or "analytics" or "scaled") ? sc : throw new ArgumentException("--scenario is returns, portal, tracking, warehouse, analytics, scaled or all") }; break;
                case "--shapes":
                    var shapes = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    if (shapes.Length == 0 || shapes.Except(ScaledLoad.AllShapes).Any())
                        throw new ArgumentException($"--shapes lists {string.Join(", ", ScaledLoad.AllShapes)} (comma-separated; a shape may repeat)");
                    o = o with { Shapes = shapes };
                    break;
                case "--workers": o = o with { Workers = int.Parse(Next()) is var w and >= 1 and <= 8 ? w : throw new ArgumentException("--workers is 1 to 8") }; break;
                case "--analytics-returns": o = o with { AnalyticsReturns = int.Parse(Next()) }; break;
                case "--analytics-c": o = o with { AnalyticsConcurrency = int.Parse(Next()) }; break;
                case "--analytics-t": o = o with { AnalyticsSeconds = int.Parse(Next()) }; break;
                case "--parcels": o = o with { Parcels = int.Parse(Next()) }; break;
                case "--returns": o = o with { WarehouseReturns = int.Parse(Next()) }; break;
                case "--stations": o = o with { Stations = int.Parse(Next()) }; break;
                case "--crash-returns": o = o with { CrashReturns = int.Parse(Next()) }; break;
                case "--batch-c": o = o with { BatchConcurrency = int.Parse(Next()) }; break;
                case "--portal-c": o = o with { PortalConcurrency = int.Parse(Next()) }; break;
                case "--retour": o = o with { RetourDll = Next() }; break;
                case "--db": o = o with { Db = Next() }; break;
                case "--urls": o = o with { Urls = Next() }; break;
                case "--attach": o = o with { AttachUrl = Next() }; break;
                case "--key": o = o with { AttachKey = Next() }; break;
                case "-h" or "--help":
                    Console.WriteLine("""
                        Retour.Bench [--provider postgres|sqlite|both] [--pg ADMIN_CONNECTION] [--scenario returns|portal|tracking|warehouse|analytics|scaled|all] [-c 32] [--portal-c 16]
                                     [-t 20] [--warmup 20] [--orders 20000] [--parcels 4000] [--batch-c 4] [--returns 10000] [--stations 16] [--crash-returns 1000] [--retour path/to/retour.dll]
                        returns: starts Retour and the limit server on each provider, seeds orders, drives POST /api/v1/returns with C clients
                                 for T seconds, then the limit endpoint the same way, and prints requests/s, p50/p95/p99 latency, errors and the ratio.
                        portal:  starts Retour with the demo shop, and --portal-c shoppers each find an order and load its returnable lines.
                        tracking (PostgreSQL): books --parcels returns with the sandbox, then (a) C clients send signed AfterShip/EasyPost
                                 webhooks, one new event each, against the limit server's one INSERT per request of the same body; (b) --batch-c
                                 senders post signed batches of 500 events, against a raw batched INSERT … ON CONFLICT DO NOTHING of the same rows.
                        warehouse (PostgreSQL): --stations receive, inspect and refund --returns returns while the sandbox payment provider
                                 declines, times out and loses answers; then --crash-returns more with Retour killed halfway; then compares the
                                 provider's ledger with Retour's refunds (duplicate refunds must be 0).
                        analytics (PostgreSQL, not in "all"): `retour demo generate --returns N` (--analytics-returns, 1,000,000) timed,
                                 then every dashboard endpoint driven by --analytics-c clients (4) for --analytics-t seconds (10) each,
                                 against the same figures by a direct GROUP BY over the raw tables.
                        scaled (not in "all"): return creation and tracking ingestion (a) and (b), measured alike on each deployment shape of
                                 --shapes (embedded,single,web1,web2): one process on SQLite; one process on PostgreSQL; scripts/cluster.sh's
                                 scaled mode with one and with two web nodes behind nginx (--workers 2 worker nodes, PostgreSQL, RabbitMQ).
                                 Prints each shape's figures, the CPU time of each part per request, and the scaling ratio (web2 ÷ web1).
                        """);
                    Environment.Exit(0);
                    break;
                default: throw new ArgumentException($"Unknown option {args[i]}");
            }
        }
        providers ??= o.PgAdmin is null ? "sqlite" : "both";
        var list = providers == "both" ? new[] { "postgres", "sqlite" } : providers.Split(',');
        if (list.Contains("postgres") && o.PgAdmin is null && !o.ServeLimit && o.AttachUrl is null)
            throw new ArgumentException("--provider postgres needs --pg (an admin connection string); bench/run.sh starts a throwaway server for you.");
        return o with { Providers = list, Provider = providers };
    }

    private static string? RepoRootDir()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Retour.slnx"))) dir = dir.Parent;
        return dir?.FullName;
    }
}
