using Retour.Core.Money;
using Retour.Core.Returns;

namespace Retour.Core.Policies;

/// <summary>A line as the shopper or integrator asked for it, before validation (codes are still text).</summary>
public sealed record RequestedLine(string? OrderLineId, int Quantity, string? Reason, string? Comment);

public sealed record QuotedLine(LineVerdict Verdict, int Quantity, ReasonCode Reason, string? Comment);

/// <summary>A valid return request, priced and decided, ready to be stored.</summary>
public sealed record ReturnQuote(
    IReadOnlyList<QuotedLine> Lines,
    Resolution Resolution,
    ReturnMethod Method,
    RefundBreakdown Estimate,
    Decision Decision);

public static class ReturnRequest
{
    public const int MaxCommentLength = 2000;

    /// <summary>
    /// Validates a request against the order's returnability and the policy, then prices and decides it.
    /// Either the quote or the field errors come back, never both.
    /// </summary>
    public static (ReturnQuote? Quote, IReadOnlyList<FieldError> Errors) Evaluate(
        IReadOnlyList<LineVerdict> verdicts, IReadOnlyList<RequestedLine>? lines, string? resolution, string? method,
        bool allowExceptions, ReturnPolicy policy, OrderFacts order, decimal orderShipping, CustomerHistory history)
    {
        var errors = new List<FieldError>();
        if (lines is null || lines.Count == 0)
        {
            errors.Add(new FieldError("lines", "Choose at least one order line to return."));
            return (null, errors);
        }
        if (lines.Count > 500) errors.Add(new FieldError("lines", "A return can have at most 500 lines."));

        var byId = verdicts.ToDictionary(v => v.Line.LineId, StringComparer.Ordinal);
        var quoted = new List<QuotedLine>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Count; i++)
        {
            var r = lines[i];
            var path = $"lines[{i}]";
            if (string.IsNullOrWhiteSpace(r.OrderLineId))
            {
                errors.Add(new FieldError($"{path}.order_line_id", "Name the order line to return."));
                continue;
            }
            if (!byId.TryGetValue(r.OrderLineId, out var v))
            {
                errors.Add(new FieldError($"{path}.order_line_id", $"Order line '{r.OrderLineId}' is not on this order."));
                continue;
            }
            if (!seen.Add(r.OrderLineId))
                errors.Add(new FieldError($"{path}.order_line_id", $"Order line '{r.OrderLineId}' appears more than once; put the whole quantity on one line."));

            var max = v.Returnable ? v.ReturnableQuantity : v.Line.RemainingQuantity;
            if (!v.Returnable && !allowExceptions)
                errors.Add(new FieldError(path, $"Order line '{r.OrderLineId}' cannot be returned: {Codes.Of(v.Reason!.Value)}. {v.Explanation}"));
            else if (r.Quantity < 1)
                errors.Add(new FieldError($"{path}.quantity", $"Order line '{r.OrderLineId}': the quantity must be at least 1."));
            else if (r.Quantity > max)
                errors.Add(new FieldError($"{path}.quantity", $"Order line '{r.OrderLineId}': quantity {r.Quantity} is over the returnable quantity {max}."));

            if (!Codes.TryParse<ReasonCode>(r.Reason, out var reason))
                errors.Add(new FieldError($"{path}.reason", r.Reason is null
                    ? $"Give a reason, one of: {string.Join(", ", Codes.All<ReasonCode>())}."
                    : $"Unknown reason code '{r.Reason}'. Use one of: {string.Join(", ", Codes.All<ReasonCode>())}."));
            if (r.Comment is { Length: > MaxCommentLength })
                errors.Add(new FieldError($"{path}.comment", $"The comment is longer than {MaxCommentLength} characters."));
            quoted.Add(new QuotedLine(v, r.Quantity, reason, r.Comment));
        }

        var res = ParseChoice<Resolution>("resolution", resolution, errors);
        var how = ParseChoice<ReturnMethod>("method", method, errors);
        if (errors.Count > 0) return (null, errors);

        foreach (var q in quoted.Where(q => q.Verdict.Returnable))
        {
            var id = q.Verdict.Line.LineId;
            if (!q.Verdict.Resolutions.Contains(res))
                errors.Add(new FieldError("resolution", $"'{Codes.Of(res)}' is not offered for order line '{id}'. Offered: {string.Join(", ", q.Verdict.Resolutions.Select(Codes.Of))}."));
            if (!q.Verdict.Methods.Contains(how) && !(how == ReturnMethod.Keep && KeepAllowedByCategory(policy, q.Verdict.Line)))
                errors.Add(new FieldError("method", $"'{Codes.Of(how)}' is not offered for order line '{id}'. Offered: {string.Join(", ", q.Verdict.Methods.Select(Codes.Of))}."));
            else if (how == ReturnMethod.Keep && policy.KeepItThreshold is { } limit && q.Verdict.Line.UnitValue * q.Quantity >= limit)
                errors.Add(new FieldError("method", $"Keep-it applies below {Currencies.Format(limit, order.Currency)} {order.Currency}; order line '{id}' returns {Currencies.Format(q.Verdict.Line.UnitValue * q.Quantity, order.Currency)} {order.Currency}."));
        }
        if (errors.Count > 0) return (null, errors);

        var estimate = RefundCalculator.Estimate(policy, order, orderShipping,
            [.. quoted.Select(q => new RefundItem(q.Verdict.Line, q.Quantity, q.Reason))], res, how);
        var ineligible = quoted.Where(q => !q.Verdict.Returnable).Select(q => q.Verdict.Line.LineId).ToList();
        var decision = Approval.Decide(policy.AutoApproval, ineligible, estimate, [.. quoted.Select(q => q.Reason)], history);
        return (new ReturnQuote(quoted, res, how, estimate, decision), errors);
    }

    // A keep-it line over the unit threshold is filtered from Methods; the per-quantity check below explains why.
    private static bool KeepAllowedByCategory(ReturnPolicy policy, LineFacts line) =>
        (policy.RuleFor(line.Category)?.Methods ?? policy.Methods).Contains(ReturnMethod.Keep);

    private static T ParseChoice<T>(string field, string? code, List<FieldError> errors) where T : struct, Enum
    {
        if (Codes.TryParse<T>(code, out var value)) return value;
        errors.Add(new FieldError(field, code is null
            ? $"Choose a {field}: {string.Join(", ", Codes.All<T>())}."
            : $"Unknown {field} '{code}'. Use one of: {string.Join(", ", Codes.All<T>())}."));
        return default;
    }
}
