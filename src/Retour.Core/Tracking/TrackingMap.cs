using Retour.Core.Returns;

namespace Retour.Core.Tracking;

/// <summary>One row of the map: what a raw code means.</summary>
public sealed record TrackingMapping(TrackingStatus? Status, string? Incident);

/// <summary>
/// The data-driven map from provider and carrier codes to canonical statuses (tracking-map.csv, plus any rows a deployment
/// adds). Adding a carrier is adding rows, not code. Lookups try, for each of an event's codes from the most specific:
/// this provider and carrier, any provider and this carrier, this provider and any carrier.
/// </summary>
public sealed class TrackingMap
{
    private readonly Dictionary<(string Provider, string Carrier, string Code), TrackingMapping> _rows;

    private TrackingMap(Dictionary<(string, string, string), TrackingMapping> rows) => _rows = rows;

    public int Count => _rows.Count;

    private static readonly Lazy<TrackingMap> BuiltIn = new(() =>
    {
        using var stream = typeof(TrackingMap).Assembly.GetManifestResourceStream("tracking-map.csv")
                           ?? throw new InvalidOperationException("tracking-map.csv is not embedded in Retour.Core.");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), "tracking-map.csv");
    });

    /// <summary>The map that ships with Retour.</summary>
    public static TrackingMap Default => BuiltIn.Value;

    /// <summary>This map with more rows; theirs win over the same key here.</summary>
    public TrackingMap With(TrackingMap more)
    {
        var rows = new Dictionary<(string, string, string), TrackingMapping>(_rows);
        foreach (var (k, v) in more._rows) rows[k] = v;
        return new TrackingMap(rows);
    }

    /// <summary>Reads the CSV (provider,carrier,code,status,incident; '#' starts a comment line). Throws with the line number on a bad row.</summary>
    public static TrackingMap Parse(string csv, string source)
    {
        var rows = new Dictionary<(string, string, string), TrackingMapping>();
        var lineNo = 0;
        foreach (var raw in csv.Split('\n'))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith("provider,", StringComparison.Ordinal)) continue;
            var f = line.Split(',');
            if (f.Length is < 4 or > 5 || f[..3].Any(string.IsNullOrWhiteSpace))
                throw new FormatException($"{source} line {lineNo}: expected provider,carrier,code,status[,incident] but found '{line}'.");
            TrackingStatus? status = null;
            if (f[3].Trim() != "-")
            {
                if (!Codes.TryParse<TrackingStatus>(f[3].Trim(), out var s))
                    throw new FormatException($"{source} line {lineNo}: '{f[3].Trim()}' is not a tracking status. Use one of: {string.Join(", ", Codes.All<TrackingStatus>())}, or -.");
                status = s;
            }
            var incident = f.Length == 5 && f[4].Trim().Length > 0 ? f[4].Trim() : null;
            rows[(Key(f[0]), Key(f[1]), Key(f[2]))] = new TrackingMapping(status, incident);
        }
        return new TrackingMap(rows);
    }

    private static string Key(string s) => s.Trim().ToLowerInvariant();

    /// <summary>The first mapping found for the codes (most specific first), or null when none of them is known.</summary>
    public TrackingMapping? Find(string provider, string? carrier, IEnumerable<string?> codes)
    {
        var p = Key(provider);
        var c = Key(carrier ?? "*");
        foreach (var code in codes)
        {
            if (string.IsNullOrWhiteSpace(code)) continue;
            var k = Key(code);
            if (c != "*" && (_rows.TryGetValue((p, c, k), out var hit) || _rows.TryGetValue(("*", c, k), out hit))) return hit;
            if (_rows.TryGetValue((p, "*", k), out var general)) return general;
        }
        return null;
    }
}
