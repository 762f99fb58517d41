using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using Retour.Infrastructure.Security;

namespace Retour.Features.Portal;

/// <summary>The shopper portal: Razor Pages under Features/Portal/Pages, server-rendered, working without JavaScript.</summary>
public static class PortalFeature
{
    public static IServiceCollection AddPortal(this IServiceCollection s)
    {
        // Portal pages (/r/…) and console pages (/console/…) each live in their feature; every page has an absolute route.
        s.AddRazorPages(o => o.RootDirectory = "/Features");
        // Each feature keeps its layouts and partials in its own Pages/Shared (names do not overlap).
        s.Configure<Microsoft.AspNetCore.Mvc.Razor.RazorViewEngineOptions>(o =>
        {
            o.PageViewLocationFormats.Add("/Features/Portal/Pages/Shared/{0}.cshtml");
            o.PageViewLocationFormats.Add("/Features/Console/Pages/Shared/{0}.cshtml");
        });
        // Pages in Arabic, Russian and Korean are written as text, not as numeric character references.
        s.Configure<Microsoft.Extensions.WebEncoders.WebEncoderOptions>(o =>
            o.TextEncoderSettings = new System.Text.Encodings.Web.TextEncoderSettings(System.Text.Unicode.UnicodeRanges.All));
        s.AddAntiforgery(o =>
        {
            o.Cookie.Name = "retour_af";
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.FormFieldName = "__rt";
        });
        return s.AddSharedKeyRing();
    }

    /// <summary>One key ring for every instance and command, in the database (see DbXmlRepository): links signed by one verify on all.</summary>
    public static IServiceCollection AddSharedKeyRing(this IServiceCollection s)
    {
        s.AddDataProtection().SetApplicationName("retour");
        s.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp => new ConfigureOptions<KeyManagementOptions>(o =>
            o.XmlRepository = new DbXmlRepository(sp.GetRequiredService<IServiceScopeFactory>(), sp.GetRequiredService<TimeProvider>())));
        return s;
    }

    public static void MapPortal(this WebApplication app) => app.MapRazorPages();
}
