using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Microsoft.Net.Http.Headers;

namespace Retour.Infrastructure.Localization;

/// <summary>
/// Shopper-facing texts in Retour's six languages, from Resources/{locale}.json (flat key → text with {named}
/// placeholders). JSON rather than .resx: translators edit one readable file per language, and a test proves
/// every key exists in every language (see docs/decisions/0004-localisation.md).
/// </summary>
public sealed class Texts
{
    public static readonly IReadOnlyList<string> Locales = ["en", "ar", "es", "ru", "de", "ko"];
    public const string Fallback = "en";

    private readonly Dictionary<string, Dictionary<string, string>> _byLocale = new(StringComparer.Ordinal);

    public Texts()
    {
        var asm = Assembly.GetExecutingAssembly();
        foreach (var locale in Locales)
        {
            using var stream = asm.GetManifestResourceStream($"texts/{locale}.json")
                ?? throw new InvalidOperationException($"Missing texts for '{locale}'.");
            _byLocale[locale] = JsonSerializer.Deserialize<Dictionary<string, string>>(stream)!;
        }
    }

    public IReadOnlyDictionary<string, string> All(string locale) => _byLocale[locale];

    public string Get(string locale, string key, params (string Name, string Value)[] args)
    {
        var text = _byLocale.GetValueOrDefault(locale)?.GetValueOrDefault(key)
                   ?? _byLocale[Fallback].GetValueOrDefault(key)
                   ?? throw new KeyNotFoundException($"No text '{key}'.");
        foreach (var (name, value) in args) text = text.Replace("{" + name + "}", value, StringComparison.Ordinal);
        return text;
    }

    public static CultureInfo Culture(string locale) => CultureInfo.GetCultureInfo(locale);

    /// <summary>
    /// Shopper's choice, then the browser's (Accept-Language), then the customer's, then the merchant's default; when
    /// <paramref name="offered"/> is given (the merchant's languages), only those count.
    /// </summary>
    public static string Choose(string? explicitLang, string? acceptLanguage, string? customerLocale, string merchantDefault,
        IReadOnlyList<string>? offered = null)
    {
        string? Ok(string? tag) => Supported(tag) is { } l && (offered is null || offered.Contains(l)) ? l : null;
        if (Ok(explicitLang) is { } e) return e;
        if (!string.IsNullOrWhiteSpace(acceptLanguage) &&
            StringWithQualityHeaderValue.TryParseList(acceptLanguage.Split(','), out var langs))
        {
            foreach (var l in langs.OrderByDescending(l => l.Quality ?? 1))
                if (Ok(l.Value.Value) is { } a) return a;
        }
        return Ok(customerLocale) ?? Ok(merchantDefault) ?? (offered is { Count: > 0 } ? offered[0] : Fallback);
    }

    /// <summary>"de-AT" → "de"; unsupported → null.</summary>
    public static string? Supported(string? tag)
    {
        if (string.IsNullOrWhiteSpace(tag)) return null;
        var primary = tag.Trim().Split('-', '_')[0].ToLowerInvariant();
        return Locales.Contains(primary) ? primary : null;
    }
}
