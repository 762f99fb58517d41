using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;

namespace Retour.Features.Carriers;

public sealed record CarrierDto(string Code, string Name, string Adapter, IReadOnlyList<string> Services, IReadOnlyList<string> Countries, int TransitDays, bool Active);

public static class CarrierEndpoints
{
    public static void Map(RouteGroupBuilder api) =>
        api.MapGet("/carriers", List).RequireScope(Scopes.CarriersRead).WithName("ListCarriers").WithTags("Carriers");

    public static async Task<Ok<List<CarrierDto>>> List(RetourDb db, CancellationToken ct)
    {
        var rows = await db.Carriers.AsNoTracking().OrderBy(c => c.Code).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(c => new CarrierDto(c.Code, c.Name, c.Adapter,
            c.Services.Split(',', StringSplitOptions.RemoveEmptyEntries), c.Countries.Split(',', StringSplitOptions.RemoveEmptyEntries),
            c.TransitDays, c.Active)).ToList());
    }
}
