using Microsoft.EntityFrameworkCore;
using Npgsql;
using Retour.Infrastructure.Outbox;

namespace Retour.Infrastructure.Db;

public static class DbSetup
{
    /// <summary>
    /// Settings are read from configuration when first needed, not at registration, so a host's final configuration
    /// (including a test host's overrides) decides the provider and connection string.
    /// </summary>
    public static IServiceCollection AddRetourDb(this IServiceCollection services)
    {
        services.AddSingleton(sp => RetourSettings.From(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<Migrator>();
        services.AddSingleton<PostgresSource>();
        services.AddScoped<TenantContext>();
        services.AddDbContext<RetourDb>((sp, o) => UseProvider(o, sp.GetRequiredService<RetourSettings>()),
            optionsLifetime: ServiceLifetime.Singleton);
        return services;
    }

    public static void UseProvider(DbContextOptionsBuilder o, RetourSettings s)
    {
        if (s.Provider == DbProvider.Postgres) o.UseNpgsql(PostgresConnectionString(s.ConnectionString));
        else o.UseSqlite(s.ConnectionString);
        o.ConfigureWarnings(w => w.Log(QuietDatabaseErrors));
    }

    /// <summary>
    /// EF Core logs every failed command, save, query, connection and transaction as an error, before Retour's code sees the exception.
    /// Most of them are expected: a unique index settles a race (two workers claiming one refund, one idempotency key
    /// sent twice) and the loser retries or answers 409, and a database restart is answered with 503 and a warning.
    /// Retour's own code logs each failure it does not expect, once and with the request or message it belongs to
    /// (the exception handler, the outbox, the polling loops), so EF's copies are written at Debug only (ADR 31).
    /// </summary>
    private static readonly (Microsoft.Extensions.Logging.EventId, LogLevel)[] QuietDatabaseErrors =
    [
        (Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.CommandError, LogLevel.Debug),
        (Microsoft.EntityFrameworkCore.Diagnostics.CoreEventId.SaveChangesFailed, LogLevel.Debug),
        (Microsoft.EntityFrameworkCore.Diagnostics.CoreEventId.QueryIterationFailed, LogLevel.Debug),
        (Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.ConnectionError, LogLevel.Debug),
        (Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.TransactionError, LogLevel.Debug),
    ];

    /// <summary>
    /// Retour's defaults for PostgreSQL, unless the connection string sets them: statements are prepared automatically
    /// after their second use (planning every statement anew costs more than running it), and pooled connections are
    /// not reset on return (Retour keeps no session state), so prepared statements survive.
    /// </summary>
    public static string PostgresConnectionString(string connectionString)
    {
        // NpgsqlConnectionStringBuilder.ContainsKey is true for every known keyword; ask what the user actually wrote.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        bool Set(params string[] names) => names.Any(given.ContainsKey);
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Set("Max Auto Prepare", "MaxAutoPrepare")) csb.MaxAutoPrepare = 256;
        if (!Set("Auto Prepare Min Usages", "AutoPrepareMinUsages")) csb.AutoPrepareMinUsages = 2;
        if (!Set("No Reset On Close", "NoResetOnClose")) csb.NoResetOnClose = true;
        return csb.ConnectionString;
    }
}
