using Retour.Core.Policies;

namespace Retour.Core.Warehouse;

/// <summary>
/// The questions an inspector answers per unit, configured per category by the merchant ("*" is every other category).
/// Each item is a lower-case code such as tags_attached; the answer is yes or no.
/// </summary>
public static class Checklists
{
    public const string AnyCategory = "*";
    public const int MaxItems = 30;

    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Defaults = new Dictionary<string, IReadOnlyList<string>>
    {
        [AnyCategory] = ["item_matches_order", "all_parts_present", "no_visible_damage"],
        ["apparel"] = ["item_matches_order", "tags_attached", "unworn", "no_stains_or_odour"],
        ["shoes"] = ["item_matches_order", "original_box", "soles_clean", "unworn"],
        ["electronics"] = ["item_matches_order", "powers_on", "all_accessories", "no_visible_damage", "factory_reset"],
    };

    public static IReadOnlyList<string> For(IReadOnlyDictionary<string, IReadOnlyList<string>> lists, string category) =>
        lists.GetValueOrDefault(category) ?? lists.GetValueOrDefault(AnyCategory) ?? [];

    /// <summary>Every configured question must be answered, and only those; errors name the field under <paramref name="path"/>.</summary>
    public static IReadOnlyList<FieldError> Check(IReadOnlyList<string> items, IReadOnlyDictionary<string, bool?>? answers, string path)
    {
        var errors = new List<FieldError>();
        answers ??= new Dictionary<string, bool?>();
        foreach (var item in items)
            if (!answers.TryGetValue(item, out var a) || a is null)
                errors.Add(new FieldError($"{path}.{item}", $"Answer '{item}' with true or false."));
        foreach (var key in answers.Keys.Where(k => !items.Contains(k)))
            errors.Add(new FieldError($"{path}.{key}", items.Count == 0
                ? "This category has no checklist; send none."
                : $"'{key}' is not on this category's checklist: {string.Join(", ", items)}."));
        return errors;
    }

    public static IReadOnlyList<FieldError> Validate(IReadOnlyDictionary<string, IReadOnlyList<string>> lists, string path)
    {
        var errors = new List<FieldError>();
        foreach (var (category, items) in lists)
        {
            var p = $"{path}.{category}";
            if (category != AnyCategory && category != Categories.Normalize(category))
                errors.Add(new FieldError(p, $"Category keys are lower-case with underscores (or \"*\"): use '{Categories.Normalize(category)}'."));
            if (items is null) { errors.Add(new FieldError(p, "A checklist cannot be null; send [] for none.")); continue; }
            if (items.Count > MaxItems) errors.Add(new FieldError(p, $"At most {MaxItems} questions."));
            for (var i = 0; i < items.Count; i++)
                if (items[i] is null || !System.Text.RegularExpressions.Regex.IsMatch(items[i], "^[a-z][a-z0-9_]{0,63}$"))
                    errors.Add(new FieldError($"{p}[{i}]", "Questions are codes: lower-case letters, digits and underscores, for example tags_attached."));
            if (items.Distinct().Count() != items.Count) errors.Add(new FieldError(p, "A question appears twice."));
        }
        return errors;
    }
}
