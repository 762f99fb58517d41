using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Returns;
using Retour.Features.Staff;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;

namespace Retour.Features.Console;

/// <summary>The policies console pages require, as attribute constants (one per API scope the page needs).</summary>
public static class ConsolePolicy
{
    public const string ReturnsRead = "scope:" + Scopes.ReturnsRead;
    public const string WarehouseRead = "scope:" + Scopes.WarehouseRead;
    public const string WarehouseWrite = "scope:" + Scopes.WarehouseWrite;
    public const string StaffAdmin = "scope:" + Scopes.StaffAdmin;
    public const string WebhooksRead = "scope:" + Scopes.WebhooksRead;
    public const string AnalyticsRead = "scope:" + Scopes.AnalyticsRead;
}

public sealed record MerchantChoice(Guid Id, string Name, string Slug, string Role);

/// <summary>
/// The base of every signed-in console page: the session's user, role and merchant (the unit of work is scoped to it by
/// the session), the console language (en, de, es: ?lang=, then the remembered choice, then the browser), texts and
/// formatting. Reads are server-rendered; changes go through the REST API from the page (console.js), with the session,
/// so a console action is authorised exactly as the same API call with a key would be.
/// </summary>
[Authorize]
public abstract class ConsolePage : ConsolePageBase
{
    public MerchantInfo Merchant { get; private set; } = null!;
    public IReadOnlyList<MerchantChoice> Merchants { get; private set; } = [];
    /// <summary>The navigation entry to highlight.</summary>
    public virtual string Section => "";

    public Guid UserId => Guid.Parse(User.FindFirstValue(RetourClaims.UserId)!);
    public string Email => User.FindFirstValue(RetourClaims.Email)!;
    public string UserName => User.FindFirstValue(RetourClaims.UserName) ?? Email;
    public string Role => User.FindFirstValue(RetourClaims.Role) ?? "";
    public bool Can(string scope) => User.HasClaim(RetourClaims.Scope, scope);

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var services = HttpContext.RequestServices;
        Prepare();
        var merchantId = Guid.Parse(User.FindFirstValue(RetourClaims.MerchantId)!);
        var merchant = await services.GetRequiredService<MerchantDirectory>().GetAsync(merchantId, HttpContext.RequestAborted);
        if (merchant is null)
        {
            context.Result = new RedirectResult("/console/login");
            return;
        }
        Merchant = merchant;
        Merchants = await MembershipsAsync(Db, UserId, HttpContext.RequestAborted);
        await next();
    }

    public string When(DateTimeOffset at) => TimeZoneInfo.ConvertTime(at, Merchant.Zone).ToString("g", Culture);
    public string Day(DateTimeOffset at) => TimeZoneInfo.ConvertTime(at, Merchant.Zone).ToString("d", Culture);

    public static async Task<IReadOnlyList<MerchantChoice>> MembershipsAsync(RetourDb db, Guid userId, CancellationToken ct) =>
        await db.StaffMemberships.IgnoreQueryFilters().AsNoTracking().Where(m => m.UserId == userId)
            .Join(db.Merchants, m => m.MerchantId, x => x.Id, (m, x) => new { x.Id, x.Name, x.Slug, m.Role })
            .OrderBy(x => x.Name).Select(x => new MerchantChoice(x.Id, x.Name, x.Slug, x.Role)).ToListAsync(ct);
}

/// <summary>Texts, language and formatting for every console page, signed in or not (sign-in, invitation).</summary>
public abstract class ConsolePageBase : PageModel
{
    public const string LangCookie = "retour_console_lang";

    public ConsoleTexts Texts { get; private set; } = null!;
    public RetourDb Db { get; private set; } = null!;
    public TimeProvider Clock { get; private set; } = null!;
    public string Locale { get; private set; } = "en";
    public CultureInfo Culture { get; private set; } = CultureInfo.GetCultureInfo("en-GB");
    public string Title { get; set; } = "";

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        Prepare();
        await next();
    }

    protected void Prepare()
    {
        var services = HttpContext.RequestServices;
        Texts = services.GetRequiredService<ConsoleTexts>();
        Db = services.GetRequiredService<RetourDb>();
        Clock = services.GetRequiredService<TimeProvider>();
        ChooseLocale();
        Response.Headers.CacheControl = "no-cache, no-store";
        Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'";
    }

    /// <summary>Only the console's own pages are places to go back to after signing in.</summary>
    public static string SafeReturn(string? url) =>
        url is not null && url.StartsWith("/console", StringComparison.Ordinal) && !url.StartsWith("//", StringComparison.Ordinal) && !url.Contains('\\') ? url : "/console";

    private void ChooseLocale()
    {
        string? asked = Request.Query["lang"];
        if (asked is not null && ConsoleTexts.Locales.Contains(asked))
            Response.Cookies.Append(LangCookie, asked, new CookieOptions { Path = "/console", MaxAge = TimeSpan.FromDays(365), SameSite = SameSiteMode.Strict, HttpOnly = true, Secure = Request.IsHttps });
        else asked = null;
        Locale = ConsoleTexts.Choose(asked ?? Request.Cookies[LangCookie], Request.Headers.AcceptLanguage);
        Culture = CultureInfo.GetCultureInfo(Locale switch { "de" => "de-DE", "es" => "es-ES", _ => "en-GB" });
    }

    public string T(string key, params (string Name, string Value)[] args) => Texts.Get(Locale, key, args);

    /// <summary>A code's label (status, reason, method…), or the code made readable when the console has none.</summary>
    public string Label(string group, string code) =>
        Texts.All(Locale).GetValueOrDefault($"{group}.{code}") ?? Texts.All("en").GetValueOrDefault($"{group}.{code}") ?? code.Replace('_', ' ');

    public string Label<T>(string group, T value) where T : struct, Enum => Label(group, Codes.Of(value));

    public string Money(string amount, string currency) =>
        decimal.TryParse(amount, NumberStyles.Number, CultureInfo.InvariantCulture, out var d) ? Money(d, currency) : $"{amount} {currency}";

    public string Money(decimal amount, string currency) => Portal.PortalPage.FormatMoney(amount, currency, Culture);

    /// <summary>This page's URL with one query value changed (null removes it); for filters, languages and paging.</summary>
    public string With(string name, string? value)
    {
        var q = Request.Query.Where(kv => kv.Key != name).SelectMany(kv => kv.Value.Select(v => (kv.Key, Value: v ?? ""))).ToList();
        if (!string.IsNullOrEmpty(value)) q.Add((name, value));
        var path = Request.PathBase + Request.Path;
        return q.Count == 0 ? path : path + "?" + string.Join('&', q.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
    }
}
