using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Orders;

/// <summary>GET /api/v1/orders/{number} and GET /api/v1/orders (newest first, cursor-paged).</summary>
public static class ReadOrders
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/orders/{number}", GetOne).RequireScope(Scopes.OrdersRead).WithName("GetOrder").WithTags("Orders");
        api.MapGet("/orders", List).RequireScope(Scopes.OrdersRead).WithName("ListOrders").WithTags("Orders");
    }

    public static async Task<Results<Ok<OrderDto>, ProblemHttpResult>> GetOne(string number, RetourDb db, CancellationToken ct)
    {
        var order = await db.Orders.AsNoTracking().Include(o => o.Lines).FirstOrDefaultAsync(o => o.Number == number, ct);
        return order is null ? Problems.NotFound($"There is no order '{number}'.") : TypedResults.Ok(OrderDto.From(order));
    }

    public static async Task<Results<Ok<Page<OrderDto>>, ProblemHttpResult>> List(
        RetourDb db, CancellationToken ct, string? cursor = null, string? limit = null)
    {
        var errors = Cursor.Check(limit, cursor, 'o', out var take, out var after);
        if (errors.Count > 0) return Problems.Validation(errors);
        var q = db.Orders.AsNoTracking().Include(o => o.Lines).AsSplitQuery();
        if (after is { } a) q = q.Where(o => o.CreatedAt < a.At || (o.CreatedAt == a.At && o.Id.CompareTo(a.Id) < 0));
        var rows = await q.OrderByDescending(o => o.CreatedAt).ThenByDescending(o => o.Id).Take(take + 1).ToListAsync(ct);
        var more = rows.Count > take;
        if (more) rows.RemoveAt(take);
        var next = more ? Cursor.Encode('o', rows[^1].CreatedAt, rows[^1].Id) : null;
        return TypedResults.Ok(new Page<OrderDto>([.. rows.Select(OrderDto.From)], next, more));
    }
}
