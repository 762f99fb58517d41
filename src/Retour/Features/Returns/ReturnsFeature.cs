namespace Retour.Features.Returns;

public static class ReturnsFeature
{
    public static IServiceCollection AddReturns(this IServiceCollection s) =>
        s.AddSingleton<ReturnWriter>().AddSingleton<Retour.Features.Carriers.LogisticsDirectory>().AddSingleton<OrderReader>().AddSingleton<ReturnServices>();

    public static void MapReturns(this WebApplication app, RouteGroupBuilder api)
    {
        GetReturnability.Map(api);
        CreateReturn.Map(api);
        ReadReturns.Map(api);
        ChangeReturnStatus.Map(api);
    }
}
