using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Policies;
using Retour.Core.Returns;
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
/// and stores the return, its audit trail, its events and the idempotent response in one atomic write. Returnable
/// quantities hold under concurrency because the write only succeeds on the order version the request was judged on.
/// It is the API's busiest write, so it makes exactly two round trips: one read (<see cref="ReturnableOrder.LoadAsync"/>,
/// which also finds a stored Idempotency-Key) and one write (<see cref="ReturnWriter"/>).
/// </summary>
public static class CreateReturn
{
    private const int Attempts = 8;

    public static void Map(RouteGroupBuilder api) =>
        api.MapPost("/returns", Handle).RequireScope(Scopes.ReturnsWrite).WithName("CreateReturn").WithTags("Returns")
            .WithMetadata(new IdempotencyCheckedByEndpoint())
            .Produces<ReturnDto>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem(StatusCodes.Status422UnprocessableEntity)
            .WithSummary("Create a return")
            .WithDescription("Answers 201 with the RMA, status, refund estimate and the decision with its explanation.");

    public static async Task<IResult> Handle(
        CreateReturnRequest request, HttpContext http, RetourDb db, ReturnServices services, IdempotencyScope idem, TimeProvider clock, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.OrderNumber))
            return Problems.Validation("order_number", "The order number is required.");
        var exceptions = request.AllowExceptions == true;
        if (exceptions && !http.User.HasClaim(RetourClaims.Scope, Scopes.ReturnsOverride))
            return Problems.Result(403, "forbidden", "Missing scope", $"allow_exceptions needs the '{Scopes.ReturnsOverride}' scope.");
        var outcome = await CreateAsync(db, services, request, exceptions, http.Request.Headers.AcceptLanguage,
            Actor.From(http.User), idem, clock, ct);
        return outcome switch
        {
            Outcome.Created c => new JsonBytesResult(StatusCodes.Status201Created, c.Body, $"/api/v1/returns/{c.Return.Id}"),
            Outcome.Replay r => new ReplayResult(r.Stored.RequestHash, r.Stored.StatusCode, r.Stored.Body, r.Stored.Location, idem.RequestHash!),
            Outcome.Invalid i => Problems.Validation(i.Errors),
            Outcome.OrderMissing => Problems.NotFound($"There is no order '{request.OrderNumber}'."),
            _ => Problems.Result(409, "concurrent_update", "The order is busy",
                "Other returns for this order were being created at the same moment. Retry the request."),
        };
    }

    public abstract record Outcome
    {
        public sealed record Created(Return Return, byte[] Body) : Outcome;
        public sealed record Replay(StoredResponse Stored) : Outcome;
        public sealed record Invalid(IReadOnlyList<FieldError> Errors) : Outcome;
        public sealed record OrderMissing : Outcome;
        public sealed record Busy : Outcome;
    }

    /// <summary>The use case without HTTP: the API and the demo seeder both create returns through it.</summary>
    public static async Task<Outcome> CreateAsync(
        RetourDb db, ReturnServices services, CreateReturnRequest request, bool exceptions,
        string? acceptLanguage, Actor actor, IdempotencyScope? idem, TimeProvider clock, CancellationToken ct)
    {
        var subReason = request.Lines?.Select((l, i) => (l, i)).FirstOrDefault(x => x.l?.SubReason is { Length: > 64 });
        if (subReason is { l: not null } bad) return new Outcome.Invalid([new FieldError($"lines[{bad.i}].sub_reason", "At most 64 characters.")]);

        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            var now = clock.GetUtcNow();
            var (state, stored) = await ReturnableOrder.LoadAsync(db, services, request.OrderNumber!.Trim(), idem?.Key, ct);
            if (stored is not null) return new Outcome.Replay(stored);
            if (state is null) return new Outcome.OrderMissing();

            var lines = request.Lines?.Select(l => new RequestedLine(l?.OrderLineId, l?.Quantity ?? 0, l?.Reason, l?.Comment)).ToList();
            var (quote, errors) = ReturnRequest.Evaluate(state.Judge(now), lines, request.Resolution, request.Method,
                exceptions, state.Policy.Policy, state.Facts, state.Order.ShippingTotal, state.History);
            if (quote is null) return new Outcome.Invalid(errors);

            var locale = Texts.Choose(request.Locale, acceptLanguage, state.Order.CustomerLocale, state.Merchant.DefaultLocale);
            var ret = Build(db.Tenant.MerchantId, state, quote, request, locale, actor, now);
            var (createdAudit, requested) = ReturnTransitions.Created(ret, actor, request, now);
            var next = quote.Decision.Outcome == DecisionOutcome.Approved ? ReturnStatus.Approved : ReturnStatus.PendingReview;
            var (decidedAudit, decided, _) = ReturnTransitions.Plan(ret, next, Actor.System, quote.Decision.Explanation, now);

            var body = JsonSerializer.SerializeToUtf8Bytes(ReturnDto.From(ret, quote.Estimate, quote.Decision, [createdAudit, decidedAudit]), Json.Options);
            var response = idem is { Active: true }
                ? new IdempotencyRecord
                {
                    MerchantId = ret.MerchantId, Key = idem.Key!, RequestHash = idem.RequestHash!, StatusCode = StatusCodes.Status201Created,
                    ResponseBody = Encoding.UTF8.GetString(body), Location = $"/api/v1/returns/{ret.Id}", CreatedAt = now,
                }
                : null;
            try
            {
                var written = await services.Writer.StoreAsync(db,
                    new NewReturn(ret, state.Order.Id, state.Order.Version, state.Order.ReturnCount,
                        state.Order.Lines.ToDictionary(l => l.Id, l => l.ReturnedQuantity),
                        [createdAudit, decidedAudit], [requested, decided!], response), ct);
                // OrderChanged: another return (or a store refund) changed this order's quantities first — judge again.
                if (written == WriteOutcome.Stored) return new Outcome.Created(ret, body);
            }
            catch (DbUpdateException e) when (response is not null && DbErrors.IsUniqueViolation(e, "idempotency_records"))
            {
                throw new IdempotencyConflictException();
            }
            catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e, "returns"))
            {
                // An RMA collided (about one in a trillion): draw another.
            }
            catch (Exception e) when (DbErrors.IsTransient(e))
            {
                // A deadlock with a concurrent change of the same order: nothing was written; judge and write again.
            }
        }
        return new Outcome.Busy();
    }

    private static Return Build(Guid merchantId, ReturnableOrder state, ReturnQuote quote, CreateReturnRequest request, string locale, Actor actor, DateTimeOffset now)
    {
        var ret = new Return
        {
            MerchantId = merchantId,
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
                MerchantId = merchantId,
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
}
