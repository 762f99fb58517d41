using System.Collections.Concurrent;
using System.Net;
using System.Text;
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
    }) { }
}

public sealed class TelemetryTests(OtlpApp app) : IClassFixture<OtlpApp>
{
    [Fact]
    public async Task EveryRequest_HasACorrelationId_InTheHeader_AndInItsProblem()
    {
        var m = await app.NewMerchantAsync();
        using (var req = new HttpRequestMessage(HttpMethod.Get, "/api/v1/returns/NOPE-1"))
        {
            req.Headers.Add("X-Correlation-Id", "order-sync-42");
            var res = await m.Client.SendAsync(req);
            Assert.Equal(HttpStatusCode.NotFound, res.StatusCode);
            Assert.Equal("order-sync-42", res.Headers.GetValues("X-Correlation-Id").Single());
            var body = await res.Content.ReadAsStringAsync();
            Assert.True(body.Contains("\"trace_id\":\"order-sync-42\"", StringComparison.Ordinal), body);
        }
        // None given, or one that is not a sane token: the trace id (32 hex digits) stands in.
        using (var req = new HttpRequestMessage(HttpMethod.Get, "/api/v1/returns/NOPE-1"))
        {
            req.Headers.Add("X-Correlation-Id", "<script>");
            var res = await m.Client.SendAsync(req);
            var id = res.Headers.GetValues("X-Correlation-Id").Single();
            Assert.Matches("^[0-9a-f]{32}$", id);
            Assert.Contains($"\"trace_id\":\"{id}\"", await res.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task TracesAndMetrics_ReachTheOtlpEndpoint()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("OT-1"))).Expect(HttpStatusCode.Created);
        var r = OtlpApp.Receiver;
        for (var i = 0; i < 100 && !(r.Saw("/v1/traces", "/api/v1/orders") && r.Saw("/v1/metrics", "retour.outbox.delivered")); i++)
            await Task.Delay(200);
        Assert.True(r.Saw("/v1/traces", "/api/v1/orders"), $"no trace of the request; received {string.Join(", ", r.Received.Select(x => x.Path))}");
        Assert.True(r.Saw("/v1/traces", "retour"), "no service name on the traces");
        Assert.True(r.Saw("/v1/traces", "outbox order.created"), "no span for the outbox delivery");
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
            ["RETOUR_LOG_FORMAT"] = "json", ["Logging__LogLevel__Default"] = "Warning", ["Logging__LogLevel__Microsoft.AspNetCore.Routing"] = "Information",
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
            var scope = doc.RootElement.GetProperty("Scopes").EnumerateArray().First(x => x.TryGetProperty("correlation_id", out _));
            Assert.Equal("json-log-1", scope.GetProperty("correlation_id").GetString());
            Assert.Equal("web", scope.GetProperty("role").GetString());
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
