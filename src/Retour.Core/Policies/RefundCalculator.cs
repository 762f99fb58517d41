using Retour.Core.Money;
using Retour.Core.Returns;
using Retour.Core.Warehouse;

namespace Retour.Core.Policies;

public sealed record RefundItem(LineFacts Line, int Quantity, ReasonCode Reason);

/// <summary>
/// A returned line at settlement: <paramref name="HeldByOthers"/> is how many of the order line's units other live returns
/// hold, and <paramref name="Grades"/> the inspected units' grades (empty before inspection).
/// </summary>
public sealed record SettleItem(LineFacts Line, int Quantity, ReasonCode Reason, int HeldByOthers, IReadOnlyList<Grade> Grades);

public sealed record RefundLine(string OrderLineId, int Quantity, decimal Items, decimal Tax, decimal RestockingFee, decimal Deduction = 0m);

/// <summary>Every part of a refund, each rounded to the currency, so that the parts add up to the total exactly.</summary>
public sealed record RefundBreakdown(
    string Currency,
    decimal Items,
    decimal Tax,
    decimal Shipping,
    decimal RestockingFee,
    decimal ReturnShippingFee,
    decimal Bonus,
    decimal Total,
    IReadOnlyList<RefundLine> Lines,
    IReadOnlyList<string> Notes,
    decimal Deductions = 0m);

public static class RefundCalculator
{
    /// <summary>What the shopper is shown before confirming: every unit asked for, at full value, no inspection yet.</summary>
    public static RefundBreakdown Estimate(
        ReturnPolicy policy, OrderFacts order, decimal orderShipping,
        IReadOnlyList<RefundItem> items, Resolution resolution, ReturnMethod method) =>
        Compute(policy, order, orderShipping,
            [.. items.Select(i => new Part(i.Line, Math.Min(i.Line.Quantity, i.Line.ReturnedQuantity + i.Line.RefundedQuantity), i.Quantity, i.Quantity, i.Reason, []))],
            resolution, method, []);

    /// <summary>
    /// What is refunded: as the estimate, but units the store refunded meanwhile are left out, and each inspected unit loses
    /// its grade's deduction (policy <c>grade_deductions</c>), except a damaged or defective unit returned for a reason that is
    /// the merchant's responsibility: it arrived as the shopper said.
    /// </summary>
    public static RefundBreakdown Settle(
        ReturnPolicy policy, OrderFacts order, decimal orderShipping,
        IReadOnlyList<SettleItem> items, Resolution resolution, ReturnMethod method)
    {
        var notes = new List<string>();
        var parts = new List<Part>();
        foreach (var i in items)
        {
            var before = Math.Min(i.Line.Quantity, i.Line.RefundedQuantity + i.HeldByOthers);
            var units = Math.Max(0, Math.Min(i.Quantity, i.Line.Quantity - before));
            if (units < i.Quantity)
                notes.Add($"{i.Quantity - units} of {i.Quantity} units of line {i.Line.LineId} were already refunded by the store; they are not refunded again.");
            parts.Add(new Part(i.Line, before, units, i.Quantity, i.Reason, i.Grades));
        }
        return Compute(policy, order, orderShipping, parts, resolution, method, notes);
    }

    private sealed record Part(LineFacts Line, int Before, int Units, int Asked, ReasonCode Reason, IReadOnlyList<Grade> Grades);

    private static RefundBreakdown Compute(
        ReturnPolicy policy, OrderFacts order, decimal orderShipping,
        IReadOnlyList<Part> parts, Resolution resolution, ReturnMethod method, List<string> notes)
    {
        var cur = order.Currency;
        var lines = new List<RefundLine>();
        var items = parts.Select(p => new RefundItem(p.Line, p.Units, p.Reason)).ToList(); // for the fee waivers
        foreach (var part in parts)
        {
            var l = part.Line;
            // Each return gets the rounded share of the units returned so far, minus what earlier returns got, so however a
            // line comes back (2 + 1, or 1 + 1 + 1), its refunds add up to exactly what it cost.
            var before = part.Before;
            var after = Math.Min(l.Quantity, before + part.Units);
            var net = Share(l.UnitPrice * l.Quantity - l.Discount, before, after, l.Quantity, cur);
            var tax = Share(l.Tax, before, after, l.Quantity, cur);
            var deduction = 0m;
            for (var u = 0; u < Math.Min(part.Grades.Count, after - before); u++)
            {
                var grade = part.Grades[u];
                var pct = policy.DeductionFor(grade);
                if (pct <= 0) continue;
                if (grade is Grade.Damaged or Grade.Defective && policy.FeeWaivedReasons.Contains(part.Reason))
                {
                    notes.Add($"No deduction for unit {u + 1} of line {l.LineId}: graded {Codes.Of(grade)}, as the shopper reported ('{Codes.Of(part.Reason)}').");
                    continue;
                }
                var unitValue = Share(l.UnitPrice * l.Quantity - l.Discount + l.Tax, before + u, before + u + 1, l.Quantity, cur);
                var d = Currencies.Round(unitValue * pct / 100m, cur);
                deduction += d;
                notes.Add($"Unit {u + 1} of line {l.LineId} graded {Codes.Of(grade)}: {Dispositions.Describe(pct)} deducted ({Currencies.Format(d, cur)} {cur}).");
            }
            var restocking = 0m;
            var fee = policy.RuleFor(l.Category)?.RestockingFee ?? policy.RestockingFee;
            if (fee.Value > 0 && part.Units > 0)
            {
                if (method == ReturnMethod.Keep) notes.Add($"No restocking fee on line {l.LineId}: the shopper keeps the item.");
                else if (policy.FeeWaivedReasons.Contains(part.Reason))
                    notes.Add($"Restocking fee waived on line {l.LineId}: reason '{Codes.Of(part.Reason)}' is the merchant's responsibility.");
                else restocking = fee.Type == FeeKind.Percent
                    ? Currencies.Round(net * fee.Value / 100m, cur)
                    : Currencies.Round(fee.Value * part.Units, cur);
            }
            lines.Add(new RefundLine(l.LineId, part.Units, net, tax, restocking, deduction));
        }

        var itemsTotal = lines.Sum(x => x.Items);
        var taxTotal = lines.Sum(x => x.Tax);
        var restockingTotal = lines.Sum(x => x.RestockingFee);
        var deductions = lines.Sum(x => x.Deduction);

        var returnShipping = 0m;
        if (policy.ReturnShippingFee > 0)
        {
            if (method is ReturnMethod.Keep or ReturnMethod.InStore)
                notes.Add($"No return shipping fee: method '{Codes.Of(method)}' needs no carrier.");
            else if (resolution == Resolution.Exchange)
                notes.Add("No return shipping fee: exchanges ship back free.");
            else if (items.All(i => policy.FeeWaivedReasons.Contains(i.Reason)))
                notes.Add("Return shipping fee waived: every line is returned for a reason that is the merchant's responsibility.");
            else returnShipping = Currencies.Round(policy.ReturnShippingFee, cur);
        }

        var shipping = 0m;
        if (policy.RefundOriginalShipping && orderShipping > 0)
        {
            if (WholeOrderComesBack(order, parts))
            {
                shipping = Currencies.Round(orderShipping, cur);
                notes.Add("Original shipping refunded: the whole order comes back.");
            }
            else notes.Add("Original shipping not refunded: only part of the order comes back.");
        }

        var bonus = resolution == Resolution.StoreCredit && policy.StoreCreditBonusPercent > 0
            ? Currencies.Round((itemsTotal + taxTotal - deductions) * policy.StoreCreditBonusPercent / 100m, cur)
            : 0m;
        if (bonus > 0) notes.Add($"Store credit bonus of {policy.StoreCreditBonusPercent:0.##}% on items and tax.");

        // Grade deductions take part of each unit's own value, so they never exceed it; the fees come out of what is left.
        var gross = itemsTotal + taxTotal + shipping + bonus - deductions;
        if (restockingTotal + returnShipping > gross)
        {
            // Fees never take more than the refund: cap them (return shipping first), so the parts still add up.
            returnShipping = Math.Min(returnShipping, gross);
            var restockingCap = gross - returnShipping;
            if (restockingTotal > restockingCap)
            {
                lines = CapRestocking(lines, restockingCap);
                restockingTotal = lines.Sum(x => x.RestockingFee);
            }
            notes.Add("Fees capped at the value returned: the refund is zero.");
        }
        var total = gross - restockingTotal - returnShipping;
        return new RefundBreakdown(cur, itemsTotal, taxTotal, shipping, restockingTotal, returnShipping, bonus, total, lines, notes, deductions);
    }

    /// <summary>The amount for units (before, after] of a line whose total for <paramref name="quantity"/> units is <paramref name="lineTotal"/>.</summary>
    private static decimal Share(decimal lineTotal, int before, int after, int quantity, string currency) =>
        Currencies.Round(lineTotal * after / quantity, currency) - Currencies.Round(lineTotal * before / quantity, currency);

    private static List<RefundLine> CapRestocking(List<RefundLine> lines, decimal cap)
    {
        var capped = new List<RefundLine>(lines.Count);
        foreach (var l in lines)
        {
            var fee = Math.Min(l.RestockingFee, cap);
            cap -= fee;
            capped.Add(l with { RestockingFee = fee });
        }
        return capped;
    }

    /// <summary>Every unit of the order is refunded by the store, held by other returns, or in this one.</summary>
    private static bool WholeOrderComesBack(OrderFacts order, IReadOnlyList<Part> parts) =>
        order.Lines.All(l => parts.Where(p => p.Line.LineId == l.LineId).ToList() is { Count: > 0 } mine
            ? mine.Max(p => p.Before) + mine.Sum(p => p.Units) >= l.Quantity
            : l.RefundedQuantity + l.ReturnedQuantity >= l.Quantity);
}
