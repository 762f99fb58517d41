using Retour.Infrastructure.Http;

namespace Retour.Infrastructure.Auth;

/// <summary>
/// Cross-site request forgery on the API with a session cookie: SameSite=Strict keeps the cookie off cross-site requests
/// in current browsers; for older ones, a state-changing API request with a session whose Origin (or Sec-Fetch-Site)
/// says it came from another site is refused. API keys are not cookies and are not affected. Console forms carry
/// antiforgery tokens (Razor Pages).
/// </summary>
public sealed class SessionCsrfGuard(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext http)
    {
        var r = http.Request;
        if (r.Path.StartsWithSegments("/api") && !HttpMethods.IsGet(r.Method) && !HttpMethods.IsHead(r.Method) && !HttpMethods.IsOptions(r.Method) &&
            http.User.Identity?.AuthenticationType == ScopeAuthorization.SessionScheme)
        {
            string? origin = r.Headers.Origin;
            string? site = r.Headers["Sec-Fetch-Site"];
            var sameOrigin = string.IsNullOrEmpty(origin) || string.Equals(origin, $"{r.Scheme}://{r.Host}", StringComparison.OrdinalIgnoreCase);
            if (!sameOrigin || (site is not null && site is not ("same-origin" or "none")))
                return Problems.Write(http, 403, "cross_site_request", "Cross-site request refused",
                    "A signed-in console session can change data only from the console itself. Integrations use an API key.");
        }
        return next(http);
    }
}
