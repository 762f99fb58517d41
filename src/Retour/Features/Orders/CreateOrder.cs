using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Orders;

/// <summary>POST /api/v1/orders: create an order, or update it when the number (or external id) is known.</summary>
public static class CreateOrder
{
    private const int Attempts = 4;

    public static void Map(RouteGroupBuilder api) =>
        api.MapPost("/orders", Handle).RequireScope(Scopes.OrdersWrite).WithName("CreateOrder").WithTags("Orders")
            .WithSummary("Create or update an order")
            .WithDescription("Sending the same order number again updates it; it is never duplicated. Line amounts: unit_price per unit; tax and discount for the whole line.");

    public static async Task<Results<Created<OrderDto>, Ok<OrderDto>, ProblemHttpResult>> Handle(
        OrderInput input, RetourDb db, MerchantDirectory merchants, IdempotencyScope idem, TimeProvider clock, CancellationToken ct)
    {
        var (data, errors) = OrderValidation.Validate(input, "api", clock.GetUtcNow());
        if (data is null) return Problems.Validation(errors);
        var merchant = await merchants.GetAsync(db.Tenant.MerchantId, ct);
        if (OrderValidation.CurrencyMismatch(data, merchant!.Currency) is { } mismatch) return Problems.Validation([mismatch]);

        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
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
            catch (Exception e) when (e is DbUpdateConcurrencyException || DbErrors.IsTransient(e) ||
                                      (e is DbUpdateException u && (DbErrors.IsUniqueViolation(u, "orders") || DbErrors.IsUniqueViolation(u, "order_lines"))))
            {
                // The same order was written by another request (or a return changed its version) meanwhile: read it again.
                db.ChangeTracker.Clear();
            }
        }
        return Problems.Result(409, "concurrent_update", "The order is busy", "Other requests were writing this order at the same moment. Retry the request.");
    }
}
