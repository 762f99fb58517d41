using System.Security.Claims;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Addresses;
using Retour.Core.Logistics;
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

public sealed record CreateReturnLine(string? OrderLineId, int? Quantity, string? Reason, string? Comment, string? SubReason = null,
    string? ExchangeSku = null);

/// <summary>
/// A return as an integrator or the portal asks for it. <see cref="Carrier"/>, <see cref="PickupDate"/> (YYYY-MM-DD) and
/// <see cref="Address"/> refine pickups and drop-offs; left out, the fastest carrier, the first pickup day and the order's
/// shipping address are used. <see cref="BoxFree"/> asks for a box-free drop-off (QR code at the counter).
/// </summary>
public sealed record CreateReturnRequest(
    string? OrderNumber, IReadOnlyList<CreateReturnLine>? Lines, string? Resolution, string? Method,
    bool? AllowExceptions = null, string? Locale = null,
    string? Carrier = null, string? PickupDate = null, PostalAddress? Address = null, bool? BoxFree = null);

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
        string? acceptLanguage, Actor actor, IdempotencyScope? idem, TimeProvider clock, CancellationToken ct, Guid? photoSession = null)
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
            var (logistics, more) = await CheckChoicesAsync(db, services, state, quote, request, now, ct);
            if (logistics is null) return new Outcome.Invalid(more);

            var locale = Texts.Choose(request.Locale, acceptLanguage, state.Order.CustomerLocale, state.Merchant.DefaultLocale);
            var ret = Build(db.Tenant.MerchantId, state, quote, request, logistics, locale, actor, now);
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
                        [createdAudit, decidedAudit], [requested, .. decided], response, photoSession), ct);
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

    /// <summary>
    /// What the core's request check does not see: sub-reasons against the policy's list, exchange variants against the
    /// catalogue (same product, in stock), and the carrier, pickup day and address against the merchant's carriers.
    /// The catalogue and the order's address are read only when the request needs them.
    /// </summary>
    private static async Task<(LogisticsChoice? Choice, IReadOnlyList<FieldError> Errors)> CheckChoicesAsync(
        RetourDb db, ReturnServices services, ReturnableOrder state, ReturnQuote quote, CreateReturnRequest request, DateTimeOffset now, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var policy = state.Policy.Policy;
        var byRef = state.Order.Lines.ToDictionary(l => l.LineRef, StringComparer.Ordinal);
        var wanted = new List<(int Index, string Sku, string? ProductCode)>();
        for (var i = 0; i < quote.Lines.Count; i++)
        {
            var asked = request.Lines![i]!;
            var q = quote.Lines[i];
            if (asked.SubReason is { } sub)
            {
                var allowed = policy.SubReasonsFor(q.Reason);
                if (!allowed.Contains(sub, StringComparer.Ordinal))
                    errors.Add(new FieldError($"lines[{i}].sub_reason", allowed.Count == 0
                        ? $"The policy has no sub-reasons for '{Codes.Of(q.Reason)}'."
                        : $"Unknown sub-reason '{sub}' for '{Codes.Of(q.Reason)}'. Use one of: {string.Join(", ", allowed)}."));
            }
            if (asked.ExchangeSku is { } sku)
            {
                if (quote.Resolution != Resolution.Exchange)
                    errors.Add(new FieldError($"lines[{i}].exchange_sku", "An exchange variant applies to exchanges only."));
                else if (sku.Length > 100) errors.Add(new FieldError($"lines[{i}].exchange_sku", "At most 100 characters."));
                else wanted.Add((i, sku, byRef[q.Verdict.Line.LineId].ProductCode));
            }
        }
        if (wanted.Count > 0)
        {
            var skus = wanted.Select(w => w.Sku).Distinct().ToList();
            var products = await db.Products.AsNoTracking().Where(p => skus.Contains(p.Sku))
                .Select(p => new { p.Sku, p.ProductCode, p.Stock }).ToDictionaryAsync(p => p.Sku, StringComparer.Ordinal, ct);
            foreach (var (i, sku, code) in wanted)
            {
                if (!products.TryGetValue(sku, out var p) || code is null || p.ProductCode != code)
                    errors.Add(new FieldError($"lines[{i}].exchange_sku", $"'{sku}' is not a variant of the same product."));
                else if (p.Stock < 1)
                    errors.Add(new FieldError($"lines[{i}].exchange_sku", $"'{sku}' is out of stock."));
            }
        }

        var logistics = await services.Logistics.GetAsync(db.Tenant.MerchantId, ct);
        PostalAddress? orderAddress = null;
        var travels = quote.Method is ReturnMethod.Pickup or ReturnMethod.DropOff;
        if (request.Address is null && (travels && logistics.Carriers.Count > 0 || quote.Method == ReturnMethod.Pickup))
            orderAddress = await db.Orders.AsNoTracking().Where(o => o.Id == state.Order.Id)
                .Select(Retour.Features.Orders.Order.ShippingAddress)
                .FirstOrDefaultAsync(ct);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, state.Merchant.Zone).DateTime);
        var (choice, logisticsErrors) = ReturnLogistics.Resolve(
            new LogisticsRequest(quote.Method, request.Carrier, request.BoxFree == true, request.PickupDate, request.Address), orderAddress, logistics.Carriers, today);
        errors.AddRange(logisticsErrors);
        return errors.Count > 0 ? (null, errors) : (choice, errors);
    }

    private static Return Build(Guid merchantId, ReturnableOrder state, ReturnQuote quote, CreateReturnRequest request, LogisticsChoice logistics,
        string locale, Actor actor, DateTimeOffset now)
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
            CarrierCode = logistics.Carrier,
            CarrierRequested = request.Carrier is not null,
            BoxFree = logistics.BoxFree,
            PickupDate = logistics.PickupDate,
            FromAddressJson = logistics.From is null ? null : Json.Serialize(logistics.From),
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
                ExchangeSku = request.Lines![i]?.ExchangeSku,
            });
        }
        return ret;
    }
}
