using Retour.Core.Returns;

namespace Retour.Core.Policies;

/// <summary>What the core needs to know about an order line. Amounts are line totals except <see cref="UnitPrice"/>.</summary>
public sealed record LineFacts(
    string LineId,
    string? Sku,
    string? ProductCode,
    string Category,
    int Quantity,
    int RefundedQuantity,
    int ReturnedQuantity,
    decimal UnitPrice,
    decimal Tax,
    decimal Discount,
    bool FinalSale)
{
    /// <summary>What one unit cost the shopper: price after its share of the discount, plus its share of the tax.</summary>
    public decimal UnitValue => Quantity == 0 ? 0 : UnitPrice - Discount / Quantity + Tax / Quantity;
    public int RemainingQuantity => Math.Max(0, Quantity - RefundedQuantity - ReturnedQuantity);
}

public sealed record OrderFacts(
    DateTimeOffset PlacedAt,
    DateTimeOffset? DeliveredAt,
    DateTimeOffset? FulfilledAt,
    DateTimeOffset? CancelledAt,
    string Currency,
    IReadOnlyList<LineFacts> Lines);

public sealed record LineVerdict(
    LineFacts Line,
    int ReturnableQuantity,
    DateTimeOffset? Deadline,
    NotReturnableReason? Reason,
    IReadOnlyList<Resolution> Resolutions,
    IReadOnlyList<ReturnMethod> Methods,
    string Explanation)
{
    public bool Returnable => Reason is null;
}

/// <summary>Answers, per order line, whether it can come back, how many, until when and how.</summary>
public static class Returnability
{
    public static IReadOnlyList<LineVerdict> Evaluate(OrderFacts order, ReturnPolicy policy, DateTimeOffset now, TimeZoneInfo zone)
    {
        var delivered = EffectiveDelivery(order, policy, now);
        return [.. order.Lines.Select(l => Judge(l, order, delivered, policy, now, zone))];
    }

    public static DateTimeOffset? EffectiveDelivery(OrderFacts order, ReturnPolicy policy, DateTimeOffset now)
    {
        if (order.DeliveredAt is { } d) return d;
        if (policy.AssumeDeliveredAfterDays is { } days && order.FulfilledAt is { } f && f.AddDays(days) <= now)
            return f.AddDays(days);
        return null;
    }

    private static LineVerdict Judge(LineFacts line, OrderFacts order, DateTimeOffset? delivered, ReturnPolicy policy, DateTimeOffset now, TimeZoneInfo zone)
    {
        var rule = policy.RuleFor(line.Category);
        var resolutions = rule?.Resolutions ?? policy.Resolutions;
        var methods = MethodsFor(line, rule, policy);
        DateTimeOffset? deadline = null;
        var windowText = "";
        if (delivered is { } d) (deadline, windowText) = Deadline(line, rule, policy, order.PlacedAt, d, zone);

        LineVerdict No(NotReturnableReason reason, string why) => new(line, 0, deadline, reason, [], [], why);

        if (order.CancelledAt is not null)
            return No(NotReturnableReason.OrderCancelled, "The order was cancelled.");
        if (line.RemainingQuantity == 0)
            return No(NotReturnableReason.AlreadyReturned,
                $"All {line.Quantity} unit(s) are already returned or refunded ({line.ReturnedQuantity} in returns, {line.RefundedQuantity} refunded in the store).");
        if (line.FinalSale)
            return No(NotReturnableReason.FinalSale, "The item was sold as final sale.");
        if (policy.NonReturnableCategories.Contains(line.Category))
            return No(NotReturnableReason.NonReturnableCategory, $"The policy makes category '{line.Category}' non-returnable.");
        if (delivered is null)
            return No(NotReturnableReason.NotDelivered, "The order has not been delivered yet; the window starts at delivery.");
        // The deadline is shown as the day's last second (23:59:59); that whole second still counts.
        if (now >= deadline!.Value.AddSeconds(1))
            return No(NotReturnableReason.WindowPassed, $"{windowText}; that passed.");
        return new LineVerdict(line, line.RemainingQuantity, deadline, null, resolutions, methods, windowText + ".");
    }

    private static IReadOnlyList<ReturnMethod> MethodsFor(LineFacts line, CategoryRule? rule, ReturnPolicy policy)
    {
        var methods = rule?.Methods ?? policy.Methods;
        if (!methods.Contains(ReturnMethod.Keep) || policy.KeepItThreshold is not { } limit || line.UnitValue < limit)
            return methods;
        return [.. methods.Where(m => m != ReturnMethod.Keep)];
    }

    private static (DateTimeOffset, string) Deadline(LineFacts line, CategoryRule? rule, ReturnPolicy policy, DateTimeOffset placedAt, DateTimeOffset delivered, TimeZoneInfo zone)
    {
        int days;
        string source;
        if (line.Sku is { } sku && policy.ProductWindows.TryGetValue(sku, out var bySku)) (days, source) = (bySku, $"product '{sku}'");
        else if (line.ProductCode is { } pc && policy.ProductWindows.TryGetValue(pc, out var byProduct)) (days, source) = (byProduct, $"product '{pc}'");
        else if (rule?.WindowDays is { } byCategory) (days, source) = (byCategory, $"category '{line.Category}'");
        else (days, source) = (policy.WindowDays, "the policy");

        var deliveredDay = LocalDate(delivered, zone);
        var deadline = EndOfDay(deliveredDay.AddDays(days), zone);
        var text = $"{days}-day window of {source} from delivery on {deliveredDay:yyyy-MM-dd} ({zone.Id}): returnable until {deadline.ToOffset(zone.GetUtcOffset(deadline)):yyyy-MM-dd HH:mm} local time";

        var placedDay = LocalDate(placedAt, zone);
        foreach (var ext in policy.SeasonalExtensions)
        {
            var until = ExtensionEnd(ext, placedDay);
            if (until is null) continue;
            var extended = EndOfDay(until.Value, zone);
            if (extended > deadline)
            {
                deadline = extended;
                text = $"seasonal extension '{ext.Name}' for orders placed {ext.PlacedFrom} to {ext.PlacedTo}: returnable until {until:yyyy-MM-dd} (longer than the {days}-day window of {source})";
            }
        }
        return (deadline, text);
    }

    /// <summary>The last day of an extension for an order placed on <paramref name="placed"/>, or null when it does not apply.</summary>
    public static DateOnly? ExtensionEnd(SeasonalExtension ext, DateOnly placed)
    {
        var from = MonthDay.Parse(ext.PlacedFrom);
        var to = MonthDay.Parse(ext.PlacedTo);
        var until = MonthDay.Parse(ext.ReturnableUntil);
        var key = placed.Month * 100 + placed.Day;
        var inside = from.Key <= to.Key ? key >= from.Key && key <= to.Key : key >= from.Key || key <= to.Key;
        if (!inside) return null;
        var end = until.In(placed.Year);
        return end >= placed ? end : until.In(placed.Year + 1);
    }

    public static DateOnly LocalDate(DateTimeOffset instant, TimeZoneInfo zone) =>
        DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime);

    /// <summary>The first instant of a local calendar day, in UTC (PostgreSQL's timestamptz takes no other offset).</summary>
    public static DateTimeOffset StartOfDay(DateOnly day, TimeZoneInfo zone)
    {
        var midnight = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        // Where a DST change skips midnight, the day starts at the first valid local time after it.
        while (zone.IsInvalidTime(midnight)) midnight = midnight.AddMinutes(30);
        var offset = zone.IsAmbiguousTime(midnight) ? zone.GetAmbiguousTimeOffsets(midnight).Max() : zone.GetUtcOffset(midnight);
        return new DateTimeOffset(midnight, offset).ToUniversalTime();
    }

    /// <summary>The last second of a local calendar day, as an instant.</summary>
    public static DateTimeOffset EndOfDay(DateOnly day, TimeZoneInfo zone) => StartOfDay(day.AddDays(1), zone).AddSeconds(-1);
}
