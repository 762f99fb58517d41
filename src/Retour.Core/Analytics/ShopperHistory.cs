using System.Globalization;
using System.Text;

namespace Retour.Core.Analytics;

/// <summary>
/// A shopper's returns as kept in their profile: one entry per return, "unix-seconds" or "unix-seconds:used-units",
/// separated by spaces, in any order. Counting a period from it is exact (periods start and end on whole seconds: local
/// midnights) and needs no read of the returns.
/// </summary>
public static class ShopperHistory
{
    /// <summary>Above this many returns a profile keeps no history, and the shopper is counted from the returns.</summary>
    public const int MaxReturns = 1000;

    public static string? Write(IEnumerable<(DateTimeOffset At, long Used)> returns)
    {
        var list = returns.ToList();
        if (list.Count > MaxReturns) return null;
        var sb = new StringBuilder(list.Count * 12);
        foreach (var (at, used) in list.OrderBy(r => r.At))
        {
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(Seconds(at).ToString(CultureInfo.InvariantCulture));
            if (used > 0) sb.Append(':').Append(used.ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>The instant as the history keeps it: whole seconds since 1970, rounded down.</summary>
    public static long Seconds(DateTimeOffset at) => at.ToUnixTimeSeconds(); // whole ticks, floored (a double's seconds would round up)

    /// <summary>Returns made in [from, to) and their units graded used. Throws <see cref="FormatException"/> on a malformed history.</summary>
    public static (long Returns, long Used) Count(string history, DateTimeOffset from, DateTimeOffset to)
    {
        long start = Seconds(from), end = Seconds(to), returns = 0, used = 0;
        var rest = history.AsSpan();
        while (rest.Length > 0)
        {
            var space = rest.IndexOf(' ');
            var entry = space < 0 ? rest : rest[..space];
            rest = space < 0 ? [] : rest[(space + 1)..];
            if (entry.IsEmpty) continue;
            var colon = entry.IndexOf(':');
            var at = long.Parse(colon < 0 ? entry : entry[..colon], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            if (at < start || at >= end) continue;
            returns++;
            if (colon >= 0) used += long.Parse(entry[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture);
        }
        return (returns, used);
    }
}
