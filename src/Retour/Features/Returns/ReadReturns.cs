using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Money;
using Retour.Core.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Returns;

/// <summary>GET /api/v1/returns/{id-or-rma} with its timeline, and GET /api/v1/returns with filters and cursor paging.</summary>
public static class ReadReturns
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/returns/{idOrRma}", GetOne).RequireScope(Scopes.ReturnsRead).WithName("GetReturn").WithTags("Returns")
            .WithSummary("A return, by id or RMA, with its audit timeline");
        api.MapGet("/returns/{id:guid}/photos/{photoId:guid}", GetPhoto).RequireScope(Scopes.ReturnsRead).WithName("GetReturnPhoto").WithTags("Returns")
            .WithSummary("A shopper's photo of a returned item (metadata removed at upload)");
        api.MapGet("/returns", List).RequireScope(Scopes.ReturnsRead).WithName("ListReturns").WithTags("Returns")
            .WithSummary("List returns")
            .WithDescription("Newest change first; with updated_since, oldest change first from that time, for syncing. status takes one or more codes, comma-separated. A cursor is valid with the same filters only.");
    }

    public static async Task<Results<Ok<ReturnDto>, ProblemHttpResult>> GetOne(string idOrRma, RetourDb db, CancellationToken ct)
    {
        var ret = await FindAsync(db.Returns.AsNoTracking(), idOrRma, ct);
        if (ret is null) return Problems.NotFound($"There is no return '{idOrRma}'.");
        var timeline = await db.AuditEvents.AsNoTracking().Where(e => e.EntityId == ret.Id)
            .OrderBy(e => e.OccurredAt).ThenBy(e => e.Id).ToListAsync(ct);
        var photos = (await db.Photos.AsNoTracking().Where(p => p.ReturnId == ret.Id && p.InspectionId == null).OrderBy(p => p.Id)
            .Select(p => new { p.Id, p.OrderLineRef }).ToListAsync(ct)).ToLookup(p => p.OrderLineRef, p => p.Id);
        var inspections = await db.Inspections.AsNoTracking().Where(i => i.ReturnId == ret.Id).OrderBy(i => i.OrderLineRef).ThenBy(i => i.Unit).ToListAsync(ct);
        var inspectionPhotos = inspections.Count == 0 ? null : await Warehouses.InspectionPhotos.UrlsAsync(db, ret.Id, null, ct);
        var dispositions = await db.UnitDispositions.AsNoTracking().Where(d => d.ReturnId == ret.Id).OrderBy(d => d.OrderLineRef).ThenBy(d => d.Unit).ToListAsync(ct);
        return TypedResults.Ok(ReturnDto.From(ret, timeline, photos) with
        {
            Shipment = await Carriers.ShipmentDto.LoadAsync(db, ret, ct),
            Inspections = [.. inspections.Select(i => Warehouses.InspectionDto.From(i, inspectionPhotos?[i.Id]))],
            Dispositions = [.. dispositions.Select(Warehouses.DispositionDto.From)],
            Refunds = await Refunds.RefundDto.ForReturnAsync(db, ret.Id, ct),
        });
    }

    public static async Task<IResult> GetPhoto(Guid id, Guid photoId, RetourDb db, HttpContext http, CancellationToken ct)
    {
        var photo = await db.Photos.AsNoTracking().FirstOrDefaultAsync(p => p.Id == photoId && p.ReturnId == id, ct);
        if (photo is null) return Problems.NotFound("There is no such photo on this return.");
        http.Response.Headers.CacheControl = "private, max-age=86400, immutable";
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        return Results.File(photo.Data, photo.ContentType, entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{photo.Sha256}\""));
    }

    public static async Task<Return?> FindAsync(IQueryable<Return> returns, string idOrRma, CancellationToken ct)
    {
        returns = returns.Include(r => r.Lines);
        if (Guid.TryParse(idOrRma, out var id)) return await returns.FirstOrDefaultAsync(r => r.Id == id, ct);
        var rma = Rma.Normalize(idOrRma);
        return rma is null ? null : await returns.FirstOrDefaultAsync(r => r.Rma == rma, ct);
    }

    public static async Task<Results<Ok<Page<ReturnSummaryDto>>, ProblemHttpResult>> List(
        RetourDb db, CancellationToken ct,
        string? status = null, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "updated_since")] string? updatedSince = null,
        string? cursor = null, string? limit = null)
    {
        // Query values arrive as text and are checked here, so a bad one is a 422 naming the field, not a bare 400.
        var errors = new List<FieldError>();
        var since = Cursor.Time(updatedSince, "updated_since", errors);
        var ascending = since is not null;
        var ordering = ascending ? 'a' : 'd';
        errors.AddRange(Cursor.Check(limit, cursor, ordering, out var take, out var after));
        var statuses = ListFilter.Parse<ReturnStatus>(status, "status", errors);
        if (errors.Count > 0) return Problems.Validation(errors);

        var q = db.Returns.AsNoTracking();
        if (statuses.Count > 0) q = q.Where(r => statuses.Contains(r.Status));
        if (since is { } from) q = q.Where(r => r.UpdatedAt >= from);
        if (after is { } a)
            q = ascending
                ? q.Where(r => r.UpdatedAt > a.At || (r.UpdatedAt == a.At && r.Id.CompareTo(a.Id) > 0))
                : q.Where(r => r.UpdatedAt < a.At || (r.UpdatedAt == a.At && r.Id.CompareTo(a.Id) < 0));
        q = ascending ? q.OrderBy(r => r.UpdatedAt).ThenBy(r => r.Id) : q.OrderByDescending(r => r.UpdatedAt).ThenByDescending(r => r.Id);
        var rows = await q.Take(take + 1)
            .Select(r => new { r.Id, r.Rma, r.OrderNumber, r.Status, r.Resolution, r.Method, r.Currency, r.EstimateTotal, r.DecisionOutcome, r.CreatedAt, r.UpdatedAt })
            .ToListAsync(ct);
        var more = rows.Count > take;
        if (more) rows.RemoveAt(take);
        var page = rows.Select(r => new ReturnSummaryDto(r.Id, r.Rma, r.OrderNumber, r.Status, r.Resolution, r.Method, r.Currency,
            Currencies.Format(r.EstimateTotal, r.Currency), r.DecisionOutcome, r.CreatedAt, r.UpdatedAt)).ToList();
        return TypedResults.Ok(new Page<ReturnSummaryDto>(page, more ? Cursor.Encode(ordering, rows[^1].UpdatedAt, rows[^1].Id) : null, more));
    }
}
