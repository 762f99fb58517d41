using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Returns;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;

namespace Retour.Features.Carriers;

public sealed record CarrierDto(string Code, string Name, string Adapter, IReadOnlyList<string> Services, IReadOnlyList<string> Countries, int TransitDays, bool Active);

public static class CarrierEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/carriers", List).RequireScope(Scopes.CarriersRead).WithName("ListCarriers").WithTags("Carriers");
        api.MapGet("/returns/{idOrRma}/label", Label).RequireScope(Scopes.ReturnsRead).WithName("GetReturnLabel").WithTags("Returns")
            .WithSummary("The return label as an A6 PDF (the same one the shopper downloads)");
    }

    public static async Task<IResult> Label(string idOrRma, RetourDb db, MerchantDirectory merchants, LogisticsDirectory logistics, CancellationToken ct)
    {
        var ret = await ReadReturns.FindAsync(db.Returns.AsNoTracking().Include(r => r.Lines), idOrRma, ct);
        if (ret is null) return Problems.NotFound($"There is no return '{idOrRma}'.");
        if (ret.Method is not (ReturnMethod.Pickup or ReturnMethod.DropOff) || ret.BoxFree)
            return Problems.NotFound($"Return {ret.Rma} has no label: {(ret.BoxFree ? "a box-free drop-off shows a QR code instead" : $"method '{Codes.Of(ret.Method)}' ships no parcel")}.");
        var merchant = await merchants.GetAsync(db.Tenant.MerchantId, ct) ?? throw new InvalidOperationException("No merchant.");
        var pdf = await ReturnLabels.RenderAsync(db, merchant, await logistics.GetAsync(merchant.Id, ct), ret, ct);
        return Results.File(pdf, "application/pdf", $"return-label-{ret.Rma}.pdf");
    }

    public static async Task<Ok<List<CarrierDto>>> List(RetourDb db, CancellationToken ct)
    {
        var rows = await db.Carriers.AsNoTracking().OrderBy(c => c.Code).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(c => new CarrierDto(c.Code, c.Name, c.Adapter,
            c.Services.Split(',', StringSplitOptions.RemoveEmptyEntries), c.Countries.Split(',', StringSplitOptions.RemoveEmptyEntries),
            c.TransitDays, c.Active)).ToList());
    }
}
