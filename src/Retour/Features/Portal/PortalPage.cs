using System.Globalization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Addresses;
using Retour.Core.Money;
using Retour.Core.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Localization;

namespace Retour.Features.Portal;

/// <summary>What the shopper has chosen so far, kept in the portal session between the steps.</summary>
public sealed class PortalState
{
    public string OrderNumber { get; set; } = "";
    public string? Email { get; set; }
    public Dictionary<string, LineChoice> Lines { get; set; } = [];
    public string? Resolution { get; set; }
    public string? Method { get; set; }
    public string? Carrier { get; set; }
    public bool BoxFree { get; set; }
    public string? PickupDate { get; set; }
    public PostalAddress? Address { get; set; }
    /// <summary>Order line → the variant wanted in exchange.</summary>
    public Dictionary<string, string> Exchange { get; set; } = [];
}

public sealed class LineChoice
{
    public int Quantity { get; set; } = 1;
    public string? Reason { get; set; }
    public string? SubReason { get; set; }
    public string? Comment { get; set; }
}

/// <summary>
/// The base of every portal page: finds the merchant by its slug (and scopes the unit of work to it), picks the
/// shopper's language (?lang=, then the cookie, then Accept-Language, then the merchant's default, among the merchant's
/// languages), and offers texts, formatting of dates and money in that language, the brand colours and the session.
/// </summary>
public abstract class PortalPage : PageModel
{
    public const string LangCookie = "retour_lang";
    public const string SessionCookie = "retour_portal";
    private const string SessionPurpose = "Retour.Portal.Session.v1";
    private const string StatusPurpose = "Retour.Portal.Status.v1";
    /// <summary>How long the status link in the confirmation (and its email) keeps working.</summary>
    public static readonly TimeSpan StatusLinkLifetime = TimeSpan.FromDays(365);

    public MerchantInfo Merchant { get; private set; } = null!;
    public string Locale { get; private set; } = Texts.Fallback;
    public CultureInfo Culture { get; private set; } = CultureInfo.InvariantCulture;
    public bool RightToLeft => Locale == "ar";
    public Texts Texts { get; private set; } = null!;
    public RetourDb Db { get; private set; } = null!;
    public TimeProvider Clock { get; private set; } = null!;
    public string Slug => Merchant.Slug;
    /// <summary>The page's title, in the shopper's language (set by each page).</summary>
    public string Title { get; set; } = "";
    /// <summary>1-based step of the return flow, for the progress bar; 0 on pages outside the flow.</summary>
    public virtual int Step => 0;

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var services = HttpContext.RequestServices;
        Texts = services.GetRequiredService<Texts>();
        Db = services.GetRequiredService<RetourDb>();
        Clock = services.GetRequiredService<TimeProvider>();
        var slug = RouteData.Values["slug"] as string ?? "";
        var merchant = slug.Length is > 0 and <= 64 ? await services.GetRequiredService<MerchantDirectory>().FindBySlugAsync(slug, HttpContext.RequestAborted) : null;
        if (merchant is null)
        {
            context.Result = new NotFoundResult();
            return;
        }
        Merchant = merchant;
        Db.Tenant.Set(merchant.Id);
        ChooseLocale();
        // What antiforgery sets on pages with a form anyway (set here so it need not override, and warn, on every request).
        Response.Headers.CacheControl = "no-cache, no-store";
        Response.Headers.Pragma = "no-cache";
        Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy("'none'");
        await next();
    }

    /// <summary>The portal's policy; only who may frame it varies (nobody, or the console's own preview).</summary>
    public static string ContentSecurityPolicy(string frameAncestors) =>
        $"default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors {frameAncestors}";

    private void ChooseLocale()
    {
        var asked = Texts.Supported(Request.Query["lang"]) is { } l && Languages.Contains(l) ? l : null;
        if (asked is not null)
            Response.Cookies.Append(LangCookie, asked, new CookieOptions { Path = "/", MaxAge = TimeSpan.FromDays(365), SameSite = SameSiteMode.Lax, HttpOnly = true, Secure = Request.IsHttps });
        // ?lang=, then the remembered choice, then Accept-Language (by quality), then the merchant's default.
        Locale = Texts.Choose(asked ?? Request.Cookies[LangCookie], Request.Headers.AcceptLanguage, null, Merchant.DefaultLocale, Languages);
        Culture = CultureFor(Locale);
    }

    public IReadOnlyList<string> Languages => Merchant.Locales.Count > 0 ? Merchant.Locales : Texts.Locales;

    /// <summary>Formatting cultures: Arabic with the Gregorian calendar (ar-AE), the others as spoken where Retour's merchants sell.</summary>
    public static CultureInfo CultureFor(string locale) => CultureInfo.GetCultureInfo(locale switch
    {
        "ar" => "ar-AE", "de" => "de-DE", "es" => "es-ES", "ru" => "ru-RU", "ko" => "ko-KR", _ => "en-GB",
    });

    public string T(string key, params (string Name, string Value)[] args) => Texts.Get(Locale, key, args);

    /// <summary>A text if the key exists, else null (sub-reasons a merchant invented have no translation).</summary>
    public string? TryT(string key) => Texts.All(Locale).TryGetValue(key, out var v) ? v : Texts.All(Texts.Fallback).GetValueOrDefault(key);

    public string Money(decimal amount, string currency) => FormatMoney(amount, currency, Culture);

    public static string FormatMoney(decimal amount, string currency, CultureInfo culture)
    {
        var nf = (NumberFormatInfo)culture.NumberFormat.Clone();
        nf.CurrencySymbol = Symbol(currency);
        nf.CurrencyDecimalDigits = Currencies.Decimals(currency);
        return Currencies.Round(amount, currency).ToString("C", nf);
    }

    private static string Symbol(string currency) => currency switch
    {
        "EUR" => "€", "USD" => "$", "GBP" => "£", "KRW" => "₩", "RUB" => "₽", "JPY" => "¥", "CHF" => "CHF", "AED" => "AED", "SAR" => "SAR",
        _ => currency,
    };

    public string Date(DateTimeOffset at) => TimeZoneInfo.ConvertTime(at, Merchant.Zone).ToString("D", Culture);
    public string Date(DateOnly day) => day.ToString("D", Culture);
    public string DateTime(DateTimeOffset at) => TimeZoneInfo.ConvertTime(at, Merchant.Zone).ToString("f", Culture);
    public DateOnly Today => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(Clock.GetUtcNow(), Merchant.Zone).DateTime);

    public string Reason(ReasonCode r) => T("reason." + Codes.Of(r));
    /// <summary>A country's name in the shopper's language (a table in the texts; the native name for countries it lacks).</summary>
    public string Country(string code)
    {
        if (TryT("country." + code.ToUpperInvariant()) is { } name) return name;
        try { return new System.Globalization.RegionInfo(code).NativeName; }
        catch (ArgumentException) { return code; }
    }

    /// <summary>The address fields of a form (addr_*), normalised.</summary>
    protected PostalAddress AddressFromForm()
    {
        var f = Request.Form;
        return AddressRules.Normalize(new PostalAddress(f["addr_name"], f["addr_line1"], f["addr_line2"], f["addr_city"],
            f["addr_region"], f["addr_postal_code"], f["addr_country"], f["addr_phone"]));
    }

    /// <summary>The address's problems by its country's rules, in the shopper's language, keyed addr_{field} as the form names them.</summary>
    protected void AddAddressErrors(PostalAddress address, Dictionary<string, string> errors)
    {
        foreach (var p in AddressRules.Validate(address))
            errors[$"addr_{p.Field}"] = p.Code == AddressProblem.PostalFormat && p.Example is not null
                ? T("portal.address.postal_format", ("example", p.Example))
                : T("portal.address." + p.Code);
    }

    public string SubReason(string code) => TryT("subreason." + code) ?? code.Replace('_', ' ');

    /// <summary>The current URL in another language (query kept, lang replaced).</summary>
    public string LanguageUrl(string lang)
    {
        var q = Request.Query.Where(kv => kv.Key != "lang").Select(kv => $"{Uri.EscapeDataString(kv.Key)}={Uri.EscapeDataString(kv.Value.ToString())}").Append($"lang={lang}");
        return Request.Path + "?" + string.Join('&', q);
    }

    // ---- branding -------------------------------------------------------------------------------------------------

    /// <summary>The merchant's colour, darkened until white text on it (and it on white) meets WCAG AA (4.5:1).</summary>
    public string Brand => BrandColors.Accessible(Merchant.BrandColor);

    // ---- session --------------------------------------------------------------------------------------------------

    private IDataProtector SessionProtector => HttpContext.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector(SessionPurpose);

    protected void StartSession(PortalSession session) =>
        Response.Cookies.Append(SessionCookie, SessionProtector.Protect($"{Merchant.Id:N}.{session.Id:N}"), new CookieOptions
        {
            Path = $"/r/{Merchant.Slug}", HttpOnly = true, SameSite = SameSiteMode.Lax, Secure = Request.IsHttps, MaxAge = PortalSession.Lifetime,
        });

    /// <summary>The shopper's session for this merchant, if the cookie is genuine and the session has not expired.</summary>
    protected async Task<(PortalSession Session, PortalState State)?> LoadSessionAsync()
    {
        var cookie = Request.Cookies[SessionCookie];
        if (string.IsNullOrEmpty(cookie)) return null;
        string plain;
        try { plain = SessionProtector.Unprotect(cookie); }
        catch (System.Security.Cryptography.CryptographicException) { return null; }
        var parts = plain.Split('.');
        if (parts.Length != 2 || !Guid.TryParseExact(parts[0], "N", out var merchant) || merchant != Merchant.Id ||
            !Guid.TryParseExact(parts[1], "N", out var id)) return null;
        var session = await Db.PortalSessions.FirstOrDefaultAsync(s => s.Id == id, HttpContext.RequestAborted);
        if (session is null || session.ExpiresAt <= Clock.GetUtcNow()) return null;
        return (session, Json.Deserialize<PortalState>(session.StateJson) ?? new PortalState());
    }

    protected async Task SaveAsync(PortalSession session, PortalState state)
    {
        var now = Clock.GetUtcNow();
        session.StateJson = Json.Serialize(state);
        session.UpdatedAt = now;
        session.ExpiresAt = now + PortalSession.Lifetime;
        await Db.SaveChangesAsync(HttpContext.RequestAborted);
    }

    protected IActionResult BackToStart() => Redirect($"/r/{Merchant.Slug}?expired=1");

    // ---- signed status links --------------------------------------------------------------------------------------

    public static string StatusToken(IDataProtectionProvider provider, Guid merchantId, string rma) =>
        provider.CreateProtector(StatusPurpose).ToTimeLimitedDataProtector().Protect($"{merchantId:N}:{rma}", StatusLinkLifetime);

    public static string StatusUrl(IDataProtectionProvider provider, string slug, Guid merchantId, string rma) =>
        $"/r/{slug}/returns/{rma}?t={Uri.EscapeDataString(StatusToken(provider, merchantId, rma))}";

    protected string StatusUrl(string rma) => StatusUrl(HttpContext.RequestServices.GetRequiredService<IDataProtectionProvider>(), Merchant.Slug, Merchant.Id, rma);

    /// <summary>Whether the token was issued for this merchant's return and has not expired.</summary>
    protected bool TokenOpens(string? token, string rma)
    {
        if (string.IsNullOrEmpty(token)) return false;
        try
        {
            var plain = HttpContext.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector(StatusPurpose)
                .ToTimeLimitedDataProtector().Unprotect(token, out _);
            return plain == $"{Merchant.Id:N}:{rma}";
        }
        catch (System.Security.Cryptography.CryptographicException) { return false; }
    }
}

/// <summary>What the address partial (_AddressFields) shows: the address, its errors, and the countries to offer.</summary>
public sealed record AddressFields(PortalPage Page, PostalAddress Address, IReadOnlyDictionary<string, string> Errors, IEnumerable<string> Countries);

/// <summary>WCAG contrast arithmetic for the merchant's brand colour.</summary>
public static class BrandColors
{
    public const string Default = "#1f4e79";

    public static string Accessible(string? hex)
    {
        if (!TryParse(hex, out var r, out var g, out var b)) (r, g, b) = (0x1f, 0x4e, 0x79);
        for (var i = 0; i < 20 && Contrast(r, g, b) < 4.5; i++) (r, g, b) = ((int)(r * 0.85), (int)(g * 0.85), (int)(b * 0.85));
        return $"#{r:x2}{g:x2}{b:x2}";
    }

    /// <summary>Contrast of the colour against white.</summary>
    public static double Contrast(int r, int g, int b) => 1.05 / (Luminance(r, g, b) + 0.05);

    public static double Luminance(int r, int g, int b)
    {
        static double C(int v) { var s = v / 255.0; return s <= 0.03928 ? s / 12.92 : Math.Pow((s + 0.055) / 1.055, 2.4); }
        return 0.2126 * C(r) + 0.7152 * C(g) + 0.0722 * C(b);
    }

    public static bool TryParse(string? hex, out int r, out int g, out int b)
    {
        r = g = b = 0;
        if (hex is not { Length: 7 } || hex[0] != '#') return false;
        return int.TryParse(hex.AsSpan(1, 2), NumberStyles.HexNumber, null, out r) && int.TryParse(hex.AsSpan(3, 2), NumberStyles.HexNumber, null, out g)
            && int.TryParse(hex.AsSpan(5, 2), NumberStyles.HexNumber, null, out b);
    }
}
