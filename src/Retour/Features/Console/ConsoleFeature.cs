using System.Security.Cryptography;
using Retour.Features.Staff;

namespace Retour.Features.Console;

/// <summary>The staff console at /console (Razor Pages under Features/Console/Pages) and its script.</summary>
public static class ConsoleFeature
{
    public static IServiceCollection AddConsole(this IServiceCollection s)
    {
        s.AddSingleton<ConsoleTexts>();
        s.AddStaffSessions();
        return s;
    }

    public static void MapConsole(this WebApplication app, RouteGroupBuilder api)
    {
        NotesEndpoints.Map(api);
        StaffEndpoints.Map(api);
        // The console's scripts: its own, the dashboards', and Chart.js (vendored from npm by the build, see Retour.csproj).
        foreach (var name in new[] { "console.js", "analytics.js", "chart.umd.min.js" })
        {
            var script = Load(name);
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(script))[..16] + "\"";
            app.MapGet("/console/assets/" + name, (HttpContext http) =>
            {
                http.Response.Headers.CacheControl = "no-cache";
                if (http.Request.Headers.IfNoneMatch == etag) return Results.StatusCode(304);
                http.Response.Headers.ETag = etag;
                return Results.Bytes(script, "text/javascript; charset=utf-8");
            }).AllowAnonymous().ExcludeFromDescription();
        }
    }

    private static byte[] Load(string name)
    {
        using var stream = typeof(ConsoleFeature).Assembly.GetManifestResourceStream("console-assets/" + name)!;
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return ms.ToArray();
    }
}
