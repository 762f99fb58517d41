namespace Retour.Features.Warehouses;

public static class WarehouseFeature
{
    public static void MapWarehouse(this WebApplication app, RouteGroupBuilder api)
    {
        WarehouseRulesEndpoints.Map(api);
        ReceiveParcel.Map(api);
        InspectReturn.Map(api);
        InspectionPhotos.Map(api);
        ConfirmDispositions.Map(api);
        RtvBatches.Map(api);
    }
}
