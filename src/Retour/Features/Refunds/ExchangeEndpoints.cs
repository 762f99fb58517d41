using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Refunds;

/// <summary>POST /api/v1/exchanges/{number}/shipped: the shop reports that it sent the exchange's new items.</summary>
public static class ExchangeEndpoints
{
    public sealed record ShippedInput(string? Carrier, string? TrackingNumber);

    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/exchanges/{number}/shipped", Shipped).RequireScope(Scopes.OrdersWrite).WithName("ExchangeShipped").WithTags("Refunds")
            .WithSummary("Record that an exchange order has shipped")
            .WithDescription("Body: {\"carrier\": \"…\", \"tracking_number\": \"…\"}. Publishes exchange.shipped (the shopper is told, with the tracking number). " +
                             "Sending the same again answers 200 with nothing new; different tracking for a shipped exchange is 409. Honours Idempotency-Key.");
    }

    public static async Task<IResult> Shipped(string number, HttpContext http, RetourDb db, IdempotencyScope idem, TimeProvider clock, CancellationToken ct)
    {
        var (input, problem) = await http.Request.ReadStrictJsonAsync<ShippedInput>("Send {\"carrier\": \"…\", \"tracking_number\": \"…\"}.", ct);
        if (problem is not null) return problem;
        var errors = new List<FieldError>();
        var carrier = input!.Carrier?.Trim();
        var tracking = input.TrackingNumber?.Trim();
        if (string.IsNullOrEmpty(carrier)) errors.Add(new("carrier", "Name the carrier."));
        else if (carrier.Length > 100 || carrier.Any(char.IsControl)) errors.Add(new("carrier", "At most 100 characters on one line."));
        if (string.IsNullOrEmpty(tracking)) errors.Add(new("tracking_number", "Give the tracking number."));
        else if (tracking.Length > 64 || !tracking.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or ' ')) errors.Add(new("tracking_number", "Letters, digits, '-' and '_' only, at most 64."));
        if (errors.Count > 0) return Problems.Validation(errors);

        var x = await db.ExchangeOrders.FirstOrDefaultAsync(e => e.Number == number, ct);
        if (x is null) return Problems.NotFound($"There is no exchange order '{number}'.");
        if (x.ShippedAt is not null)
            return x.ShippedTracking == tracking && x.ShippedCarrier == carrier
                ? TypedResults.Ok(Answer(x))
                : Problems.Result(409, "exchange_already_shipped", "This exchange has already shipped", $"It went with {x.ShippedCarrier}, tracking {x.ShippedTracking}.");
        if (x.Status == "awaiting_payment")
            return Problems.Result(409, "exchange_awaiting_payment", "The shopper has not paid the difference yet", "Ship once the amount due is paid.");

        var now = clock.GetUtcNow();
        (x.Status, x.ShippedAt, x.ShippedCarrier, x.ShippedTracking) = ("shipped", now, carrier, tracking);
        var rma = await db.Returns.Where(r => r.Id == x.ReturnId).Select(r => r.Rma).FirstAsync(ct);
        db.AuditEvents.Add(AuditEvent.Of("return", x.ReturnId, "exchange_shipped", Actor.From(http.User), now, $"{x.Number}: {carrier} {tracking}"));
        db.Publish("exchange.shipped", new { exchange_order = x.Number, return_id = x.ReturnId, rma, carrier, tracking_number = tracking, shipped_at = now }, now);
        return await db.CommitAsync(idem, TypedResults.Ok(Answer(x)), now, ct);
    }

    private static object Answer(ExchangeOrder x) =>
        new { exchange_order = x.Number, status = x.Status, carrier = x.ShippedCarrier, tracking_number = x.ShippedTracking, shipped_at = x.ShippedAt };
}
