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

    public static IHealthChecksBuilder AddRetourHealth(this IServiceCollection services) => services.AddHealthChecks()
        .AddCheck<DbHealthCheck>("database", tags: [Ready])
        .AddCheck<SchemaHealthCheck>("schema", tags: [Ready])
        .AddCheck<StoppingHealthCheck>("lifecycle", tags: [Ready]);

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

/// <summary>The database's schema version is the one this build needs (a node on an older schema must not take traffic).</summary>
public sealed class SchemaHealthCheck(Migrator migrator, RetourSettings settings) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        var need = Migrator.LatestVersion(settings.Provider);
        var have = await migrator.CurrentVersionAsync(ct);
        return have == need ? HealthCheckResult.Healthy($"schema version {have}")
            : HealthCheckResult.Unhealthy(have < need ? $"schema version {have}; this build needs {need} (run `retour migrate`)"
                : $"schema version {have} is newer than this build's {need}: upgrade this node");
    }
}

/// <summary>Not ready once shutdown has begun, so a load balancer stops sending requests while the node drains.</summary>
public sealed class StoppingHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Unhealthy("shutting down") : HealthCheckResult.Healthy("running"));
}
