using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Retour.Features.Orders;
using Retour.Features.Policies;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Localization;

namespace Retour.Features.Returns;

public sealed record CreateReturnLine(string? OrderLineId, int? Quantity, string? Reason, string? Comment, string? SubReason = null);

public sealed record CreateReturnRequest(
    string? OrderNumber, IReadOnlyList<CreateReturnLine>? Lines, string? Resolution, string? Method,
    bool? AllowExceptions = null, string? Locale = null);

/// <summary>
/// POST /api/v1/returns. Validates against the order and its policy, prices the refund, decides (approve or review),
/// and stores the return, its audit trail and its events in one transaction. Returnable quantities hold under
/// concurrency because the order's version is checked on commit (see <see cref="Order.Version"/>).
/// </summary>
public static class CreateReturn
{
    private const int Attempts = 8;

    public static void Map(RouteGroupBuilder api) =>
        api.MapPost("/returns", Handle).RequireScope(Scopes.ReturnsWrite).WithName("CreateReturn").WithTags("Returns")
            .WithSummary("Create a return")
            .WithDescription("Answers 201 with the RMA, status, refund estimate and the decision with its explanation.");

    public static async Task<Results<Created<ReturnDto>, ProblemHttpResult>> Handle(
        CreateReturnRequest request, HttpContext http, RetourDb db, PolicyBook policies, MerchantDirectory merchants,
        IdempotencyScope idem, TimeProvider clock, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.OrderNumber))
            return Problems.Validation("order_number", "The order number is required.");
        var exceptions = request.AllowExceptions == true;
        if (exceptions && !http.User.HasClaim(RetourClaims.Scope, Scopes.ReturnsOverride))
            return Problems.Result(403, "forbidden", "Missing scope", $"allow_exceptions needs the '{Scopes.ReturnsOverride}' scope.");
        var subReasonError = request.Lines?.Select((l, i) => (l, i)).FirstOrDefault(x => x.l?.SubReason is { Length: > 64 });
        if (subReasonError is { l: not null } bad)
            return Problems.Validation($"lines[{bad.i}].sub_reason", "At most 64 characters.");

        var actor = Actor.From(http.User);
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            var now = clock.GetUtcNow();
            var prepared = await PrepareAsync(db, policies, merchants, request, exceptions, http.Request.Headers.AcceptLanguage, actor, now, ct);
            if (prepared.OrderMissing) return Problems.NotFound($"There is no order '{request.OrderNumber}'.");
            if (prepared.Return is not { } ret) return Problems.Validation(prepared.Errors);
            try
            {
                var timeline = db.ChangeTracker.Entries<AuditEvent>().Select(e => e.Entity).Where(e => e.EntityId == ret.Id).OrderBy(e => e.OccurredAt).ThenBy(e => e.Id).ToList();
                return await db.CommitAsync(idem, TypedResults.Created($"/api/v1/returns/{ret.Id}", ReturnDto.From(ret, timeline)), now, ct);
            }
            catch (DbUpdateConcurrencyException)
            {
                // Another return (or a store refund) changed this order's quantities first: judge again with fresh numbers.
                db.ChangeTracker.Clear();
            }
            catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e, "returns"))
            {
                db.ChangeTracker.Clear(); // an RMA collided (one in a trillion): draw another
            }
        }
        return Problems.Result(409, "concurrent_update", "The order is busy",
            "Other returns for this order were being created at the same moment. Retry the request.");
    }

    public sealed record Prepared(Return? Return, IReadOnlyList<FieldError> Errors, bool OrderMissing);

    /// <summary>
    /// Judges the request and, when it is valid, adds the return, its audit events and its outbox messages to
    /// <paramref name="db"/> and bumps the order's version. The caller commits (and retries on a version conflict).
    /// </summary>
    public static async Task<Prepared> PrepareAsync(
        RetourDb db, PolicyBook policies, MerchantDirectory merchants, CreateReturnRequest request, bool exceptions,
        string? acceptLanguage, Actor actor, DateTimeOffset now, CancellationToken ct)
    {
        var state = await ReturnableOrder.LoadAsync(db, policies, merchants, request.OrderNumber!.Trim(), track: true, ct);
        if (state is null) return new Prepared(null, [], OrderMissing: true);
        var history = await CustomerHistoryAsync(db, state.Order, state.Policy.Policy.AutoApproval.HistoryOrders, ct);

        var lines = request.Lines?.Select(l => new RequestedLine(l?.OrderLineId, l?.Quantity ?? 0, l?.Reason, l?.Comment)).ToList();
        var (quote, errors) = ReturnRequest.Evaluate(state.Judge(now), lines, request.Resolution, request.Method,
            exceptions, state.Policy.Policy, state.Facts, state.Order.ShippingTotal, history);
        if (quote is null) return new Prepared(null, errors, false);

        var locale = Texts.Choose(request.Locale, acceptLanguage, state.Order.CustomerLocale, state.Merchant.DefaultLocale);
        var ret = Build(state, quote, request, locale, actor, now);
        db.Returns.Add(ret);
        ReturnTransitions.Created(db, ret, actor, request, now);
        var next = quote.Decision.Outcome == DecisionOutcome.Approved ? ReturnStatus.Approved : ReturnStatus.PendingReview;
        ReturnTransitions.Move(db, ret, next, Actor.System, quote.Decision.Explanation, now);
        state.Order.Version++;
        return new Prepared(ret, [], false);
    }

    private static Return Build(ReturnableOrder state, ReturnQuote quote, CreateReturnRequest request, string locale, Actor actor, DateTimeOffset now)
    {
        var ret = new Return
        {
            Rma = Rma.New(),
            OrderId = state.Order.Id,
            OrderNumber = state.Order.Number,
            CustomerEmail = state.Order.CustomerEmail,
            Resolution = quote.Resolution,
            Method = quote.Method,
            PolicyVersionId = state.Policy.VersionId,
            PolicyVersion = state.Policy.Version,
            Currency = state.Order.Currency,
            EstimateTotal = quote.Estimate.Total,
            EstimateJson = Json.Serialize(quote.Estimate),
            DecisionOutcome = quote.Decision.Outcome,
            DecisionJson = Json.Serialize(quote.Decision),
            Flags = string.Join(',', quote.Decision.Flags),
            Locale = locale,
            CreatedBy = actor.Label,
            CreatedAt = now,
        };
        ret.Touch(now);
        var byRef = state.Order.Lines.ToDictionary(l => l.LineRef, StringComparer.Ordinal);
        for (var i = 0; i < quote.Lines.Count; i++)
        {
            var q = quote.Lines[i];
            var orderLine = byRef[q.Verdict.Line.LineId];
            ret.Lines.Add(new ReturnLine
            {
                ReturnId = ret.Id,
                OrderLineId = orderLine.Id,
                OrderLineRef = orderLine.LineRef,
                Sku = orderLine.Sku,
                Title = orderLine.Title,
                Category = orderLine.Category,
                Quantity = q.Quantity,
                Reason = q.Reason,
                SubReason = request.Lines![i]?.SubReason,
                Comment = string.IsNullOrWhiteSpace(q.Comment) ? null : q.Comment.Trim(),
            });
        }
        return ret;
    }

    /// <summary>The shopper's most recent earlier orders (by email) and how many of them had a return.</summary>
    public static async Task<CustomerHistory> CustomerHistoryAsync(RetourDb db, Order order, int lookback, CancellationToken ct)
    {
        if (order.CustomerEmail is null) return new CustomerHistory(0, 0);
        var hadReturns = await db.Orders.AsNoTracking()
            .Where(o => o.CustomerEmail == order.CustomerEmail && o.Id != order.Id)
            .OrderByDescending(o => o.PlacedAt)
            .Take(lookback)
            .Select(o => db.Returns.Any(r => r.OrderId == o.Id))
            .ToListAsync(ct);
        return new CustomerHistory(hadReturns.Count, hadReturns.Count(x => x));
    }
}
