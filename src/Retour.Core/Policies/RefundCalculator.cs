using Retour.Core.Money;
using Retour.Core.Returns;

namespace Retour.Core.Policies;

public sealed record RefundItem(LineFacts Line, int Quantity, ReasonCode Reason);

public sealed record RefundLine(string OrderLineId, int Quantity, decimal Items, decimal Tax, decimal RestockingFee);

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
    IReadOnlyList<string> Notes);

public static class RefundCalculator
{
    public static RefundBreakdown Estimate(
        ReturnPolicy policy, OrderFacts order, decimal orderShipping,
        IReadOnlyList<RefundItem> items, Resolution resolution, ReturnMethod method)
    {
        var cur = order.Currency;
        var notes = new List<string>();
        var lines = new List<RefundLine>();
        foreach (var item in items)
        {
            var l = item.Line;
            // Each return gets the rounded share of the units returned so far, minus what earlier returns got, so however a
            // line comes back (2 + 1, or 1 + 1 + 1), its refunds add up to exactly what it cost.
            var before = Math.Min(l.Quantity, l.ReturnedQuantity + l.RefundedQuantity);
            var after = Math.Min(l.Quantity, before + item.Quantity);
            var net = Share(l.UnitPrice * l.Quantity - l.Discount, before, after, l.Quantity, cur);
            var tax = Share(l.Tax, before, after, l.Quantity, cur);
            var restocking = 0m;
            var fee = policy.RuleFor(l.Category)?.RestockingFee ?? policy.RestockingFee;
            if (fee.Value > 0)
            {
                if (method == ReturnMethod.Keep) notes.Add($"No restocking fee on line {l.LineId}: the shopper keeps the item.");
                else if (policy.FeeWaivedReasons.Contains(item.Reason))
                    notes.Add($"Restocking fee waived on line {l.LineId}: reason '{Codes.Of(item.Reason)}' is the merchant's responsibility.");
                else restocking = fee.Type == FeeKind.Percent
                    ? Currencies.Round(net * fee.Value / 100m, cur)
                    : Currencies.Round(fee.Value * item.Quantity, cur);
            }
            lines.Add(new RefundLine(l.LineId, item.Quantity, net, tax, restocking));
        }

        var itemsTotal = lines.Sum(x => x.Items);
        var taxTotal = lines.Sum(x => x.Tax);
        var restockingTotal = lines.Sum(x => x.RestockingFee);

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
            if (WholeOrderComesBack(order, items))
            {
                shipping = Currencies.Round(orderShipping, cur);
                notes.Add("Original shipping refunded: the whole order comes back.");
            }
            else notes.Add("Original shipping not refunded: only part of the order comes back.");
        }

        var bonus = resolution == Resolution.StoreCredit && policy.StoreCreditBonusPercent > 0
            ? Currencies.Round((itemsTotal + taxTotal) * policy.StoreCreditBonusPercent / 100m, cur)
            : 0m;
        if (bonus > 0) notes.Add($"Store credit bonus of {policy.StoreCreditBonusPercent:0.##}% on items and tax.");

        var gross = itemsTotal + taxTotal + shipping + bonus;
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
        return new RefundBreakdown(cur, itemsTotal, taxTotal, shipping, restockingTotal, returnShipping, bonus, total, lines, notes);
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

    private static bool WholeOrderComesBack(OrderFacts order, IReadOnlyList<RefundItem> items) =>
        order.Lines.All(l =>
            l.RefundedQuantity + l.ReturnedQuantity + items.Where(i => i.Line.LineId == l.LineId).Sum(i => i.Quantity) >= l.Quantity);
}
