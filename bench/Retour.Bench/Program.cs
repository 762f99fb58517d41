using Retour.Bench;

// The benchmark: `dotnet run -c Release --project bench/Retour.Bench -- [options]` (see bench/README.md).
// With --serve-limit it is instead the "limit" server: one INSERT per request, the ceiling Retour is compared with.
var options = BenchOptions.Parse(args);
if (options.ServeLimit) return await LimitServer.RunAsync(options);
return await Orchestrator.RunAsync(options);
