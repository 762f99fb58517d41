using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Staff;

/// <summary>
/// Console sessions: an HttpOnly, SameSite=Strict cookie naming the user, the merchant they work in and the security
/// stamp it was issued with. The role is NOT in the cookie: every request reads the membership and the stamp again
/// (one indexed join), so removing someone, changing their role, resetting their password or 2FA takes effect at their
/// next click, not when the cookie expires.
/// </summary>
public static class StaffSessions
{
    public const string CookieName = "retour_console";
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromHours(8);

    public static IServiceCollection AddStaffSessions(this IServiceCollection s)
    {
        s.AddIdentityCore<StaffUser>(o =>
            {
                o.Password.RequiredLength = 10;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireLowercase = false;
                o.Password.RequireDigit = false;
                o.Lockout.MaxFailedAccessAttempts = 5;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
                o.User.RequireUniqueEmail = true;
            })
            .AddDefaultTokenProviders();
        s.AddScoped<IUserStore<StaffUser>, StaffUserStore>();
        s.AddAuthentication().AddCookie(ScopeAuthorization.SessionScheme, o =>
        {
            o.Cookie.Name = CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Cookie.Path = "/";
            o.ExpireTimeSpan = IdleTimeout;
            o.SlidingExpiration = true;
            o.LoginPath = "/console/login";
            o.LogoutPath = "/console/logout";
            o.AccessDeniedPath = "/console/forbidden";
            o.ReturnUrlParameter = "return_url";
            o.Events.OnValidatePrincipal = ValidateAsync;
            o.Events.OnRedirectToLogin = ctx => IsApi(ctx.Request)
                ? Problems.Write(ctx.HttpContext, 401, "unauthorized", "Authentication required",
                    "Send an API key as 'Authorization: Bearer <key>', or sign in to the console.")
                : Redirect(ctx);
            o.Events.OnRedirectToAccessDenied = ctx => IsApi(ctx.Request)
                ? Problems.Write(ctx.HttpContext, 403, "forbidden", "Not allowed for your role",
                    $"Your role ({ctx.HttpContext.User.FindFirstValue(RetourClaims.Role) ?? "none"}) does not allow this.")
                : Redirect(ctx);
        });
        return s;
    }

    private static bool IsApi(HttpRequest r) => r.Path.StartsWithSegments("/api");

    private static Task Redirect(RedirectContext<CookieAuthenticationOptions> ctx)
    {
        ctx.Response.Redirect(ctx.RedirectUri);
        return Task.CompletedTask;
    }

    /// <summary>The claims a session cookie carries; role and scopes are added per request by <see cref="ValidateAsync"/>.</summary>
    public static ClaimsPrincipal Principal(StaffUser user, Guid merchantId) =>
        new(new ClaimsIdentity(
        [
            new Claim(RetourClaims.UserId, user.Id.ToString()),
            new Claim(RetourClaims.Email, user.Email),
            new Claim(RetourClaims.UserName, user.Name),
            new Claim(RetourClaims.MerchantId, merchantId.ToString()),
            new Claim(RetourClaims.Stamp, user.SecurityStamp),
        ], ScopeAuthorization.SessionScheme));

    public static Task SignInAsync(HttpContext http, StaffUser user, Guid merchantId) =>
        http.SignInAsync(ScopeAuthorization.SessionScheme, Principal(user, merchantId),
            new AuthenticationProperties { IsPersistent = false, AllowRefresh = true });

    private static async Task ValidateAsync(CookieValidatePrincipalContext ctx)
    {
        var p = ctx.Principal;
        if (!Guid.TryParse(p?.FindFirstValue(RetourClaims.UserId), out var userId) ||
            !Guid.TryParse(p.FindFirstValue(RetourClaims.MerchantId), out var merchantId))
        {
            await Reject(ctx);
            return;
        }
        var stamp = p.FindFirstValue(RetourClaims.Stamp);
        var db = ctx.HttpContext.RequestServices.GetRequiredService<RetourDb>();
        var now = ctx.HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        // Before the tenant is known, hence without the tenant filter; bound to this user and merchant.
        var row = await db.StaffMemberships.IgnoreQueryFilters().AsNoTracking()
            .Where(m => m.UserId == userId && m.MerchantId == merchantId)
            .Join(db.StaffUsers, m => m.UserId, u => u.Id, (m, u) => new { m.Role, u.SecurityStamp, u.LockoutEnd, u.Email, u.Name })
            .FirstOrDefaultAsync(ctx.HttpContext.RequestAborted);
        if (row is null || row.SecurityStamp != stamp || row.LockoutEnd > now || !StaffRoles.IsRole(row.Role))
        {
            await Reject(ctx);
            return;
        }
        ScopeAuthorization.ActAsMerchant(ctx.HttpContext, merchantId);
        var claims = new List<Claim>
        {
            new(RetourClaims.UserId, userId.ToString()),
            new(RetourClaims.Email, row.Email),
            new(RetourClaims.UserName, row.Name),
            new(RetourClaims.MerchantId, merchantId.ToString()),
            new(RetourClaims.Stamp, row.SecurityStamp),
            new(RetourClaims.Role, row.Role),
        };
        claims.AddRange(StaffRoles.ScopesOf(row.Role).Select(sc => new Claim(RetourClaims.Scope, sc)));
        ctx.ReplacePrincipal(new ClaimsPrincipal(new ClaimsIdentity(claims, ScopeAuthorization.SessionScheme)));
    }

    private static async Task Reject(CookieValidatePrincipalContext ctx)
    {
        ctx.RejectPrincipal();
        await ctx.HttpContext.SignOutAsync(ScopeAuthorization.SessionScheme);
    }
}
