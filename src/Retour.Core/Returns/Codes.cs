using System.Text;

namespace Retour.Core.Returns;

/// <summary>
/// The snake_case wire names of the domain enums (<c>PendingReview</c> is <c>pending_review</c>).
/// One place converts both ways, so the API, the docs and the outbox event names agree.
/// </summary>
public static class Codes
{
    public static string Of<T>(T value) where T : struct, Enum => Cache<T>.ToCode[value];

    public static bool TryParse<T>(string? code, out T value) where T : struct, Enum
    {
        if (code is not null && Cache<T>.FromCode.TryGetValue(code, out value)) return true;
        value = default;
        return false;
    }

    public static IReadOnlyList<string> All<T>() where T : struct, Enum => Cache<T>.Names;

    public static string SnakeCase(string pascal)
    {
        var sb = new StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            var c = pascal[i];
            if (char.IsUpper(c))
            {
                if (i > 0) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static class Cache<T> where T : struct, Enum
    {
        public static readonly Dictionary<T, string> ToCode = Enum.GetValues<T>().ToDictionary(v => v, v => SnakeCase(v.ToString()));
        public static readonly Dictionary<string, T> FromCode = ToCode.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);
        public static readonly IReadOnlyList<string> Names = [.. ToCode.Values];
    }
}
