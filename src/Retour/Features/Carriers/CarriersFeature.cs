using Retour.Infrastructure.Outbox;

namespace Retour.Features.Carriers;

public static class CarriersFeature
{
    public static IServiceCollection AddCarriers(this IServiceCollection s) => s
        .AddSingleton<TrackingMaps>()
        .AddSingleton<TrackingIngest>()
        .AddSingleton<TrackingBatcher>()
        .AddSingleton<ICarrierAdapter, SandboxCarrier>()
        .AddSingleton<CarrierAdapters>()
        .AddSingleton<CarrierCalls>()
        .AddSingleton<CarrierStats>()
        .AddSingleton<CarrierWorker>()
        .AddHostedService<CarrierWorkerHost>()
        .AddSingleton<IOutboxHandler, ShipmentBooking>()
        .AddSingleton<IOutboxHandler, ShipmentCancellation>()
        .AddSingleton<PickupRecoveryFlow>()
        .AddSingleton<IOutboxHandler, PickupRebooking>();

    public static void MapCarriers(this WebApplication app, RouteGroupBuilder api)
    {
        CarrierEndpoints.Map(api);
        TrackingWebhook.Map(api);
        NdrEndpoints.Map(api);
    }
}
