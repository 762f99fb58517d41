using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Retour.Infrastructure;

/// <summary>
/// Observability (ADR 28): structured JSON logs with a correlation id per request, and OpenTelemetry traces and metrics
/// sent over OTLP when an endpoint is configured.
/// <list type="bullet">
/// <item><c>RETOUR_LOG_FORMAT=json</c>: one JSON object per log line (time, level, category, message, and the scopes:
/// correlation id, trace and span ids, role and instance).</item>
/// <item><c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (with <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> <c>grpc</c> or <c>http/protobuf</c>):
/// traces (ASP.NET Core requests, outgoing HTTP, each outbox delivery) and metrics (ASP.NET Core, Kestrel, outgoing HTTP,
/// Retour's counters) go there. Without it nothing is collected.</item>
/// </list>
/// </summary>
public static partial class Telemetry
{
    public const string Name = "Retour";
    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    /// <summary>Events delivered to a handler by the outbox (tag: type).</summary>
    public static readonly Counter<long> OutboxDelivered = Meter.CreateCounter<long>("retour.outbox.delivered", "{message}", "Outbox messages delivered to their handlers");
    /// <summary>Deliveries that failed and will be retried (or are dead, tag: dead).</summary>
    public static readonly Counter<long> OutboxFailed = Meter.CreateCounter<long>("retour.outbox.failed", "{message}", "Outbox deliveries that failed");
    /// <summary>Seconds from an event's commit to its delivery.</summary>
    public static readonly Histogram<double> OutboxLag = Meter.CreateHistogram<double>("retour.outbox.lag", "s", "Time from an event's commit to its delivery");

    public const string CorrelationHeader = "X-Correlation-Id";

    public static WebApplicationBuilder AddRetourTelemetry(this WebApplicationBuilder builder)
    {
        var c = builder.Configuration;
        var role = RetourSettings.RoleOf(c).ToString().ToLowerInvariant();
        if (RetourSettings.JsonLogsOf(c))
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(o =>
            {
                o.IncludeScopes = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        }
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);

        var endpoint = c["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (string.IsNullOrWhiteSpace(endpoint)) return builder;
        if (!Uri.TryCreate(endpoint.Trim(), UriKind.Absolute, out var baseUri))
            throw new InvalidOperationException($"OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute URL such as http://127.0.0.1:4318, not '{endpoint}'.");
        var protocol = (c["OTEL_EXPORTER_OTLP_PROTOCOL"] ?? "grpc").Trim().ToLowerInvariant() switch
        {
            "grpc" => OtlpExportProtocol.Grpc,
            "http/protobuf" => OtlpExportProtocol.HttpProtobuf,
            var other => throw new InvalidOperationException($"OTEL_EXPORTER_OTLP_PROTOCOL must be 'grpc' or 'http/protobuf', not '{other}'."),
        };
        var metricMs = int.TryParse(c["OTEL_METRIC_EXPORT_INTERVAL"], out var mi) && mi is >= 100 and <= 3_600_000 ? mi : 60_000;
        var traceMs = int.TryParse(c["OTEL_BSP_SCHEDULE_DELAY"], out var bi) && bi is >= 10 and <= 600_000 ? bi : 5_000;
        // Set in code, the HTTP endpoint is taken as it is: each signal gets its own path, as the environment variable would.
        Uri For(string signal) => protocol == OtlpExportProtocol.HttpProtobuf ? new Uri(baseUri, baseUri.AbsolutePath.TrimEnd('/') + "/v1/" + signal) : baseUri;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(c["OTEL_SERVICE_NAME"] ?? "retour", serviceInstanceId: Health.Instance)
                .AddAttributes([new("retour.role", role)]))
            .WithTracing(t => t
                // Database commands (Npgsql) and outgoing calls inside a request or an outbox delivery; the background
                // loops' polling (a query a second each, outside any trace) would bury the rest: see WithParent.
                .AddSource(Name, "Npgsql")
                .SetSampler(new WithParent())
                .AddAspNetCoreInstrumentation(o =>
                {
                    o.Filter = http => !http.Request.Path.StartsWithSegments("/health");
                    // An invitation's path is its secret: the span names the route, not the token.
                    o.EnrichWithHttpRequest = (activity, request) =>
                    {
                        if (request.Path.StartsWithSegments("/console/invite")) activity.SetTag("url.path", "/console/invite/{token}");
                    };
                })
                // Outgoing URLs (webhook endpoints, carrier and payment APIs) may hold secrets in their paths: only scheme and host.
                .AddHttpClientInstrumentation(o => o.EnrichWithHttpRequestMessage = (activity, request) =>
                {
                    if (request.RequestUri is { } u) activity.SetTag("url.full", u.GetLeftPart(UriPartial.Authority) + "/");
                })
                // Named options: unnamed, the traces' and the metrics' exporters would share one endpoint (the last set).
                .AddOtlpExporter("traces", o =>
                {
                    o.Endpoint = For("traces");
                    o.Protocol = protocol;
                    o.BatchExportProcessorOptions.ScheduledDelayMilliseconds = traceMs;
                }))
            .WithMetrics(m => m
                // .NET's own meters: requests served (http.server.*), Kestrel's connections, calls made (http.client.*).
                .AddMeter(Name, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http")
                .AddOtlpExporter("metrics", (o, reader) =>
                {
                    o.Endpoint = For("metrics");
                    o.Protocol = protocol;
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = metricMs;
                }));
        return builder;
    }

    /// <summary>
    /// Every request gets a correlation id: the caller's <c>X-Correlation-Id</c> when it is a sane token, else the trace
    /// id. It is sent back (on every response, errors included), named in problem details (<c>correlation_id</c>, beside
    /// the <c>trace_id</c> this process chose), on the request's trace, and in every log line the request writes.
    /// </summary>
    public static WebApplication UseCorrelation(this WebApplication app)
    {
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Retour.Requests");
        var process = ProcessScope(app.Services.GetRequiredService<RetourSettings>());
        app.Use(async (http, next) =>
        {
            var given = http.Request.Headers[CorrelationHeader].ToString();
            var id = SaneId().IsMatch(given) ? given : TraceId(http);
            http.Items[CorrelationHeader] = id;
            // OnStarting: the exception handler clears the response's headers before it writes the problem.
            http.Response.OnStarting(() => { http.Response.Headers[CorrelationHeader] = id; return Task.CompletedTask; });
            Activity.Current?.SetTag("retour.correlation_id", id);
            // One scope per request: the correlation id, and the process's role and instance.
            using (log.BeginScope(new Dictionary<string, object>(process) { ["correlation_id"] = id }))
                await next(http);
        });
        return app;
    }

    /// <summary>This process's id for the request: the W3C trace id when there is a trace, else ASP.NET's request id.</summary>
    public static string TraceId(HttpContext http) => Activity.Current?.TraceId.ToHexString() ?? http.TraceIdentifier;

    /// <summary>The request's correlation id (see <see cref="UseCorrelation"/>).</summary>
    public static string CorrelationId(HttpContext http) => http.Items[CorrelationHeader] as string ?? TraceId(http);

    /// <summary>A logging scope naming this process, for work done outside a request (workers, the outbox relay).</summary>
    public static Dictionary<string, object> ProcessScope(RetourSettings settings) =>
        new() { ["role"] = settings.Role.ToString().ToLowerInvariant(), ["instance"] = Health.Instance };

    [GeneratedRegex(@"^[A-Za-z0-9._:-]{1,100}\z")]
    private static partial Regex SaneId();

    /// <summary>
    /// Samples every span except a client span with no parent: a database query or an outgoing call made outside any
    /// request or outbox delivery (the polling loops). Inside a trace, everything is kept.
    /// </summary>
    public sealed class WithParent : Sampler
    {
        public override SamplingResult ShouldSample(in SamplingParameters p) =>
            p.ParentContext.TraceId == default && p.Kind == ActivityKind.Client
                ? new SamplingResult(SamplingDecision.Drop)
                : new SamplingResult(SamplingDecision.RecordAndSample);
    }
}
