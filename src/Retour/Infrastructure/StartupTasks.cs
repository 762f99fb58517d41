using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Retour.Features.Demo;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Outbox;

namespace Retour.Infrastructure;

/// <summary>Before the server listens: migrate the schema, seed the demo; once it listens, print where to find it.</summary>
public sealed class StartupTasks(
    RetourSettings settings, Migrator migrator, DemoSeeder demo, IHostApplicationLifetime lifetime, IServer server,
    Microsoft.AspNetCore.DataProtection.IDataProtectionProvider protection, ILogger<StartupTasks> log) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        if (settings.MigrateOnStart)
        {
            var ran = await migrator.MigrateAsync(ct: ct);
            if (ran > 0) log.LogInformation("Applied {Count} schema version(s)", ran);
        }
        // The signing key ring is made (and stored) now, not by the first link signed inside a tracking transaction, which
        // on SQLite would wait on its own write lock.
        if (settings.MigrateOnStart || settings.SeedDemo)
            Microsoft.AspNetCore.DataProtection.DataProtectionCommonExtensions.Protect(protection.CreateProtector("Retour.Startup"), "ready");
        var keys = settings.SeedDemo ? await demo.EnsureAsync(ct) : null;
        lifetime.ApplicationStarted.Register(() => PrintBanner(keys));
    }

    private void PrintBanner(DemoKeys? keys)
    {
        var url = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? settings.Urls;
        if (settings.JsonLogs)
        {
            // Standard output carries only JSON lines, and no secret (the demo key and password go to the text banner only).
            log.LogInformation("Retour is running on {Url} in the {Role} role ({Provider}); demo merchant: {Demo}", url,
                settings.Role.ToString().ToLowerInvariant(), settings.Provider, keys is null ? "none" : "demo");
            return;
        }
        Console.WriteLine();
        // The connection string may hold a password; only SQLite's (a file path) is shown.
        Console.WriteLine($"  Retour is running on {url} ({settings.Provider}{(settings.Provider == DbProvider.Sqlite ? ", " + settings.ConnectionString : "")})");
        Console.WriteLine($"  OpenAPI:             {url}/openapi/v1.json    health: {url}/health");
        if (keys is not null)
        {
            Console.WriteLine($"  Demo merchant:       demo{(keys.Created ? " (seeded now)" : "")}   public policy: {url}/r/demo/policy");
            Console.WriteLine($"  Returns portal:      {url}/r/demo   (try order D1200 with its email, shown by GET /api/v1/orders/D1200)");
            Console.WriteLine($"  Demo API key:        {keys.ApiKey}");
            Console.WriteLine($"  Staff console:       {url}/console/login   admin@demo.test, agent@demo.test, warehouse@demo.test, analyst@demo.test");
            Console.WriteLine($"  Staff password:      {keys.StaffPassword}");
            Console.WriteLine($"  Shopify secret:      {keys.ShopifySecret}   (shop domain {DemoSeeder.ShopDomain})");
            Console.WriteLine($"  Try:                 curl -H \"Authorization: Bearer {keys.ApiKey}\" {url}/api/v1/orders/D1200/returnability");
        }
        else Console.WriteLine("  Create a merchant:   retour merchant create --slug acme --name \"Acme\"");
        Console.WriteLine();
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

/// <summary>Runs the in-process outbox relay unless RETOUR_OUTBOX_RELAY=false (scaled mode moves it to workers).</summary>
public sealed class OutboxRelayHost(OutboxRelay relay, RetourSettings settings) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stop) =>
        settings.RunOutboxRelay ? relay.RunAsync(stop) : Task.CompletedTask;
}

/// <summary>
/// Hourly: forget idempotency keys after 24 h, delivered outbox messages after 7 days, expired portal sessions (and the
/// photos of sessions that never became a return), and lookup failures older than the lookup window.
/// </summary>
public sealed class Housekeeping(IServiceScopeFactory scopes, RetourSettings settings, TimeProvider clock, ILogger<Housekeeping> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        if (!settings.RunOutboxRelay) return; // background work: not in the web role
        using var processScope = log.BeginScope(Telemetry.ProcessScope(settings));
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1), clock);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
                var now = clock.GetUtcNow();
                var keysBefore = now - Http.IdempotencyMiddleware.Retention;
                var outboxBefore = now.AddDays(-7);
                await db.IdempotencyRecords.IgnoreQueryFilters().Where(r => r.CreatedAt < keysBefore).ExecuteDeleteAsync(stop);
                await db.OutboxMessages.Where(m => m.ProcessedAt != null && m.ProcessedAt < outboxBefore).ExecuteDeleteAsync(stop);
                var expired = db.PortalSessions.IgnoreQueryFilters().Where(x => x.ExpiresAt < now).Select(x => (Guid?)x.Id);
                await db.Photos.IgnoreQueryFilters().Where(p => p.ReturnId == null && expired.Contains(p.SessionId)).ExecuteDeleteAsync(stop);
                await db.PortalSessions.IgnoreQueryFilters().Where(x => x.ExpiresAt < now).ExecuteDeleteAsync(stop);
                var lookupsBefore = now - Features.Portal.Pages.LookupModel.Window;
                await db.LookupFailures.Where(f => f.At < lookupsBefore).ExecuteDeleteAsync(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception e) { log.LogWarning(e, "Housekeeping failed; trying again in an hour"); }
        } while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false));
    }
}

public sealed class DbHealthCheck(RetourDb db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        await db.Database.CanConnectAsync(ct) ? HealthCheckResult.Healthy("database reachable") : HealthCheckResult.Unhealthy("database unreachable");
}
