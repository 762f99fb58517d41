using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

/// <summary>A local OTLP/HTTP receiver: it keeps each POST's path and body (protobuf, whose strings are plain UTF-8).</summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    public ConcurrentQueue<(string Path, byte[] Body)> Received { get; } = new();
    public string Url { get; }

    public OtlpReceiver()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapPost("/{**path}", async (HttpContext http) =>
        {
            using var ms = new MemoryStream();
            await http.Request.Body.CopyToAsync(ms);
            Received.Enqueue((http.Request.Path, ms.ToArray()));
            return Results.Bytes(Array.Empty<byte>(), "application/x-protobuf");
        });
        _app.StartAsync().GetAwaiter().GetResult();
        Url = _app.Urls.First();
    }

    public bool Saw(string path, string text) =>
        Received.Any(r => r.Path == path && Encoding.UTF8.GetString(r.Body).Contains(text, StringComparison.Ordinal));

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

public sealed class OtlpApp : RetourApp
{
    public static readonly OtlpReceiver Receiver = new();

    public OtlpApp() : base(null, new Dictionary<string, string?>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Receiver.Url,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        ["OTEL_SERVICE_NAME"] = "retour-otlp-test",
    }) { }
}

/// <summary>
/// The telemetry tests run on their own, after the parallel ones. Every test host creates its own "Microsoft.AspNetCore.Hosting"
/// meter, and OpenTelemetry merges same-named meters into one stream: when another test's host is disposed, its meter's
/// disposal ends that stream for this host's MeterProvider too (open-telemetry/opentelemetry-dotnet#6412), and the ASP.NET Core
/// metrics stop. One process holds one host in production, so only the tests see it.
/// </summary>
[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryCollection;

[Collection(nameof(TelemetryTests))]
public sealed class TelemetryTests(OtlpApp app) : IClassFixture<OtlpApp>
{
    [Fact]
    public async Task EveryRequest_HasACorrelationId_InTheHeader_AndInItsProblem_ErrorsIncluded()
    {
        var m = await app.NewMerchantAsync();
        async Task<(string Header, JsonNode Body)> SendAsync(HttpMethod method, string url, string? id, string? body = null)
        {
            using var req = new HttpRequestMessage(method, url);
            if (id is not null) req.Headers.TryAddWithoutValidation("X-Correlation-Id", id);
            if (body is not null) req.Content = new StringContent(body, Encoding.UTF8, "application/json");
            var res = await m.Client.SendAsync(req);
            var text = await res.Content.ReadAsStringAsync();
            Assert.True(res.Headers.TryGetValues("X-Correlation-Id", out var values), $"{(int)res.StatusCode} without the header: {text}");
            return (values!.Single(), JsonNode.Parse(text)!);
        }
        var (header, problem) = await SendAsync(HttpMethod.Get, "/api/v1/returns/NOPE-1", "order-sync-42");
        Assert.Equal("order-sync-42", header);
        Assert.Equal("order-sync-42", problem.Str("correlation_id"));
        Assert.Matches("^[0-9a-f]{32}$", problem.Str("trace_id")); // this process's own id, whatever the caller says
        // An error raised by the exception handler (malformed JSON) keeps it too.
        (header, problem) = await SendAsync(HttpMethod.Post, "/api/v1/returns", "bad-json-7", "{\"order_number\": ");
        Assert.Equal("malformed_json", problem.Str("code"));
        Assert.Equal("bad-json-7", header);
        Assert.Equal("bad-json-7", problem.Str("correlation_id"));
        // None given, or one that is not a sane token: the trace id (32 hex digits) stands in.
        foreach (var given in new string?[] { null, "<script>", new string('a', 101) })
        {
            (header, problem) = await SendAsync(HttpMethod.Get, "/api/v1/returns/NOPE-1", given);
            Assert.Matches("^[0-9a-f]{32}$", header);
            Assert.Equal(header, problem.Str("correlation_id"));
        }
    }

    [Fact]
    public void TheSampler_DropsOnlyClientSpansOutsideATrace()
    {
        var sampler = new Retour.Infrastructure.Telemetry.WithParent();
        var parent = new System.Diagnostics.ActivityContext(System.Diagnostics.ActivityTraceId.CreateRandom(), System.Diagnostics.ActivitySpanId.CreateRandom(),
            System.Diagnostics.ActivityTraceFlags.Recorded);
        OpenTelemetry.Trace.SamplingDecision Decide(System.Diagnostics.ActivityContext ctx, System.Diagnostics.ActivityKind kind) =>
            sampler.ShouldSample(new OpenTelemetry.Trace.SamplingParameters(ctx, System.Diagnostics.ActivityTraceId.CreateRandom(), "x", kind)).Decision;
        Assert.Equal(OpenTelemetry.Trace.SamplingDecision.Drop, Decide(default, System.Diagnostics.ActivityKind.Client));          // a polling loop's query
        Assert.Equal(OpenTelemetry.Trace.SamplingDecision.RecordAndSample, Decide(default, System.Diagnostics.ActivityKind.Server)); // a request
        Assert.Equal(OpenTelemetry.Trace.SamplingDecision.RecordAndSample, Decide(default, System.Diagnostics.ActivityKind.Consumer)); // an outbox delivery
        Assert.Equal(OpenTelemetry.Trace.SamplingDecision.RecordAndSample, Decide(parent, System.Diagnostics.ActivityKind.Client));  // a query inside one
    }

    [Fact]
    public async Task TracesAndMetrics_ReachTheOtlpEndpoint()
    {
        var m = await app.NewMerchantAsync();
        using (var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/orders"))
        {
            req.Headers.Add("X-Correlation-Id", "otlp-order-" + m.Slug);
            req.Content = JsonContent.Create(Orders.Delivered("OT-1"));
            Assert.Equal(HttpStatusCode.Created, (await m.Client.SendAsync(req)).StatusCode);
        }
        var r = OtlpApp.Receiver;
        var merchant = m.Id.ToString();
        bool Done() => r.Saw("/v1/traces", "otlp-order-" + m.Slug) && r.Saw("/v1/traces", merchant) && r.Saw("/v1/metrics", "retour.outbox.delivered")
            && r.Saw("/v1/metrics", "http.server.request.duration") && (!TestDb.IsPostgres || r.Saw("/v1/traces", "postgresql"));
        for (var i = 0; i < 100 && !Done(); i++) await Task.Delay(200);
        Assert.True(r.Saw("/v1/traces", "otlp-order-" + m.Slug), $"no trace of this request; received {string.Join(", ", r.Received.Select(x => x.Path).Distinct())}");
        Assert.True(r.Saw("/v1/traces", "retour-otlp-test"), "no service name on the traces");
        Assert.True(r.Saw("/v1/traces", merchant), "no span for this merchant's outbox delivery");
        Assert.True(r.Saw("/v1/traces", "outbox order.created"), "no span for the outbox delivery");
        // On PostgreSQL the request's and the delivery's database commands are spans of their traces.
        if (TestDb.IsPostgres) Assert.True(r.Saw("/v1/traces", "postgresql"), "no database spans");
        Assert.True(r.Saw("/v1/metrics", "retour.outbox.delivered"), "no Retour metrics");
        Assert.True(r.Saw("/v1/metrics", "http.server.request.duration"), "no ASP.NET Core metrics");
    }

    [Fact]
    public async Task JsonLogs_AreOneObjectPerLine_WithTheRequestsCorrelationId()
    {
        // The real executable (the console logger writes to its own standard output), in the web role on SQLite.
        var dir = Path.Combine(Path.GetTempPath(), "retour-tests", "jsonlog-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        int port;
        using (var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0)) { l.Start(); port = ((IPEndPoint)l.LocalEndpoint).Port; }
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
        psi.ArgumentList.Add(typeof(Program).Assembly.Location);
        psi.ArgumentList.Add("web");
        foreach (var (k, v) in new Dictionary<string, string>
        {
            ["RETOUR_DB_PROVIDER"] = "sqlite", ["RETOUR_DATA_DIR"] = dir, ["RETOUR_URLS"] = $"http://127.0.0.1:{port}", ["RETOUR_SEED_DEMO"] = "false",
            ["RETOUR_LOG_FORMAT"] = "json", ["RETOUR_PUBLIC_URL"] = "https://returns.example.com", ["Logging__LogLevel__Default"] = "Warning", ["Logging__LogLevel__Microsoft.AspNetCore.Routing"] = "Information",
        }) psi.Environment[k] = v;
        var lines = new ConcurrentQueue<string>();
        using var process = System.Diagnostics.Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var ready = false;
            for (var i = 0; i < 150 && !ready && !process.HasExited; i++)
            {
                try { ready = (await http.GetAsync("/health/ready")).IsSuccessStatusCode; } catch (HttpRequestException) { }
                if (!ready) await Task.Delay(200);
            }
            Assert.True(ready, string.Join("\n", lines));
            using (var req = new HttpRequestMessage(HttpMethod.Get, "/health/live"))
            {
                req.Headers.Add("X-Correlation-Id", "json-log-1");
                Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(req)).StatusCode);
            }
            string? line = null;
            for (var i = 0; i < 50 && line is null; i++)
            {
                line = lines.FirstOrDefault(x => x.Contains("json-log-1", StringComparison.Ordinal));
                if (line is null) await Task.Delay(100);
            }
            Assert.True(line is not null, string.Join("\n", lines));
            using var doc = System.Text.Json.JsonDocument.Parse(line!);
            Assert.Equal("Information", doc.RootElement.GetProperty("LogLevel").GetString());
            var scopes = doc.RootElement.GetProperty("Scopes").EnumerateArray().ToList();
            Assert.Equal("json-log-1", scopes.First(x => x.TryGetProperty("correlation_id", out _)).GetProperty("correlation_id").GetString());
            Assert.Equal("web", scopes.First(x => x.TryGetProperty("role", out _)).GetProperty("role").GetString());
            // Every line the process wrote is a JSON object.
            Assert.All(lines, x => Assert.StartsWith("{", x));
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }
}
