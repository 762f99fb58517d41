namespace Retour.Core.Money;

/// <summary>ISO 4217 codes and their minor units, so that amounts round the way each currency's own books do.</summary>
public static class Currencies
{
    // ISO 4217 minor units that differ from the usual two decimals.
    private static readonly Dictionary<string, int> Exceptions = new(StringComparer.Ordinal)
    {
        ["BIF"] = 0, ["CLP"] = 0, ["DJF"] = 0, ["GNF"] = 0, ["ISK"] = 0, ["JPY"] = 0, ["KMF"] = 0,
        ["KRW"] = 0, ["PYG"] = 0, ["RWF"] = 0, ["UGX"] = 0, ["UYI"] = 0, ["VND"] = 0, ["VUV"] = 0,
        ["XAF"] = 0, ["XOF"] = 0, ["XPF"] = 0,
        ["BHD"] = 3, ["IQD"] = 3, ["JOD"] = 3, ["KWD"] = 3, ["LYD"] = 3, ["OMR"] = 3, ["TND"] = 3,
        ["CLF"] = 4, ["UYW"] = 4,
    };

    public static bool IsValid(string? code) =>
        code is { Length: 3 } && code.All(c => c is >= 'A' and <= 'Z');

    public static int Decimals(string code) => Exceptions.TryGetValue(code, out var d) ? d : 2;

    /// <summary>Commercial rounding (half away from zero) to the currency's minor unit.</summary>
    public static decimal Round(decimal amount, string currency) =>
        Math.Round(amount, Decimals(currency), MidpointRounding.AwayFromZero);

    /// <summary>The wire form: a decimal string with exactly the currency's decimals, invariant culture.</summary>
    public static string Format(decimal amount, string currency) =>
        Round(amount, currency).ToString("F" + Decimals(currency), System.Globalization.CultureInfo.InvariantCulture);
}
