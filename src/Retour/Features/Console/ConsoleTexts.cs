using System.Reflection;
using System.Text.Json;

namespace Retour.Features.Console;

/// <summary>
/// The console's texts (Resources/console/{locale}.json): English, German and Spanish. Staff-facing, so a separate file
/// from the shoppers' six languages; a test proves every key is in every console language and every key used exists.
/// </summary>
public sealed class ConsoleTexts
{
    public static readonly IReadOnlyList<string> Locales = ["en", "de", "es"];
    private readonly Dictionary<string, Dictionary<string, string>> _byLocale = new(StringComparer.Ordinal);

    public ConsoleTexts()
    {
        var asm = Assembly.GetExecutingAssembly();
        foreach (var locale in Locales)
        {
            using var stream = asm.GetManifestResourceStream($"console/{locale}.json")
                ?? throw new InvalidOperationException($"Missing console texts for '{locale}'.");
            _byLocale[locale] = JsonSerializer.Deserialize<Dictionary<string, string>>(stream)!;
        }
    }

    public IReadOnlyDictionary<string, string> All(string locale) => _byLocale[locale];

    public string Get(string locale, string key, params (string Name, string Value)[] args)
    {
        var text = _byLocale.GetValueOrDefault(locale)?.GetValueOrDefault(key)
                   ?? _byLocale["en"].GetValueOrDefault(key)
                   ?? throw new KeyNotFoundException($"No console text '{key}'.");
        foreach (var (name, value) in args) text = text.Replace("{" + name + "}", value, StringComparison.Ordinal);
        return text;
    }

    /// <summary>The user's choice, then the browser's (Accept-Language), then English.</summary>
    public static string Choose(string? chosen, string? acceptLanguage)
    {
        if (chosen is not null && Locales.Contains(chosen)) return chosen;
        var tag = Infrastructure.Localization.Texts.Choose(null, acceptLanguage, null, "en", Locales);
        return Locales.Contains(tag) ? tag : "en";
    }
}
