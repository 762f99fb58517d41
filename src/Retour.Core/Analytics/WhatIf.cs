using Retour.Core.Money;
using Retour.Core.Policies;
using Retour.Core.Returns;

namespace Retour.Core.Analytics;

public sealed record WhatIfTotals(long Returns, long Units, decimal RefundTotal, decimal FeesTotal, double AutoApprovalRate, long KeepItReturns, long AutoApproved);

public sealed record WhatIfResult(WhatIfTotals Current, WhatIfTotals Simulated, long Replayed, IReadOnlyList<string> Notes);

/// <summary>
/// Replays past returns under two policies: the one in force and a draft. Both go through the same rules (windows per
/// category and product, non-returnable categories, restocking and return shipping fees with their waivers, keep-it
/// threshold, store-credit bonus, auto-approval), so the difference is the draft's effect and not noise from how the
/// returns were actually settled (inspection deductions, staff exceptions).
/// </summary>
public static class WhatIf
{
    public sealed class Accumulator(ReturnPolicy current, ReturnPolicy draft, string currency)
    {
        private readonly Totals _current = new(), _draft = new();
        private long _replayed, _noDelivery, _refused;

        public void Add(ReturnFact fact)
        {
            if (!Settles(fact)) { _refused++; return; }
            _replayed++;
            if (fact.DaysAfterDelivery is null) _noDelivery++;
            Replay(fact, current, currency, _current);
            Replay(fact, draft, currency, _draft);
        }

        public WhatIfResult Result()
        {
            var notes = new List<string>
            {
                "Returns that the policy in force refused were never made, so they are not in the data: a longer window can only keep returns, not add the ones it would have allowed.",
                "Keep-it is assumed taken whenever it is offered (every line under the threshold): the most it can change.",
            };
            if (_refused > 0) notes.Add($"{_refused} rejected, cancelled or expired return(s) are left out: they paid nothing.");
            if (_noDelivery > 0) notes.Add($"{_noDelivery} return(s) have no delivery date; their window is not judged.");
            if (draft.SeasonalExtensions.Count > 0 || current.SeasonalExtensions.Count > 0) notes.Add("Seasonal extensions are not replayed.");
            return new WhatIfResult(_current.ToResult(), _draft.ToResult(), _replayed, notes);
        }
    }

    private sealed class Totals
    {
        public long Returns, Units, AutoApproved, KeepIt;
        public decimal Refund, Fees;
        public WhatIfTotals ToResult() => new(Returns, Units, Refund, Fees, Returns == 0 ? 0 : Math.Round((double)AutoApproved / Returns, 4), KeepIt, AutoApproved);
    }

    private static int WindowFor(ReturnPolicy p, FactLine l) =>
        p.ProductWindows.TryGetValue(l.Sku, out var w) ? w
        : p.ProductWindows.TryGetValue(l.Product, out w) ? w
        : p.RuleFor(l.Category)?.WindowDays ?? p.WindowDays;

    /// <summary>What a return costs under a policy, without inspection: the refund (or credit) and the fees kept.</summary>
    public sealed record Priced(decimal Items, decimal Tax, decimal RestockingFee, decimal ReturnShippingFee, decimal Bonus, decimal Refund, bool KeepIt, ReturnMethod Method)
    {
        public decimal Fees => RestockingFee + ReturnShippingFee;
    }

    /// <summary>
    /// Prices lines (value net of discount, tax) as the refund calculator does for a whole return: restocking fees per line
    /// unless kept or waived, the return shipping fee once unless every reason is waived, the store-credit bonus; with
    /// <paramref name="offerKeepIt"/>, a carrier return whose every unit is under the keep-it threshold becomes keep-it.
    /// </summary>
    public static Priced Price(IReadOnlyList<FactLine> lines, ReturnMethod method, Resolution resolution, ReturnPolicy p, string currency, bool offerKeepIt)
    {
        var reasons = lines.Select(l => Codes.TryParse<ReasonCode>(l.Reason, out var r) ? r : ReasonCode.Other).ToList();
        // As the portal offers it: the line's category allows keep-it and one unit (tax included) is under the threshold.
        var keep = offerKeepIt && p.KeepItThreshold is { } threshold && method is ReturnMethod.Pickup or ReturnMethod.DropOff
            && lines.All(l => l.Units > 0 && (p.RuleFor(l.Category)?.Methods ?? p.Methods).Contains(ReturnMethod.Keep) && (l.Value + l.Tax) / l.Units < threshold);
        if (keep) method = ReturnMethod.Keep;
        decimal items = 0, tax = 0, restocking = 0;
        for (var i = 0; i < lines.Count; i++)
        {
            var l = lines[i];
            items += l.Value;
            tax += l.Tax;
            var fee = p.RuleFor(l.Category)?.RestockingFee ?? p.RestockingFee;
            if (fee.Value <= 0 || method == ReturnMethod.Keep || p.FeeWaivedReasons.Contains(reasons[i])) continue;
            restocking += fee.Type == FeeKind.Percent ? Currencies.Round(l.Value * fee.Value / 100m, currency) : Currencies.Round(fee.Value * l.Units, currency);
        }
        var shippingFee = p.ReturnShippingFee > 0 && method is ReturnMethod.Pickup or ReturnMethod.DropOff && resolution != Resolution.Exchange
            && !reasons.All(p.FeeWaivedReasons.Contains) ? Currencies.Round(p.ReturnShippingFee, currency) : 0m;
        var bonus = resolution == Resolution.StoreCredit && p.StoreCreditBonusPercent > 0
            ? Currencies.Round((items + tax) * p.StoreCreditBonusPercent / 100m, currency) : 0m;
        return new Priced(items, tax, restocking, shippingFee, bonus, Math.Max(0, items + tax - restocking - shippingFee + bonus), keep, method);
    }

    /// <summary>Returns that were rejected, cancelled or expired paid nothing; a draft policy would not change that.</summary>
    public static bool Settles(ReturnFact f) => f.Status is not ("rejected" or "cancelled" or "expired");

    private static void Replay(ReturnFact f, ReturnPolicy p, string currency, Totals t)
    {
        var lines = f.Lines.Where(l => !p.NonReturnableCategories.Contains(l.Category)
            && (f.DaysAfterDelivery is not { } days || days <= WindowFor(p, l))).ToList();
        if (lines.Count == 0) return;
        var method = Codes.TryParse<ReturnMethod>(f.Method, out var m) ? m : ReturnMethod.DropOff;
        var resolution = Codes.TryParse<Resolution>(f.Resolution, out var res) ? res : Resolution.Refund;
        var priced = Price(lines, method, resolution, p, currency, offerKeepIt: true);
        var estimate = new RefundBreakdown(currency, priced.Items, priced.Tax, 0, priced.RestockingFee, priced.ReturnShippingFee, priced.Bonus, priced.Refund, [], []);
        var reasons = lines.Select(l => Codes.TryParse<ReasonCode>(l.Reason, out var r) ? r : ReasonCode.Other).ToList();
        var decision = Approval.Decide(p.AutoApproval, [], estimate, reasons, new CustomerHistory(f.HistoryOrders, f.HistoryWithReturns));

        t.Returns++;
        t.Units += lines.Sum(l => l.Units);
        t.Refund += priced.Refund;
        t.Fees += priced.Fees;
        if (decision.Outcome == DecisionOutcome.Approved) t.AutoApproved++;
        if (priced.KeepIt) t.KeepIt++;
    }
}
