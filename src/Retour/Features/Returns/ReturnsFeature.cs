namespace Retour.Features.Returns;

public static class ReturnsFeature
{
    public static void MapReturns(this WebApplication app, RouteGroupBuilder api)
    {
        GetReturnability.Map(api);
        CreateReturn.Map(api);
        ReadReturns.Map(api);
        ChangeReturnStatus.Map(api);
    }
}
