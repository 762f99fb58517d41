using Retour.Bench;

// The benchmark: `dotnet run -c Release --project bench/Retour.Bench -- [options]` (see bench/README.md).
// With --serve-limit it is instead the "limit" server: one INSERT per request, the ceiling Retour is compared with.
// `chaos …` is scripts/chaos.sh's driver (ChaosLoad): mixed load and faults against a running cluster.
if (args.Length > 0 && args[0] == "chaos")
{
    var rest = args.Skip(1).ToList();
    var own = new List<string>();
    for (var i = 0; i < rest.Count; i++)
        if (rest[i] == "--short") { own.Add(rest[i]); rest.RemoveAt(i--); }
        else if (rest[i] == "--cluster") { own.Add(rest[i]); own.Add(rest[i + 1]); rest.RemoveRange(i--, 2); }
    return await ChaosLoad.RunAsync(ChaosLoad.Parse(BenchOptions.Parse([.. rest]), [.. own]));
}
var options = BenchOptions.Parse(args);
if (options.ServeLimit) return await LimitServer.RunAsync(options);
return await Orchestrator.RunAsync(options);
