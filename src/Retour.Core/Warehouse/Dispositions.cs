using System.Globalization;
using Retour.Core.Money;
using Retour.Core.Returns;

namespace Retour.Core.Warehouse;

/// <summary>
/// One row of a merchant's disposition table. Every condition left null matches anything; the value band is
/// [min_value, max_value) on the unit's value (its price after discount, before tax).
/// </summary>
public sealed record DispositionRule
{
    public string? Name { get; init; }
    public IReadOnlyList<ReasonCode>? Reasons { get; init; }
    public IReadOnlyList<Grade>? Grades { get; init; }
    public IReadOnlyList<string>? Categories { get; init; }
    public decimal? MinValue { get; init; }
    public decimal? MaxValue { get; init; }
    public Disposition Disposition { get; init; }
    /// <summary>Where the unit goes within the disposition, for example "outlet" or "b2b_auction"; null: the disposition's usual one.</summary>
    public string? Channel { get; init; }
}

/// <summary>What the rules look at for one returned unit.</summary>
public sealed record UnitFacts(ReasonCode Reason, Grade Grade, string Category, decimal Value, string? Supplier);

public sealed record DispositionProposal(Disposition Disposition, string Channel, string Explanation, int? Rule);

public static class Dispositions
{
    public static string DefaultChannel(Disposition d) => d switch
    {
        Disposition.Restock => "stock",
        Disposition.Refurbish => "refurbishment",
        Disposition.ReturnToVendor => "supplier",
        Disposition.Liquidate => "outlet",
        Disposition.Donate => "charity",
        Disposition.Recycle => "recycling",
        _ => "waste",
    };

    /// <summary>The table a merchant starts with: sellable goods back on the shelf, faults to the supplier, the rest where it recovers most.</summary>
    public static readonly IReadOnlyList<DispositionRule> DefaultRules =
    [
        new() { Name = "as new: back to stock", Grades = [Grade.New, Grade.LikeNew], Disposition = Disposition.Restock },
        new() { Name = "faulty: claim from the supplier", Grades = [Grade.Defective], Disposition = Disposition.ReturnToVendor },
        new() { Name = "incomplete: refurbish", Grades = [Grade.MissingParts], Disposition = Disposition.Refurbish },
        new() { Name = "faulty without supplier: refurbish if worth it", Grades = [Grade.Defective], MinValue = 50m, Disposition = Disposition.Refurbish },
        new() { Name = "used: outlet", Grades = [Grade.Used], Disposition = Disposition.Liquidate, Channel = "outlet" },
        new() { Name = "damaged and valuable: refurbish", Grades = [Grade.Damaged], MinValue = 100m, Disposition = Disposition.Refurbish },
        new() { Name = "wrong item: sort and sell", Grades = [Grade.WrongItem], Disposition = Disposition.Liquidate, Channel = "unsorted" },
        new() { Name = "anything else: recycle", Disposition = Disposition.Recycle },
    ];

    /// <summary>
    /// The first rule that matches proposes. A return-to-vendor rule is passed over when the product has no supplier
    /// (nobody to claim from), and the explanation says so. Null when nothing came back to route (not_received).
    /// </summary>
    public static DispositionProposal? Propose(IReadOnlyList<DispositionRule> rules, UnitFacts unit, string currency)
    {
        if (Grades.NothingToRoute(unit.Grade)) return null;
        var skipped = new List<string>();
        for (var i = 0; i < rules.Count; i++)
        {
            var r = rules[i];
            if (!Matches(r, unit)) continue;
            if (r.Disposition == Disposition.ReturnToVendor && string.IsNullOrEmpty(unit.Supplier))
            {
                skipped.Add($"rule {i + 1} ({Label(r)}) would return it to the vendor, but the product has no supplier");
                continue;
            }
            var channel = r.Channel ?? DefaultChannel(r.Disposition);
            var because = Conditions(r, unit, currency);
            var text = $"Rule {i + 1} ({Label(r)}): {because} → {Codes.Of(r.Disposition)} via {channel}.";
            if (skipped.Count > 0) text += " Passed over: " + string.Join("; ", skipped) + ".";
            return new DispositionProposal(r.Disposition, channel, text, i + 1);
        }
        var fallback = $"No rule matched grade {Codes.Of(unit.Grade)}, reason {Codes.Of(unit.Reason)}, category {unit.Category}; " +
                       "liquidated as unsorted stock so some value is recovered, and a person should check it.";
        if (skipped.Count > 0) fallback += " Passed over: " + string.Join("; ", skipped) + ".";
        return new DispositionProposal(Disposition.Liquidate, "unsorted", fallback, null);
    }

    private static bool Matches(DispositionRule r, UnitFacts u) =>
        (r.Reasons is null || r.Reasons.Contains(u.Reason)) &&
        (r.Grades is null || r.Grades.Contains(u.Grade)) &&
        (r.Categories is null || r.Categories.Contains(u.Category)) &&
        (r.MinValue is null || u.Value >= r.MinValue) &&
        (r.MaxValue is null || u.Value < r.MaxValue);

    private static string Label(DispositionRule r) => r.Name ?? Codes.Of(r.Disposition);

    private static string Conditions(DispositionRule r, UnitFacts u, string currency)
    {
        var parts = new List<string>();
        if (r.Grades is not null) parts.Add($"grade {Codes.Of(u.Grade)}");
        if (r.Reasons is not null) parts.Add($"reason {Codes.Of(u.Reason)}");
        if (r.Categories is not null) parts.Add($"category {u.Category}");
        if (r.MinValue is not null || r.MaxValue is not null)
        {
            var band = (r.MinValue, r.MaxValue) switch
            {
                ({ } lo, { } hi) => $"{F(lo)}–{F(hi)}",
                ({ } lo, null) => $"≥ {F(lo)}",
                (null, { } hi) => $"< {F(hi)}",
                _ => "",
            };
            parts.Add($"value {F(u.Value)} {currency} in band {band}");
        }
        return parts.Count == 0 ? "matches every unit" : string.Join(", ", parts);
        string F(decimal v) => Currencies.Format(v, currency);
    }

    /// <summary>
    /// The value a disposition is expected to recover: restock sells at the unit's value, the supplier credits its cost,
    /// refurbishment recovers <see cref="WarehouseRules.RefurbishPercent"/> of the value, liquidation the grade's
    /// percentage of the cost (the value when the cost is unknown); donating, recycling and disposing recover nothing.
    /// </summary>
    public static decimal ExpectedRecovery(WarehouseRules rules, Disposition d, Grade grade, decimal value, decimal? cost, string currency)
    {
        var basis = cost ?? value;
        var amount = d switch
        {
            Disposition.Restock => value,
            Disposition.ReturnToVendor => basis,
            Disposition.Refurbish => value * rules.RefurbishPercent / 100m,
            Disposition.Liquidate => basis * rules.LiquidationPercent(grade) / 100m,
            _ => 0m,
        };
        return Currencies.Round(amount, currency);
    }

    public static string Describe(decimal percent) => percent.ToString("0.##", CultureInfo.InvariantCulture) + "%";
}
