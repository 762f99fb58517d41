using System.Text.RegularExpressions;

namespace Retour.Core.Addresses;

public sealed record PostalAddress(
    string? Name, string? Line1, string? Line2, string? City, string? Region, string? PostalCode, string? Country, string? Phone = null);

/// <summary>What a country asks of an address: which fields are required, and the shape of its postal code.</summary>
public sealed record CountryFormat(string Country, bool CityRequired, bool RegionRequired, bool PostalCodeRequired, string? PostalPattern, string? PostalExample)
{
    /// <summary>Whether the country uses postal codes at all (the field is hidden where it does not).</summary>
    public bool HasPostalCode => PostalPattern is not null || PostalCodeRequired;
}

/// <summary>One thing wrong with an address. <see cref="Code"/> is stable (texts are looked up by it); the example helps the shopper.</summary>
public sealed record AddressProblem(string Field, string Code, string? Example = null)
{
    public const string Required = "required";
    public const string PostalFormat = "postal_format";
    public const string TooLong = "too_long";
    public const string UnknownCountry = "unknown_country";

    public string EnglishMessage => Code switch
    {
        Required => "This field is required.",
        PostalFormat => Example is null ? "This postal code does not have the format of the country." : $"This postal code does not have the format of the country, for example {Example}.",
        TooLong => "This is too long.",
        _ => "Use a two-letter ISO country code, for example DE.",
    };
}

/// <summary>
/// Per-country address rules for pickup addresses: required fields and the postal code pattern. The facts follow Google's
/// libaddressinput metadata (Apache-2.0; its "require" and "zip" fields), for the countries Retour's merchants ship to;
/// AddressRulesTests checks this table against that metadata. Other countries need a street and a city.
/// </summary>
public static class AddressRules
{
    // country, libaddressinput "require" (A street, C city, S region, Z postal code), "zip" pattern, an example
    private static readonly (string Country, string Require, string? Zip, string? Example)[] Table =
    [
        ("AE", "AC", null, null),
        ("AT", "ACZ", @"\d{4}", "1010"),
        ("AU", "ACSZ", @"\d{4}", "2060"),
        ("BE", "ACZ", @"\d{4}", "1000"),
        ("BG", "AC", @"\d{4}", "1000"),
        ("BH", "AC", @"((\d|1[0-2])\d{2})?", "317"),
        ("BR", "ASCZ", @"\d{5}[\-]?\d{3}", "40301-110"),
        ("CA", "ACSZ", @"[ABCEGHJKLMNPRSTVXY]\d[ABCEGHJ-NPRSTV-Z][ ]?\d[ABCEGHJ-NPRSTV-Z]\d", "H3Z 2Y7"),
        ("CH", "ACZ", @"\d{4}", "2544"),
        ("CN", "ACSZ", @"\d{6}", "266033"),
        ("CY", "AC", @"\d{4}", "2008"),
        ("CZ", "AC", @"\d{3}[ ]?\d{2}", "100 00"),
        ("DE", "ACZ", @"\d{5}", "26133"),
        ("DK", "ACZ", @"\d{4}", "8660"),
        ("EE", "AC", @"\d{5}", "69501"),
        ("EG", "AC", @"\d{5}", "12411"),
        ("ES", "ACSZ", @"\d{5}", "28039"),
        ("FI", "ACZ", @"\d{5}", "00550"),
        ("FR", "ACZ", @"\d{2}[ ]?\d{3}", "33380"),
        ("GB", "ACZ", @"GIR[ ]?0AA|((AB|AL|B|BA|BB|BD|BH|BL|BN|BR|BS|BT|BX|CA|CB|CF|CH|CM|CO|CR|CT|CV|CW|DA|DD|DE|DG|DH|DL|DN|DT|DY|E|EC|EH|EN|EX|FK|FY|G|GL|GY|GU|HA|HD|HG|HP|HR|HS|HU|HX|IG|IM|IP|IV|JE|KA|KT|KW|KY|L|LA|LD|LE|LL|LN|LS|LU|M|ME|MK|ML|N|NE|NG|NN|NP|NR|NW|OL|OX|PA|PE|PH|PL|PO|PR|RG|RH|RM|S|SA|SE|SG|SK|SL|SM|SN|SO|SP|SR|SS|ST|SW|SY|TA|TD|TF|TN|TQ|TR|TS|TW|UB|W|WA|WC|WD|WF|WN|WR|WS|WV|YO|ZE)(\d[\dA-Z]?[ ]?\d[ABD-HJLN-UW-Z]{2}))|BFPO[ ]?\d{1,4}", "EC1Y 8SY"),
        ("GR", "ACZ", @"\d{3} ?\d{2}", "151 24"),
        ("HR", "AC", @"\d{5}", "10000"),
        ("HU", "AC", @"\d{4}", "1037"),
        ("IE", "AC", null, null),
        ("IL", "AC", @"\d{5}(?:\d{2})?", "9614303"),
        ("IN", "ACSZ", @"\d{6}", "110034"),
        ("IT", "ACSZ", @"\d{5}", "00144"),
        ("JO", "AC", @"\d{5}", "11937"),
        ("JP", "ACSZ", @"\d{3}-?\d{4}", "154-0023"),
        // Korea moved to five-digit postal codes in 2015; the metadata still has the old six-digit form, which is accepted too.
        ("KR", "ACSZ", @"\d{5}|\d{3}[\-]\d{3}", "06236"),
        ("KW", "AC", @"\d{5}", "54541"),
        ("LT", "AC", @"\d{5}", "04340"),
        ("LU", "ACZ", @"\d{4}", "4750"),
        ("LV", "AC", @"LV-\d{4}", "LV-1073"),
        ("MA", "AC", @"\d{5}", "53000"),
        ("MT", "AC", @"[A-Z]{3}[ ]?\d{2,4}", "NXR 01"),
        ("MX", "ACZ", @"\d{5}", "02860"),
        ("NL", "ACZ", @"\d{4}[ ]?[A-Z]{2}", "1234 AB"),
        ("NO", "ACZ", @"\d{4}", "0025"),
        ("NZ", "ACZ", @"\d{4}", "6001"),
        ("OM", "AC", @"(PC )?\d{3}", "133"),
        ("PL", "ACZ", @"\d{2}-\d{3}", "00-950"),
        ("PT", "ACZ", @"\d{4}-\d{3}", "2725-079"),
        ("QA", "AC", null, null),
        ("RO", "AC", @"\d{6}", "060274"),
        ("RU", "ACZ", @"\d{6}", "125075"),
        ("SA", "AC", @"\d{5}", "11564"),
        ("SE", "ACZ", @"\d{3}[ ]?\d{2}", "114 55"),
        ("SG", "AZ", @"\d{6}", "546080"),
        ("SI", "AC", @"\d{4}", "4000"),
        ("SK", "AC", @"\d{3}[ ]?\d{2}", "010 01"),
        ("TR", "ACZ", @"\d{5}", "01960"),
        ("UA", "AC", @"\d{5}", "15432"),
        ("US", "ACSZ", @"\d{5}([ \-]\d{4})?", "95014"),
    ];

    public const int MaxLength = 200;
    public const int MaxPostalLength = 20;

    private static readonly Dictionary<string, (CountryFormat Format, Regex? Pattern)> ByCountry = Table.ToDictionary(
        t => t.Country,
        t => (new CountryFormat(t.Country, t.Require.Contains('C'), t.Require.Contains('S'), t.Require.Contains('Z'), t.Zip, t.Example),
            t.Zip is null ? null : new Regex($"^(?:{t.Zip})$", RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromMilliseconds(100))));

    /// <summary>The raw libaddressinput-style rules of the table, for the test that compares them with Google's metadata.</summary>
    public static IEnumerable<(string Country, string Require, string? Zip)> Rules => Table.Select(t => (t.Country, t.Require, t.Zip));

    public static bool IsCountry(string? code) => code is { Length: 2 } && char.IsAsciiLetterUpper(code[0]) && char.IsAsciiLetterUpper(code[1]);

    public static CountryFormat For(string country) =>
        ByCountry.TryGetValue(country, out var f) ? f.Format : new CountryFormat(country, true, false, false, null, null);

    /// <summary>Trims every field, upper-cases the country and the postal code, and collapses runs of spaces in the postal code.</summary>
    public static PostalAddress Normalize(PostalAddress a) => new(
        Clean(a.Name), Clean(a.Line1), Clean(a.Line2), Clean(a.City), Clean(a.Region),
        Clean(a.PostalCode) is { } z ? string.Join(' ', z.ToUpperInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries)) : null,
        Clean(a.Country)?.ToUpperInvariant(), Clean(a.Phone));

    /// <summary>Validates a normalised address for a pickup: a name and what the country requires; the postal code must match its pattern.</summary>
    public static IReadOnlyList<AddressProblem> Validate(PostalAddress a)
    {
        var problems = new List<AddressProblem>();
        if (!IsCountry(a.Country))
        {
            problems.Add(new AddressProblem("country", a.Country is null ? AddressProblem.Required : AddressProblem.UnknownCountry));
            return problems;
        }
        var (format, pattern) = ByCountry.TryGetValue(a.Country!, out var f) ? f : (For(a.Country!), null);
        void Need(string field, string? value, bool required)
        {
            if (required && string.IsNullOrEmpty(value)) problems.Add(new AddressProblem(field, AddressProblem.Required));
            else if (value is { Length: > MaxLength }) problems.Add(new AddressProblem(field, AddressProblem.TooLong));
        }
        Need("name", a.Name, true);
        Need("line1", a.Line1, true);
        Need("line2", a.Line2, false);
        Need("city", a.City, format.CityRequired);
        Need("region", a.Region, format.RegionRequired);
        Need("phone", a.Phone, false);
        if (string.IsNullOrEmpty(a.PostalCode))
        {
            if (format.PostalCodeRequired) problems.Add(new AddressProblem("postal_code", AddressProblem.Required));
        }
        else if (a.PostalCode.Length > MaxPostalLength) problems.Add(new AddressProblem("postal_code", AddressProblem.TooLong));
        else if (pattern is not null && !pattern.IsMatch(a.PostalCode))
            problems.Add(new AddressProblem("postal_code", AddressProblem.PostalFormat, format.PostalExample));
        return problems;
    }

    private static string? Clean(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
