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

    public static string Encode(DateTimeOffset at, Guid id)
    {
        Span<byte> bytes = stackalloc byte[24];
        BinaryPrimitives.WriteInt64BigEndian(bytes, at.UtcTicks);
        id.TryWriteBytes(bytes[8..], bigEndian: true, out _);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static bool TryDecode(string? cursor, out DateTimeOffset at, out Guid id)
    {
        at = default;
        id = default;
        if (string.IsNullOrEmpty(cursor) || cursor.Length != 32) return false;
        var b64 = cursor.Replace('-', '+').Replace('_', '/');
        Span<byte> bytes = stackalloc byte[24];
        if (!Convert.TryFromBase64String(b64, bytes, out var n) || n != 24) return false;
        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks) return false;
        at = new DateTimeOffset(ticks, TimeSpan.Zero);
        id = new Guid(bytes[8..], bigEndian: true);
        return true;
    }

    /// <summary>Checks limit and cursor; on success the caller pages with them.</summary>
    public static IReadOnlyList<FieldError> Check(int? limit, string? cursor, out int take, out (DateTimeOffset At, Guid Id)? after)
    {
        var errors = new List<FieldError>();
        take = limit ?? DefaultLimit;
        if (take is < 1 or > MaxLimit) errors.Add(new FieldError("limit", $"The limit must be between 1 and {MaxLimit}."));
        after = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            if (TryDecode(cursor, out var at, out var id)) after = (at, id);
            else errors.Add(new FieldError("cursor", "This cursor is not valid; use the next_cursor of a previous page."));
        }
        return errors;
    }
}
