using System.Globalization;
using Retour.Core.Returns;

namespace Retour.Core.Policies;

public static class PolicyValidator
{
    private const int MaxWindowDays = 3650;
    /// <summary>How far back the return-rate rule may look (the order loader reads this many earlier orders).</summary>
    public const int MaxHistoryOrders = 100;

    public static IReadOnlyList<FieldError> Validate(ReturnPolicy p)
    {
        var errors = new List<FieldError>();
        void Fail(string field, string message) => errors.Add(new FieldError(field, message));

        // JSON can put null where the types do not allow it (inside lists and maps); refuse it before reading further.
        if (p.SeasonalExtensions.Any(x => x is null)) Fail("seasonal_extensions", "An extension cannot be null.");
        if (p.Categories.Any(kv => kv.Value is null)) Fail("categories", "A category rule cannot be null; leave the category out instead.");
        if (p.NonReturnableCategories.Any(x => x is null)) Fail("non_returnable_categories", "A category cannot be null.");
        if (p.Conditions.Any(x => x is null)) Fail("conditions", "A condition cannot be null.");
        if (p.SubReasons.Any(kv => kv.Value is null || kv.Value.Any(x => x is null))) Fail("sub_reasons", "Sub-reason lists and their codes cannot be null.");
        if (p.GradeDeductions is null) Fail("grade_deductions", "Leave it out for the defaults, or send {} for no deductions.");
        if (errors.Count > 0) return errors;

        CheckWindow("window_days", p.WindowDays);
        if (p.Resolutions.Count == 0) Fail("resolutions", "At least one resolution must be allowed.");
        if (p.Methods.Count == 0) Fail("methods", "At least one return method must be allowed.");
        CheckFee("restocking_fee", p.RestockingFee);
        CheckMoney("return_shipping_fee", p.ReturnShippingFee);
        if (p.KeepItThreshold is { } k) CheckMoney("keep_it_threshold", k);
        CheckPercent("store_credit_bonus_percent", p.StoreCreditBonusPercent);
        if (p.AssumeDeliveredAfterDays is < 0 or > 365)
            Fail("assume_delivered_after_days", "Must be between 0 and 365 days.");
        if (p.LabelValidDays is < 1 or > 365)
            Fail("label_valid_days", "Must be between 1 and 365 days, or null for labels that never expire.");

        foreach (var (category, rule) in p.Categories)
        {
            var path = $"categories.{category}";
            if (category != Categories.Normalize(category))
                Fail(path, $"Category keys are lower-case with underscores: use '{Categories.Normalize(category)}'.");
            if (rule.WindowDays is { } w) CheckWindow($"{path}.window_days", w);
            if (rule.Resolutions is { Count: 0 }) Fail($"{path}.resolutions", "Leave it out to inherit, or allow at least one resolution.");
            if (rule.Methods is { Count: 0 }) Fail($"{path}.methods", "Leave it out to inherit, or allow at least one method.");
            if (rule.RestockingFee is { } f) CheckFee($"{path}.restocking_fee", f);
        }
        foreach (var (product, days) in p.ProductWindows)
        {
            if (string.IsNullOrWhiteSpace(product)) Fail("product_windows", "Product keys must not be empty.");
            CheckWindow($"product_windows.{product}", days);
        }
        for (var i = 0; i < p.NonReturnableCategories.Count; i++)
        {
            var c = p.NonReturnableCategories[i];
            if (c != Categories.Normalize(c))
                Fail($"non_returnable_categories[{i}]", $"Category names are lower-case with underscores: use '{Categories.Normalize(c)}'.");
        }
        for (var i = 0; i < p.SeasonalExtensions.Count; i++)
        {
            var s = p.SeasonalExtensions[i];
            var path = $"seasonal_extensions[{i}]";
            if (string.IsNullOrWhiteSpace(s.Name)) Fail($"{path}.name", "Give the extension a name, for example 'holiday'.");
            if (!MonthDay.TryParse(s.PlacedFrom, out _)) Fail($"{path}.placed_from", "Use MM-DD, for example 11-15.");
            if (!MonthDay.TryParse(s.PlacedTo, out _)) Fail($"{path}.placed_to", "Use MM-DD, for example 12-24.");
            if (!MonthDay.TryParse(s.ReturnableUntil, out _)) Fail($"{path}.returnable_until", "Use MM-DD, for example 01-31.");
        }
        foreach (var (reason, subs) in p.SubReasons)
        {
            var path = $"sub_reasons.{reason}";
            if (!Codes.TryParse<ReasonCode>(reason, out _))
                Fail(path, $"'{reason}' is not a reason code. Use one of: {string.Join(", ", Codes.All<ReasonCode>())}.");
            if (subs.Count > 20) Fail(path, "At most 20 sub-reasons per reason.");
            for (var i = 0; i < subs.Count; i++)
                if (!System.Text.RegularExpressions.Regex.IsMatch(subs[i], "^[a-z][a-z0-9_]{0,63}$"))
                    Fail($"{path}[{i}]", "Sub-reason codes are lower-case letters, digits and underscores, at most 64 characters, for example too_tight.");
            if (subs.Distinct().Count() != subs.Count) Fail(path, "A sub-reason appears twice.");
        }
        foreach (var (grade, pct) in p.GradeDeductions!)
        {
            if (!Codes.TryParse<Warehouse.Grade>(grade, out _))
                Fail($"grade_deductions.{grade}", $"'{grade}' is not a grade. Use one of: {string.Join(", ", Codes.All<Warehouse.Grade>())}.");
            CheckPercent($"grade_deductions.{grade}", pct);
        }
        if (p.StoreCreditValidDays is < 1 or > 3650)
            Fail("store_credit_valid_days", "Must be between 1 and 3650 days, or null for credit that never expires.");
        var a2 = p.AutoApproval;
        if (a2.MaxTotal is { } max) CheckMoney("auto_approval.max_total", max);
        if (a2.HistoryOrders is < 1 or > MaxHistoryOrders) Fail("auto_approval.history_orders", $"Must be between 1 and {MaxHistoryOrders}.");
        if (a2.MinHistoryOrders < 0 || a2.MinHistoryOrders > a2.HistoryOrders)
            Fail("auto_approval.min_history_orders", "Must be between 0 and history_orders.");
        CheckPercent("auto_approval.max_return_rate_percent", a2.MaxReturnRatePercent);
        return errors;

        void CheckWindow(string field, int days)
        {
            if (days is < 0 or > MaxWindowDays) Fail(field, $"Must be between 0 and {MaxWindowDays} days.");
        }
        void CheckMoney(string field, decimal value)
        {
            if (value < 0) Fail(field, "Must not be negative.");
            else if (value > 1_000_000_000m) Fail(field, "Is too large.");
        }
        void CheckPercent(string field, decimal value)
        {
            if (value is < 0 or > 100) Fail(field, "Must be a percentage between 0 and 100.");
        }
        void CheckFee(string field, Fee fee)
        {
            if (fee.Type == FeeKind.Percent) CheckPercent($"{field}.value", fee.Value);
            else CheckMoney($"{field}.value", fee.Value);
        }
    }
}

/// <summary>A day of the year written as MM-DD, without a year.</summary>
public readonly record struct MonthDay(int Month, int Day)
{
    public static bool TryParse(string? text, out MonthDay value)
    {
        value = default;
        if (text is not { Length: 5 } || text[2] != '-') return false;
        if (!int.TryParse(text.AsSpan(0, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var m)) return false;
        if (!int.TryParse(text.AsSpan(3, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var d)) return false;
        if (m is < 1 or > 12 || d < 1 || d > DateTime.DaysInMonth(2024, m)) return false; // 2024: allow 02-29
        value = new MonthDay(m, d);
        return true;
    }

    public static MonthDay Parse(string text) =>
        TryParse(text, out var v) ? v : throw new FormatException($"'{text}' is not MM-DD.");

    public int Key => Month * 100 + Day;

    /// <summary>This month-day in the given year; 02-29 falls back to 02-28 in common years.</summary>
    public DateOnly In(int year) => new(year, Month, Math.Min(Day, DateTime.DaysInMonth(year, Month)));
}
