using System.Globalization;
using System.Text.RegularExpressions;

namespace Retour.Core.Logistics;

/// <summary>
/// Postal codes within a country: a prefix ("8", "SW1*") or an inclusive range of prefixes of the same length
/// ("10000..19999", "10..19"). Codes are compared without spaces or hyphens and in upper case, so "SW1A 1AA" and "00-950" work.
/// </summary>
public sealed record PostalPattern(string From, string To)
{
    public bool IsPrefix => From == To;

    public bool Matches(string normalizedCode)
    {
        if (normalizedCode.Length < From.Length) return false;
        var head = normalizedCode[..From.Length];
        return string.CompareOrdinal(head, From) >= 0 && string.CompareOrdinal(head, To) <= 0;
    }

    public override string ToString() => IsPrefix ? From + "*" : $"{From}..{To}";

    public static string Normalize(string? code) =>
        code is null ? "" : new string([.. code.Where(ch => ch is not (' ' or '-')).Select(char.ToUpperInvariant)]);

    public static PostalPattern? Parse(string text, out string? error)
    {
        error = null;
        var t = text.Trim();
        var parts = t.Split("..");
        if (parts.Length == 2)
        {
            var (a, b) = (Normalize(parts[0]), Normalize(parts[1]));
            if (a.Length == 0 || b.Length == 0 || a.Length != b.Length) { error = $"'{t}': a range needs two codes of the same length, for example 10000..19999."; return null; }
            if (string.CompareOrdinal(a, b) > 0) { error = $"'{t}': the range starts after it ends."; return null; }
            if (!a.All(char.IsAsciiLetterOrDigit) || !b.All(char.IsAsciiLetterOrDigit)) { error = $"'{t}': postal codes hold letters and digits only."; return null; }
            return new PostalPattern(a, b);
        }
        var p = Normalize(t.TrimEnd('*'));
        if (parts.Length > 2 || p.Length == 0 || p.Length > 10 || !p.All(char.IsAsciiLetterOrDigit))
        { error = $"'{t}': use a prefix such as 8 or SW1*, or a range such as 10000..19999."; return null; }
        return new PostalPattern(p, p);
    }
}

/// <summary>Where a carrier works: a country, whole or limited to postal-code prefixes and ranges.</summary>
public sealed record ServiceArea(string Country, IReadOnlyList<PostalPattern> PostalCodes)
{
    public bool Matches(string? country, string? postalCode)
    {
        if (!string.Equals(country, Country, StringComparison.OrdinalIgnoreCase)) return false;
        if (PostalCodes.Count == 0) return true;
        var code = PostalPattern.Normalize(postalCode);
        return code.Length > 0 && PostalCodes.Any(p => p.Matches(code));
    }

    public override string ToString() => PostalCodes.Count == 0 ? Country : $"{Country}:{string.Join(",", PostalCodes)}";

    private static readonly Regex CountryCode = new("^[A-Z]{2}$", RegexOptions.CultureInvariant);

    /// <summary>The compact form used in CSV files and storage: <c>DE:10000..19999,8*;AT</c>.</summary>
    public static IReadOnlyList<ServiceArea> ParseList(string? text, string field, List<FieldError> errors)
    {
        var list = new List<ServiceArea>();
        if (string.IsNullOrWhiteSpace(text)) return list;
        foreach (var item in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = item.IndexOf(':');
            var codes = colon < 0 ? [] : item[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (Build(colon < 0 ? item : item[..colon], codes, $"{field}", errors) is { } area) list.Add(area);
        }
        return list;
    }

    public static ServiceArea? Build(string? country, IEnumerable<string>? codes, string field, List<FieldError> errors)
    {
        var c = country?.Trim().ToUpperInvariant() ?? "";
        if (!CountryCode.IsMatch(c)) { errors.Add(new FieldError(field, $"'{country}' is not a two-letter ISO country code.")); return null; }
        var patterns = new List<PostalPattern>();
        foreach (var code in codes ?? [])
        {
            if (PostalPattern.Parse(code, out var error) is { } p) patterns.Add(p);
            else errors.Add(new FieldError(field, error!));
        }
        return new ServiceArea(c, patterns);
    }

    public static string Format(IEnumerable<ServiceArea> areas) => string.Join(";", areas);
}

/// <summary>A zone of a rate card: the origins (the shopper's address) it prices.</summary>
public sealed record RateZone(string Code, IReadOnlyList<ServiceArea> Areas);

/// <summary>Prices per zone for parcels up to <see cref="MaxGrams"/>.</summary>
public sealed record WeightBand(int MaxGrams, IReadOnlyDictionary<string, decimal> Prices);

/// <summary>What the carrier charges the merchant: zones × weight bands, in one currency.</summary>
public sealed record RateCard(string Currency, IReadOnlyList<RateZone> Zones, IReadOnlyList<WeightBand> Bands)
{
    public RateZone? ZoneFor(string? country, string? postalCode) => Zones.FirstOrDefault(z => z.Areas.Any(a => a.Matches(country, postalCode)));

    /// <summary>The price, or why there is none.</summary>
    public (decimal? Price, string? Reason) Quote(string? country, string? postalCode, int grams)
    {
        var zone = ZoneFor(country, postalCode);
        if (zone is null) return (null, $"its rate card has no zone for {country} {postalCode}".TrimEnd());
        var band = Bands.OrderBy(b => b.MaxGrams).FirstOrDefault(b => b.MaxGrams >= grams);
        if (band is null) return (null, $"the parcel ({grams} g) is heavier than its heaviest band ({Bands.Max(b => b.MaxGrams)} g)");
        return band.Prices.TryGetValue(zone.Code, out var price)
            ? (price, null)
            : (null, $"its rate card has no price for zone '{zone.Code}' up to {band.MaxGrams} g");
    }

    public IReadOnlyList<FieldError> Validate(string field)
    {
        var errors = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(Currency) || Currency.Length != 3 || !Currency.All(char.IsAsciiLetterUpper))
            errors.Add(new FieldError($"{field}.currency", "Use a three-letter ISO currency code, for example EUR."));
        if (Zones.Count == 0) errors.Add(new FieldError($"{field}.zones", "A rate card needs at least one zone."));
        if (Bands.Count == 0) errors.Add(new FieldError($"{field}.bands", "A rate card needs at least one weight band."));
        var codes = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Zones.Count; i++)
        {
            var z = Zones[i];
            if (string.IsNullOrWhiteSpace(z.Code) || z.Code.Length > 32) errors.Add(new FieldError($"{field}.zones[{i}].code", "A zone needs a code of 1 to 32 characters."));
            else if (!codes.Add(z.Code)) errors.Add(new FieldError($"{field}.zones[{i}].code", $"Zone '{z.Code}' appears twice."));
            if (z.Areas.Count == 0) errors.Add(new FieldError($"{field}.zones[{i}].areas", "A zone needs at least one area."));
        }
        var weights = new HashSet<int>();
        for (var i = 0; i < Bands.Count; i++)
        {
            var b = Bands[i];
            if (b.MaxGrams is <= 0 or > 1_000_000) errors.Add(new FieldError($"{field}.bands[{i}].max_grams", "Use a weight from 1 to 1000000 grams."));
            else if (!weights.Add(b.MaxGrams)) errors.Add(new FieldError($"{field}.bands[{i}].max_grams", $"Two bands end at {b.MaxGrams} g."));
            if (b.Prices.Count == 0) errors.Add(new FieldError($"{field}.bands[{i}].prices", "A band needs a price for at least one zone."));
            foreach (var (zone, price) in b.Prices)
            {
                if (!codes.Contains(zone)) errors.Add(new FieldError($"{field}.bands[{i}].prices.{zone}", $"There is no zone '{zone}' in this rate card."));
                if (price is < 0 or > 100_000) errors.Add(new FieldError($"{field}.bands[{i}].prices.{zone}", "A price must be from 0 to 100000."));
            }
        }
        return errors;
    }

    /// <summary>Zones in the compact form <c>domestic=DE|eu=AT;NL;FR:75*</c>.</summary>
    public static IReadOnlyList<RateZone> ParseZones(string? text, string field, List<FieldError> errors) =>
        [.. (text ?? "").Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(z =>
        {
            var eq = z.IndexOf('=');
            if (eq <= 0) { errors.Add(new FieldError(field, $"'{z}': write a zone as name=areas, for example domestic=DE.")); return null; }
            return new RateZone(z[..eq].Trim(), ServiceArea.ParseList(z[(eq + 1)..], field, errors));
        }).OfType<RateZone>()];

    /// <summary>Bands in the compact form <c>2000:domestic=4.90,eu=8.50|10000:domestic=6.90,eu=11</c>.</summary>
    public static IReadOnlyList<WeightBand> ParseBands(string? text, string field, List<FieldError> errors) =>
        [.. (text ?? "").Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(b =>
        {
            var colon = b.IndexOf(':');
            if (colon <= 0 || !int.TryParse(b[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out var grams))
            { errors.Add(new FieldError(field, $"'{b}': write a band as max_grams:zone=price,…, for example 2000:domestic=4.90.")); return null; }
            var prices = new Dictionary<string, decimal>(StringComparer.Ordinal);
            foreach (var pair in b[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var eq = pair.IndexOf('=');
                if (eq <= 0 || !decimal.TryParse(pair[(eq + 1)..], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var price))
                    errors.Add(new FieldError(field, $"'{pair}': write a price as zone=amount, for example domestic=4.90."));
                else prices[pair[..eq].Trim()] = price;
            }
            return new WeightBand(grams, prices);
        }).OfType<WeightBand>()];

    public string FormatZones() => string.Join("|", Zones.Select(z => $"{z.Code}={ServiceArea.Format(z.Areas)}"));

    public string FormatBands() => string.Join("|", Bands.OrderBy(b => b.MaxGrams).Select(b =>
        $"{b.MaxGrams}:{string.Join(",", b.Prices.Select(p => $"{p.Key}={p.Value.ToString(CultureInfo.InvariantCulture)}"))}"));
}

/// <summary>Everything allocation needs to know about one carrier of the merchant's registry.</summary>
public sealed record CarrierProfile(
    string Code, string Name, string Adapter, IReadOnlyList<string> Services, IReadOnlyList<ServiceArea> Areas, RateCard? Rates,
    int TransitDays, int? DailyCapacity, TimeOnly? PickupCutoff, bool Active)
{
    public static readonly string[] AllServices = ["pickup", "drop_off", "box_free"];

    public bool Offers(string service) => Services.Contains(service, StringComparer.Ordinal);

    /// <summary>No areas means everywhere.</summary>
    public bool Serves(string? country, string? postalCode) => Areas.Count == 0 || Areas.Any(a => a.Matches(country, postalCode));

    /// <summary>Whether parcels can be delivered into the country (the destination warehouse's), at country level.</summary>
    public bool Reaches(string? country) => Areas.Count == 0 || country is null || Areas.Any(a => string.Equals(a.Country, country, StringComparison.OrdinalIgnoreCase));

    /// <summary>The first day it can collect a pickup booked at <paramref name="localNow"/>: tomorrow, or the day after once past the cut-off; never on Sunday.</summary>
    public DateOnly FirstPickupDay(DateTime localNow)
    {
        var day = DateOnly.FromDateTime(localNow).AddDays(PickupCutoff is { } cut && TimeOnly.FromDateTime(localNow) >= cut ? 2 : 1);
        return day.DayOfWeek == DayOfWeek.Sunday ? day.AddDays(1) : day;
    }
}
