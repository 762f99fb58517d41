namespace Retour.Core.Policies;

public static class Categories
{
    public const string Uncategorized = "uncategorized";

    /// <summary>"Home &amp; Garden " and "home_garden" name the same category.</summary>
    public static string Normalize(string? category)
    {
        if (string.IsNullOrWhiteSpace(category)) return Uncategorized;
        var chars = category.Trim().ToLowerInvariant()
            .Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray();
        var s = string.Join('_', new string(chars).Split('_', StringSplitOptions.RemoveEmptyEntries));
        return s.Length == 0 ? Uncategorized : s;
    }
}
