using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace Retour.Infrastructure.Csv;

/// <summary>One data row of an import file: its line number in the file and its non-empty fields by lower-case column name.</summary>
public sealed record CsvRow(long Line, Dictionary<string, string> Fields);

public static class CsvRows
{
    /// <summary>Reads a headed CSV file; the header must name every required column (in any order, any case).</summary>
    public static (List<CsvRow> Rows, string? HeaderError) Read(TextReader reader, IReadOnlyList<string> required)
    {
        var config = new CsvConfiguration(CultureInfo.InvariantCulture) { TrimOptions = TrimOptions.Trim, BadDataFound = null, MissingFieldFound = null };
        using var csv = new CsvReader(reader, config);
        if (!csv.Read() || !csv.ReadHeader()) return ([], "The file is empty; the first line must be the header.");
        var header = csv.HeaderRecord!.Select(h => h.Trim().ToLowerInvariant()).ToArray();
        var missing = required.Where(r => !header.Contains(r)).ToList();
        if (missing.Count > 0) return ([], $"The header lacks the column(s) {string.Join(", ", missing)}. Required: {string.Join(", ", required)}.");
        var rows = new List<CsvRow>();
        while (csv.Read())
        {
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < header.Length; i++)
                if (csv.TryGetField<string>(i, out var v) && !string.IsNullOrEmpty(v)) fields[header[i]] = v;
            rows.Add(new CsvRow(csv.Parser.RawRow, fields));
        }
        return (rows, null);
    }
}
