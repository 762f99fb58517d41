using Retour.Core.Returns;

namespace Retour.Core.Warehouse;

/// <summary>A supplier that takes faulty goods back within its claim window (days from the sale).</summary>
public sealed record Supplier(string Code, string Name, int ClaimDays);

/// <summary>A merchant's warehouse settings: inspection checklists, the disposition table, recovery rates and suppliers.</summary>
public sealed record WarehouseRules
{
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Checklists { get; init; } = Warehouse.Checklists.Defaults;
    public IReadOnlyList<DispositionRule> Dispositions { get; init; } = Warehouse.Dispositions.DefaultRules;
    /// <summary>Percent of cost that liquidation recovers, by grade code.</summary>
    public IReadOnlyDictionary<string, decimal> LiquidationPercents { get; init; } = DefaultLiquidation;
    public decimal RefurbishPercent { get; init; } = 70m;
    public IReadOnlyList<Supplier> Suppliers { get; init; } = [];
    /// <summary>A supplier batch warns when its claim deadline is this many days away or fewer.</summary>
    public int ClaimWarningDays { get; init; } = 7;

    public static readonly IReadOnlyDictionary<string, decimal> DefaultLiquidation = new Dictionary<string, decimal>
    {
        ["new"] = 60m, ["like_new"] = 50m, ["used"] = 30m, ["damaged"] = 10m, ["defective"] = 5m, ["missing_parts"] = 15m, ["wrong_item"] = 20m,
    };

    public static WarehouseRules Default { get; } = new();

    public decimal LiquidationPercent(Grade g) => LiquidationPercents.GetValueOrDefault(Codes.Of(g), 0m);

    public Supplier? SupplierOf(string? code) =>
        code is null ? null : Suppliers.FirstOrDefault(s => string.Equals(s.Code, code, StringComparison.OrdinalIgnoreCase));

    public IReadOnlyList<FieldError> Validate()
    {
        var errors = new List<FieldError>();
        if (Checklists is null || Dispositions is null || LiquidationPercents is null || Suppliers is null)
            return [new FieldError("body", "checklists, dispositions, liquidation_percents and suppliers cannot be null; leave them out for the defaults.")];
        errors.AddRange(Warehouse.Checklists.Validate(Checklists, "checklists"));
        if (Dispositions.Count > 200) errors.Add(new("dispositions", "At most 200 rules."));
        for (var i = 0; i < Dispositions.Count; i++)
        {
            var r = Dispositions[i];
            var p = $"dispositions[{i}]";
            if (r is null) { errors.Add(new(p, "A rule cannot be null.")); continue; }
            if (r.MinValue is < 0) errors.Add(new($"{p}.min_value", "Must not be negative."));
            if (r.MinValue is { } lo && r.MaxValue is { } hi && hi <= lo) errors.Add(new($"{p}.max_value", "Must be above min_value."));
            if (r.Channel is { } c && !System.Text.RegularExpressions.Regex.IsMatch(c, "^[a-z][a-z0-9_]{0,63}$"))
                errors.Add(new($"{p}.channel", "Channels are codes: lower-case letters, digits and underscores, for example b2b_auction."));
            if (r.Categories?.Any(x => x is null || x != Policies.Categories.Normalize(x)) == true)
                errors.Add(new($"{p}.categories", "Categories are lower-case with underscores, as on orders."));
            if (r.Name is { Length: > 100 }) errors.Add(new($"{p}.name", "At most 100 characters."));
        }
        foreach (var (grade, pct) in LiquidationPercents)
        {
            if (!Codes.TryParse<Grade>(grade, out _)) errors.Add(new($"liquidation_percents.{grade}", $"Not a grade. Use one of: {string.Join(", ", Codes.All<Grade>())}."));
            if (pct is < 0 or > 100) errors.Add(new($"liquidation_percents.{grade}", "Must be a percentage between 0 and 100."));
        }
        if (RefurbishPercent is < 0 or > 100) errors.Add(new("refurbish_percent", "Must be a percentage between 0 and 100."));
        if (ClaimWarningDays is < 0 or > 365) errors.Add(new("claim_warning_days", "Must be between 0 and 365."));
        for (var i = 0; i < Suppliers.Count; i++)
        {
            var s = Suppliers[i];
            var p = $"suppliers[{i}]";
            if (s is null) { errors.Add(new(p, "A supplier cannot be null.")); continue; }
            if (string.IsNullOrWhiteSpace(s.Code) || s.Code.Length > 100) errors.Add(new($"{p}.code", "Give the supplier's code as on products (at most 100 characters)."));
            if (string.IsNullOrWhiteSpace(s.Name) || s.Name.Length > 200) errors.Add(new($"{p}.name", "Give the supplier's name (at most 200 characters)."));
            if (s.ClaimDays is < 1 or > 3650) errors.Add(new($"{p}.claim_days", "Must be between 1 and 3650 days."));
        }
        if (Suppliers.Where(s => s is not null).GroupBy(s => s.Code, StringComparer.OrdinalIgnoreCase).Any(g => g.Count() > 1))
            errors.Add(new("suppliers", "A supplier code appears twice."));
        return errors;
    }
}

/// <summary>A supplier's claim window for a unit sold at a given time.</summary>
public static class ClaimWindow
{
    public static DateTimeOffset Deadline(DateTimeOffset soldAt, int claimDays) => soldAt.AddDays(claimDays);

    /// <summary>Whole days left (negative once passed).</summary>
    public static int DaysLeft(DateTimeOffset deadline, DateTimeOffset now) => (int)Math.Floor((deadline - now).TotalDays);

    public static bool Warn(DateTimeOffset deadline, DateTimeOffset now, int warningDays) => DaysLeft(deadline, now) <= warningDays;
}
