using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Retour.Features.Staff;
using Retour.Infrastructure.Auth;

namespace Retour.Features.Console.Pages;

/// <summary>Sign out, switch merchant (a new session for a merchant the user belongs to), and the "not for your role" page.</summary>
public sealed class SessionModel : ConsolePage
{
    public IActionResult OnGet(string action)
    {
        if (action != "forbidden") return Redirect("/console");
        Title = T("forbidden.title");
        Response.StatusCode = StatusCodes.Status403Forbidden;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string action, [FromForm] Guid? merchant)
    {
        if (action == "logout")
        {
            await HttpContext.SignOutAsync(ScopeAuthorization.SessionScheme);
            return Redirect("/console/login");
        }
        if (action == "switch" && merchant is { } id && Merchants.Any(m => m.Id == id))
        {
            var user = await Db.StaffUsers.FindAsync([UserId], HttpContext.RequestAborted);
            if (user is null) return Redirect("/console/login");
            await StaffSessions.SignInAsync(HttpContext, user, id);
            Response.Cookies.Append(LoginModel.LastMerchantCookie, id.ToString(),
                new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = Request.IsHttps, Path = "/console", MaxAge = TimeSpan.FromDays(365) });
        }
        return Redirect("/console");
    }
}
