using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Retour.Bench;

/// <summary>
/// The portal scenario: C shoppers, each in a loop opening the demo shop's portal (GET /r/demo, which sets the antiforgery
/// cookie), finding an order by number and email (POST /r/demo, a 302 with the session cookie), then loading the order's
/// returnable lines (GET /r/demo/items). Each shopper keeps its own cookies, as a browser does, and starts afresh each time.
/// </summary>
public static partial class PortalLoad
{
    public sealed record Result(LoadResult Form, LoadResult Lookup, LoadResult Items, LoadResult LookupAndItems);

    [GeneratedRegex("name=\"__rt\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();

    /// <summary>The demo shop's delivered orders with an email, read through the API (number, email).</summary>
    public static async Task<List<(string Number, string Email)>> DemoOrdersAsync(HttpClient api)
    {
        var list = new List<(string, string)>();
        string? cursor = null;
        do
        {
            var page = JsonNode.Parse(await api.GetStringAsync("/api/v1/orders?limit=200" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor))))!;
            foreach (var o in page["data"]!.AsArray())
                if (o!["delivered_at"] is not null && o["cancelled_at"] is null && o["customer"]?["email"]?.GetValue<string>() is { } email)
                    list.Add((o["number"]!.GetValue<string>(), email));
            cursor = page["has_more"]!.GetValue<bool>() ? page["next_cursor"]!.GetValue<string>() : null;
        } while (cursor is not null);
        return list;
    }

    public static async Task<Result> RunAsync(string baseUrl, string slug, IReadOnlyList<(string Number, string Email)> orders, int concurrency,
        TimeSpan warmup, TimeSpan duration)
    {
        var window = new LoadWindow();
        var steps = new[] { "GET /r/{slug} (form)", "POST /r/{slug} (lookup)", "GET /r/{slug}/items", "lookup + lines" };
        var latencies = Enumerable.Range(0, 4).Select(_ => new List<double>[concurrency]).ToArray();
        var statuses = Enumerable.Range(0, 4).Select(_ => new Dictionary<int, long>[concurrency]).ToArray();
        var errors = Enumerable.Range(0, 4).Select(_ => new long[concurrency]).ToArray();
        long sequence = 0;

        async Task Shopper(int w)
        {
            for (var s = 0; s < 4; s++) { latencies[s][w] = new List<double>(50_000); statuses[s][w] = []; }
            using var handler = new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
            using var client = new HttpClient(handler) { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
            client.DefaultRequestHeaders.AcceptLanguage.ParseAdd("de-DE,de;q=0.9,en;q=0.5");
            while (!window.Stopped)
            {
                var (number, email) = orders[(int)(Interlocked.Increment(ref sequence) % orders.Count)];
                var cookies = new Dictionary<string, string>();
                var measure = window.Measuring;

                void Record(int step, long started, int status, int expected)
                {
                    latencies[step][w].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    statuses[step][w][status] = statuses[step][w].GetValueOrDefault(status) + 1;
                    if (status != expected) errors[step][w]++;
                }

                async Task<(int Status, string Body, string? Location)> Send(int step, HttpRequestMessage req, int expected)
                {
                    if (cookies.Count > 0) req.Headers.Add("Cookie", string.Join("; ", cookies.Select(c => $"{c.Key}={c.Value}")));
                    var started = Stopwatch.GetTimestamp();
                    int status; string body = ""; string? location = null;
                    try
                    {
                        using var res = await client.SendAsync(req, HttpCompletionOption.ResponseContentRead);
                        body = await res.Content.ReadAsStringAsync();
                        status = (int)res.StatusCode;
                        location = res.Headers.Location?.ToString();
                        if (res.Headers.TryGetValues("Set-Cookie", out var set))
                            foreach (var c in set) { var pair = c.Split(';')[0].Split('=', 2); cookies[pair[0]] = pair[1]; }
                    }
                    catch (Exception) { status = 0; }
                    if (measure) Record(step, started, status, expected);
                    return (status, body, location);
                }

                var form = await Send(0, new HttpRequestMessage(HttpMethod.Get, $"/r/{slug}"), 200);
                var token = TokenPattern().Match(form.Body);
                if (!token.Success) continue;
                var started = Stopwatch.GetTimestamp();
                var lookup = await Send(1, new HttpRequestMessage(HttpMethod.Post, $"/r/{slug}")
                {
                    Content = new FormUrlEncodedContent([new("__rt", token.Groups[1].Value), new("order_number", number), new("contact", email)]),
                }, 302);
                if (lookup.Location != $"/r/{slug}/items") continue;
                var items = await Send(2, new HttpRequestMessage(HttpMethod.Get, lookup.Location), 200);
                if (measure) Record(3, started, items.Status, 200);
            }
        }

        var seconds = await window.RunAsync(concurrency, Shopper, warmup, duration);

        LoadResult Summary(int s) => LoadRunner.Summarise(steps[s].Replace("{slug}", slug), concurrency, seconds, latencies[s], statuses[s], errors[s]);
        return new Result(Summary(0), Summary(1), Summary(2), Summary(3));
    }
}
