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
    }

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
