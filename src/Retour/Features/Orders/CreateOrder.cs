using Microsoft.AspNetCore.Http.HttpResults;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Orders;

/// <summary>POST /api/v1/orders: create an order, or update it when the number (or external id) is known.</summary>
public static class CreateOrder
{
    public static void Map(RouteGroupBuilder api) =>
        api.MapPost("/orders", Handle).RequireScope(Scopes.OrdersWrite).WithName("CreateOrder").WithTags("Orders")
            .WithSummary("Create or update an order").WithDescription("Sending the same order number again updates it; it is never duplicated.");

    public static async Task<Results<Created<OrderDto>, Ok<OrderDto>, ProblemHttpResult>> Handle(
        OrderInput input, RetourDb db, IdempotencyScope idem, TimeProvider clock, CancellationToken ct)
    {
        var (data, errors) = OrderValidation.Validate(input, "api");
        if (data is null) return Problems.Validation(errors);
        var now = clock.GetUtcNow();
        try
        {
            var (order, outcome) = await OrderIngestion.UpsertAsync(db, data, now, ct);
            var dto = OrderDto.From(order);
            return outcome == UpsertOutcome.Created
                ? await db.CommitAsync(idem, TypedResults.Created($"/api/v1/orders/{order.Number}", dto), now, ct)
                : await db.CommitAsync(idem, TypedResults.Ok(dto), now, ct);
        }
        catch (OrderNumberConflictException e)
        {
            return Problems.Result(409, "order_number_conflict", "Order number in use", e.Message);
        }
    }
}
