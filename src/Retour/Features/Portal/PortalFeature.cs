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
        s.AddRazorPages(o => o.RootDirectory = "/Features/Portal/Pages");
        // Pages in Arabic, Russian and Korean are written as text, not as numeric character references.
        s.Configure<Microsoft.Extensions.WebEncoders.WebEncoderOptions>(o =>
            o.TextEncoderSettings = new System.Text.Encodings.Web.TextEncoderSettings(System.Text.Unicode.UnicodeRanges.All));
        s.AddAntiforgery(o =>
        {
            o.Cookie.Name = "retour_af";
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.FormFieldName = "__rt";
        });
        // One key ring for every instance, in the database (see DbXmlRepository).
        s.AddDataProtection().SetApplicationName("retour");
        s.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp => new ConfigureOptions<KeyManagementOptions>(o =>
            o.XmlRepository = new DbXmlRepository(sp.GetRequiredService<IServiceScopeFactory>(), sp.GetRequiredService<TimeProvider>())));
        return s;
    }

    public static void MapPortal(this WebApplication app) => app.MapRazorPages();
}
