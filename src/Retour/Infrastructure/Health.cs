using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Retour.Infrastructure.Db;

namespace Retour.Infrastructure;

/// <summary>
/// Liveness and readiness, as a load balancer or an orchestrator asks for them:
/// <list type="bullet">
/// <item><c>/health/live</c>: the process answers (no dependency is checked, so a database outage does not get every node restarted).</item>
/// <item><c>/health/ready</c>: this node can do its work: the database answers, its schema is the one this build needs, and the
/// node is not shutting down. 503 otherwise, with the failing check named.</item>
/// <item><c>/health</c>: the readiness checks as one word (Healthy, Unhealthy), as before.</item>
/// </list>
/// Both JSON answers name the node's role and instance, so a cluster's status can be read from them.
/// </summary>
public static class Health
{
    public const string Ready = "ready";

    /// <summary>A check that takes longer fails: a probe must not hang on a database that does not answer.</summary>
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(3);

    public static IServiceCollection AddRetourHealth(this IServiceCollection services)
    {
        services.AddSingleton<SchemaHealthCheck>();
        services.AddHostedService<ShutdownDelay>();
        services.AddHealthChecks()
            .AddCheck<DbHealthCheck>("database", tags: [Ready], timeout: CheckTimeout)
            .AddCheck<SchemaHealthCheck>("schema", tags: [Ready], timeout: CheckTimeout)
            .AddCheck<StoppingHealthCheck>("lifecycle", tags: [Ready]);
        // Nodes that publish and consume (scaled mode's workers, or one node doing everything) need RabbitMQ too; the
        // settings are read when the checks are first built, after the host's configuration is complete.
        services.AddOptions<HealthCheckServiceOptions>().Configure<RetourSettings>((o, settings) =>
        {
            if (settings.RabbitMqUrl is not null && settings.RunOutboxRelay)
                o.Registrations.Add(new HealthCheckRegistration("broker", sp => ActivatorUtilities.CreateInstance<Outbox.BrokerHealthCheck>(sp),
                    failureStatus: null, tags: [Ready], timeout: CheckTimeout));
        });
        return services;
    }

    public static void MapRetourHealth(this WebApplication app)
    {
        app.MapHealthChecks("/health", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready) }).AllowAnonymous();
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready), ResponseWriter = WriteAsync }).AllowAnonymous();
    }

    /// <summary>This process, as the health answers and the logs name it.</summary>
    public static string Instance { get; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    private static Task WriteAsync(HttpContext http, HealthReport report)
    {
        var settings = http.RequestServices.GetRequiredService<RetourSettings>();
        http.Response.ContentType = "application/json";
        http.Response.Headers.CacheControl = "no-store";
        return JsonSerializer.SerializeAsync(http.Response.Body, new
        {
            status = Word(report.Status),
            role = settings.Role.ToString().ToLowerInvariant(),
            instance = Instance,
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = Word(e.Value.Status), description = e.Value.Description }),
        }, Http.Json.Options, http.RequestAborted);
    }

    private static string Word(HealthStatus s) => s switch { HealthStatus.Healthy => "healthy", HealthStatus.Degraded => "degraded", _ => "unhealthy" };
}

/// <summary>
/// The database's schema version is the one this build needs (a node on an older schema must not take traffic). A
/// healthy answer is kept for 30 s, so probes do not open a connection each. A database newer than the build is
/// "degraded" (still 200): during a rolling upgrade the old nodes keep serving until they are replaced. Errors are
/// logged, and the answer names no host or credential.
/// </summary>
public sealed class SchemaHealthCheck(Migrator migrator, RetourSettings settings, TimeProvider clock, ILogger<SchemaHealthCheck> log) : IHealthCheck
{
    private static readonly TimeSpan KeepHealthy = TimeSpan.FromSeconds(30);
    private readonly int _need = Migrator.LatestVersion(settings.Provider);
    private sealed record Cached(DateTimeOffset At, HealthCheckResult Result);
    private volatile Cached? _last;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        if (_last is { } last && clock.GetUtcNow() - last.At < KeepHealthy) return last.Result;
        int have;
        try { have = await migrator.CurrentVersionAsync(ct); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning(e, "Readiness: the schema version could not be read");
            return HealthCheckResult.Unhealthy("the schema version could not be read");
        }
        var result = have == _need ? HealthCheckResult.Healthy($"schema version {have}")
            : have > _need ? HealthCheckResult.Degraded($"schema version {have} is newer than this build's {_need}: upgrade this node")
            : HealthCheckResult.Unhealthy($"schema version {have}; this build needs {_need} (run `retour migrate`)");
        _last = result.Status == HealthStatus.Healthy ? new Cached(clock.GetUtcNow(), result) : null;
        return result;
    }
}

/// <summary>
/// RETOUR_SHUTDOWN_DELAY_MS: on a stop signal, readiness turns 503 at once while the node keeps serving this long, so a
/// load balancer takes it out of rotation before it closes its listener (0, the default, stops at once).
/// </summary>
public sealed class ShutdownDelay(RetourSettings settings) : IHostedLifecycleService
{
    public Task StoppingAsync(CancellationToken ct) => settings.ShutdownDelay > TimeSpan.Zero ? Task.Delay(settings.ShutdownDelay, ct) : Task.CompletedTask;
    public Task StartingAsync(CancellationToken ct) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken ct) => Task.CompletedTask;
    public Task StartAsync(CancellationToken ct) => Task.CompletedTask;
    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>Not ready once shutdown has begun, so a load balancer stops sending requests while the node drains.</summary>
public sealed class StoppingHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("shutting down") : HealthCheckResult.Healthy("running"));
}
