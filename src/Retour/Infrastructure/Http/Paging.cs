using System.Buffers.Binary;
using Retour.Core;

namespace Retour.Infrastructure.Http;

/// <summary>A page of a list: the items, and the cursor for the next page when there is one.</summary>
public sealed record Page<T>(IReadOnlyList<T> Data, string? NextCursor, bool HasMore);

/// <summary>
/// Opaque cursors for keyset pagination over (time, id): stable while rows are inserted, unlike offsets.
/// </summary>
public static class Cursor
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    /// <summary>A cursor names the ordering it continues (<paramref name="ordering"/>, one letter per list and direction).</summary>
    public static string Encode(char ordering, DateTimeOffset at, Guid id)
    {
        Span<byte> bytes = stackalloc byte[27];
        bytes[0] = (byte)ordering;
        bytes[1] = bytes[2] = 0;
        BinaryPrimitives.WriteInt64BigEndian(bytes[3..], at.UtcTicks);
        id.TryWriteBytes(bytes[11..], bigEndian: true, out _);
        return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
    }

    public static bool TryDecode(string? cursor, char ordering, out DateTimeOffset at, out Guid id)
    {
        at = default;
        id = default;
        if (string.IsNullOrEmpty(cursor) || cursor.Length != 36) return false;
        Span<byte> bytes = stackalloc byte[27];
        if (!Convert.TryFromBase64String(cursor.Replace('-', '+').Replace('_', '/'), bytes, out var n) || n != 27 || bytes[0] != ordering) return false;
        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes[3..]);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks) return false;
        at = new DateTimeOffset(ticks, TimeSpan.Zero);
        id = new Guid(bytes[11..], bigEndian: true);
        return true;
    }

    /// <summary>Checks limit and cursor, both as sent in the query string; on success the caller pages with them.</summary>
    public static IReadOnlyList<FieldError> Check(string? limit, string? cursor, char ordering, out int take, out (DateTimeOffset At, Guid Id)? after,
        int maxLimit = MaxLimit)
    {
        var errors = new List<FieldError>();
        take = DefaultLimit;
        if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, out take) || take < 1 || take > maxLimit))
            errors.Add(new FieldError("limit", $"The limit must be a whole number between 1 and {maxLimit}."));
        after = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            if (TryDecode(cursor, ordering, out var at, out var id)) after = (at, id);
            else errors.Add(new FieldError("cursor", "This cursor is not valid for this list; use the next_cursor of a previous page with the same filters."));
        }
        return errors;
    }

    /// <summary>An ISO 8601 time from the query string, or a field error.</summary>
    public static DateTimeOffset? Time(string? value, string field, List<FieldError> errors)
    {
        if (string.IsNullOrEmpty(value)) return null;
        if (DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var t))
            return t.ToUniversalTime();
        errors.Add(new FieldError(field, "Use an ISO 8601 time, for example 2026-11-01T00:00:00Z."));
        return null;
    }
}

/// <summary>A comma-separated filter of codes (?status=a,b), each checked against the allowed ones; unknown codes become field errors.</summary>
public static class ListFilter
{
    public static List<string> Parse(string? raw, IReadOnlyCollection<string> allowed, string field, List<FieldError> errors, string noun = "status")
    {
        var codes = (raw ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
        foreach (var c in codes.Where(c => !allowed.Contains(c)))
            errors.Add(new(field, $"Unknown {noun} '{c}'. Use one of: {string.Join(", ", allowed)}."));
        return [.. codes.Where(allowed.Contains)];
    }

    public static List<T> Parse<T>(string? raw, string field, List<FieldError> errors, string noun = "status") where T : struct, Enum =>
        [.. Parse(raw, Retour.Core.Returns.Codes.All<T>(), field, errors, noun).Select(c => { Retour.Core.Returns.Codes.TryParse<T>(c, out var v); return v; })];
}
