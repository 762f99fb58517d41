using System.Diagnostics;

namespace Retour.Bench;

public sealed record LoadResult(string Name, int Concurrency, double Seconds, long Requests, long Errors, double P50, double P95, double P99,
    IReadOnlyDictionary<int, long> Statuses)
{
    public double Rps => Requests / Seconds;
    /// <summary>Requests answered with success per second (errors and connection failures left out).</summary>
    public double GoodRps => (Requests - Errors) / Seconds;
}

/// <summary>
/// The measured window every scenario shares: the workers start at once, <see cref="Measuring"/> is true from the end of
/// the warm-up for the duration, then <see cref="Stopped"/> ends the workers.
/// </summary>
public sealed class LoadWindow
{
    private volatile bool _measuring, _stopped;
    public bool Measuring => _measuring;
    public bool Stopped => _stopped;

    /// <summary>
    /// Runs the workers through warm-up and measurement; returns the measured seconds. <paramref name="onWindow"/> is told
    /// when measurement starts (true) and ends (false), for readings taken over the same window (CPU time).
    /// </summary>
    public async Task<double> RunAsync(int concurrency, Func<int, Task> worker, TimeSpan warmup, TimeSpan duration, Action<bool>? onWindow = null)
    {
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(() => worker(w))).ToArray();
        try
        {
            await Task.Delay(warmup);
            onWindow?.Invoke(true);
            _measuring = true;
            var clock = Stopwatch.StartNew();
            await Task.Delay(duration);
            _measuring = false;
            var seconds = clock.Elapsed.TotalSeconds;
            onWindow?.Invoke(false);
            return seconds;
        }
        finally
        {
            // Whatever happens to a reading, the clients stop.
            _measuring = false;
            _stopped = true;
            await Task.WhenAll(workers);
        }
    }
}

/// <summary>C closed-loop clients sending requests as fast as answers come back, for T seconds after a warm-up.</summary>
public static class LoadRunner
{
    public static async Task<LoadResult> RunAsync(string name, HttpClient client, int concurrency, TimeSpan warmup, TimeSpan duration,
        Func<long, HttpRequestMessage> request, Func<int, bool>? isSuccess = null, Action<int>? onStatus = null, Action<bool>? onWindow = null)
    {
        isSuccess ??= s => s is >= 200 and < 300;
        long sequence = 0;
        var window = new LoadWindow();
        var latencies = new List<double>[concurrency];
        var statuses = new Dictionary<int, long>[concurrency];
        var errors = new long[concurrency];

        async Task Worker(int w)
        {
            latencies[w] = new List<double>(100_000);
            statuses[w] = [];
            while (!window.Stopped)
            {
                var n = Interlocked.Increment(ref sequence);
                var started = Stopwatch.GetTimestamp();
                int status;
                try
                {
                    using var req = request(n);
                    using var res = await client.SendAsync(req, HttpCompletionOption.ResponseContentRead);
                    status = (int)res.StatusCode;
                }
                catch (Exception) { status = 0; }
                onStatus?.Invoke(status);
                if (!window.Measuring) continue;
                latencies[w].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                statuses[w][status] = statuses[w].GetValueOrDefault(status) + 1;
                if (!isSuccess(status)) errors[w]++;
            }
        }

        var seconds = await window.RunAsync(concurrency, Worker, warmup, duration, onWindow);

        return Summarise(name, concurrency, seconds, latencies, statuses, errors);
    }

    /// <summary>Percentiles, counts per status and errors from each client's own lists (clients record without locks).</summary>
    public static LoadResult Summarise(string name, int concurrency, double seconds, IEnumerable<List<double>> latencies,
        IEnumerable<Dictionary<int, long>> statuses, IEnumerable<long> errors)
    {
        var all = latencies.SelectMany(l => l).Order().ToArray();
        double P(double q) => all.Length == 0 ? double.NaN : all[Math.Min(all.Length - 1, (int)Math.Ceiling(q * all.Length) - 1)];
        var byStatus = statuses.SelectMany(s => s).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
        return new LoadResult(name, concurrency, seconds, all.Length, errors.Sum(), P(0.50), P(0.95), P(0.99), byStatus);
    }
}
