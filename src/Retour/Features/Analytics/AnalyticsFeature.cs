using Retour.Infrastructure.Outbox;

namespace Retour.Features.Analytics;

public static class AnalyticsFeature
{
    public static IServiceCollection AddAnalytics(this IServiceCollection s) => s
        .AddSingleton<FactLoader>()
        .AddSingleton<AnalyticsWorker>()
        .AddHostedService(sp => sp.GetRequiredService<AnalyticsWorker>())
        .AddScoped<AnalyticsQueries>()
        .AddSingleton<IOutboxHandler, AnalyticsOnEvents>();

    public static void MapAnalytics(this WebApplication app, RouteGroupBuilder api) => AnalyticsEndpoints.Map(api);
}
