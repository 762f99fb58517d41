using System.Globalization;
using Retour.Core.Money;
using Retour.Core.Returns;

namespace Retour.Core.Policies;

public enum DecisionOutcome { Approved, PendingReview }

public sealed record RuleCheck(string Rule, bool Passed, string Detail);

public sealed record Decision(DecisionOutcome Outcome, string Explanation, IReadOnlyList<RuleCheck> Rules, IReadOnlyList<string> Flags);

/// <summary>The shopper's earlier orders (not counting the one being returned) and how many of them saw a return.</summary>
public sealed record CustomerHistory(int EarlierOrders, int EarlierOrdersWithReturns)
{
    public decimal RatePercent => EarlierOrders == 0 ? 0 : Math.Round(100m * EarlierOrdersWithReturns / EarlierOrders, 1);
}

/// <summary>Auto-approval: approve when every rule passes, otherwise queue for a person, naming the rules that fired.</summary>
public static class Approval
{
    public const string RuleEnabled = "auto_approval_enabled";
    public const string RuleEligible = "lines_eligible";
    public const string RuleTotal = "total_within_limit";
    public const string RuleRate = "return_rate";
    public const string RuleReasons = "review_reasons";

    public static Decision Decide(
        AutoApprovalRules rules, IReadOnlyList<string> ineligibleLines, RefundBreakdown estimate,
        IReadOnlyList<ReasonCode> reasons, CustomerHistory history)
    {
        var checks = new List<RuleCheck>();
        var flags = new List<string>();
        string Money(decimal v) => $"{Currencies.Format(v, estimate.Currency)} {estimate.Currency}";

        checks.Add(rules.Enabled
            ? new RuleCheck(RuleEnabled, true, "auto-approval is on")
            : new RuleCheck(RuleEnabled, false, "the merchant has turned auto-approval off"));

        if (ineligibleLines.Count == 0) checks.Add(new RuleCheck(RuleEligible, true, "every line is eligible"));
        else
        {
            checks.Add(new RuleCheck(RuleEligible, false, $"line(s) {string.Join(", ", ineligibleLines)} are outside the policy and need an exception"));
            flags.Add("policy_exception");
        }

        checks.Add(rules.MaxTotal is not { } max
            ? new RuleCheck(RuleTotal, true, "there is no limit on the refund total")
            : estimate.Total <= max
                ? new RuleCheck(RuleTotal, true, $"the refund of {Money(estimate.Total)} is within the {Money(max)} limit")
                : new RuleCheck(RuleTotal, false, $"the refund of {Money(estimate.Total)} is over the {Money(max)} limit"));

        var rate = history.RatePercent.ToString("0.#", CultureInfo.InvariantCulture);
        var maxRate = rules.MaxReturnRatePercent.ToString("0.#", CultureInfo.InvariantCulture);
        if (history.EarlierOrders < Math.Max(1, rules.MinHistoryOrders))
            checks.Add(new RuleCheck(RuleRate, true, $"the shopper has {history.EarlierOrders} earlier order(s), fewer than the {Math.Max(1, rules.MinHistoryOrders)} needed to judge a return rate"));
        else if (history.RatePercent <= rules.MaxReturnRatePercent)
            checks.Add(new RuleCheck(RuleRate, true, $"the shopper returned {history.EarlierOrdersWithReturns} of their last {history.EarlierOrders} orders ({rate}% ≤ {maxRate}%)"));
        else
        {
            checks.Add(new RuleCheck(RuleRate, false, $"the shopper returned {history.EarlierOrdersWithReturns} of their last {history.EarlierOrders} orders ({rate}% > {maxRate}%)"));
            flags.Add("high_return_rate");
        }

        var flagged = reasons.Where(rules.ReviewReasons.Contains).Distinct().Select(Codes.Of).ToList();
        if (rules.ReviewReasons.Count > 0)
            checks.Add(flagged.Count == 0
                ? new RuleCheck(RuleReasons, true, "no reason needs a person's review")
                : new RuleCheck(RuleReasons, false, $"reason(s) {string.Join(", ", flagged)} always go to review"));

        var fired = checks.Where(c => !c.Passed).ToList();
        if (fired.Count == 0)
        {
            var why = checks.Where(c => c.Rule != RuleEnabled).Select(c => c.Detail).ToList();
            return new Decision(DecisionOutcome.Approved, $"Auto-approved because {Join(why)}.", checks, flags);
        }
        var names = fired.Select(c => $"'{c.Rule}'").ToList();
        var explanation = $"Queued for review because {(fired.Count == 1 ? "rule" : "rules")} {Join(names)} fired: {string.Join("; ", fired.Select(c => c.Detail))}.";
        return new Decision(DecisionOutcome.PendingReview, explanation, checks, flags);
    }

    private static string Join(IReadOnlyList<string> parts) => parts.Count switch
    {
        0 => "",
        1 => parts[0],
        _ => string.Join(", ", parts.Take(parts.Count - 1)) + " and " + parts[^1],
    };
}
