using Microsoft.EntityFrameworkCore;
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
        services.AddScoped<TenantContext>();
        services.AddDbContext<RetourDb>((sp, o) => UseProvider(o, sp.GetRequiredService<RetourSettings>()),
            optionsLifetime: ServiceLifetime.Singleton);
        return services;
    }

    public static void UseProvider(DbContextOptionsBuilder o, RetourSettings s)
    {
        if (s.Provider == DbProvider.Postgres) o.UseNpgsql(s.ConnectionString);
        else o.UseSqlite(s.ConnectionString);
    }
}
