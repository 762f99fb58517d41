namespace Retour.Features.Orders;

public static class OrdersFeature
{
    public static void MapOrders(this WebApplication app, RouteGroupBuilder api)
    {
        CreateOrder.Map(api);
        ReadOrders.Map(api);
        ShopifyWebhook.Map(api);
    }
}
