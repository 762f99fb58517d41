namespace Retour.Features.Carriers;

public static class CarriersFeature
{
    public static void MapCarriers(this WebApplication app, RouteGroupBuilder api) => CarrierEndpoints.Map(api);
}
