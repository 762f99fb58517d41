using Retour.Infrastructure.Outbox;

namespace Retour.Features.Carriers;

public static class CarriersFeature
{
    public static IServiceCollection AddCarriers(this IServiceCollection s) => s
        .AddSingleton<TrackingMaps>()
        .AddSingleton<TrackingIngest>()
        .AddSingleton<IOutboxHandler, ShipmentBooking>();

    public static void MapCarriers(this WebApplication app, RouteGroupBuilder api)
    {
        CarrierEndpoints.Map(api);
        TrackingWebhook.Map(api);
    }
}
