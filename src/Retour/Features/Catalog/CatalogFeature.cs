namespace Retour.Features.Catalog;

public static class CatalogFeature
{
    public static void MapCatalog(this WebApplication app, RouteGroupBuilder api) => CatalogEndpoints.Map(api);
}
