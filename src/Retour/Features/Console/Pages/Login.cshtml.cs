using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Staff;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;

namespace Retour.Features.Console.Pages;

/// <summary>
/// Sign-in: e-mail and password, then the authenticator code when the user turned two-factor on. Five wrong passwords
/// or codes lock the account for 15 minutes (Identity's lockout); the message never says whether an address exists.
/// Between the two steps the user is held in a short-lived, encrypted cookie, not in a session.
/// </summary>
public sealed class LoginModel(UserManager<StaffUser> users, IDataProtectionProvider protection) : ConsolePageBase
{
    private const string PendingCookie = "retour_console_2fa";
    private static readonly TimeSpan PendingLifetime = TimeSpan.FromMinutes(5);
    public const string LastMerchantCookie = "retour_console_merchant";

    public string? Error { get; private set; }
    public string Step { get; private set; } = "password";
    public string? EmailInput { get; private set; }
    public string ReturnUrl { get; private set; } = "/console";

    private ITimeLimitedDataProtector Protector => protection.CreateProtector("Retour.Console.TwoFactor.v1").ToTimeLimitedDataProtector();

    public IActionResult OnGet([FromQuery(Name = "return_url")] string? returnUrl)
    {
        Title = T("login.title");
        ReturnUrl = SafeReturn(returnUrl);
        if (User.Identity?.IsAuthenticated == true && User.Identity.AuthenticationType == ScopeAuthorization.SessionScheme) return Redirect(ReturnUrl);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync([FromForm] string? email, [FromForm] string? password, [FromForm(Name = "return_url")] string? returnUrl)
    {
        Title = T("login.title");
        ReturnUrl = SafeReturn(returnUrl);
        EmailInput = email?.Trim();
        if (string.IsNullOrEmpty(EmailInput) || string.IsNullOrEmpty(password)) return Fail(T("login.missing"));
        var user = await users.FindByEmailAsync(EmailInput);
        if (user is null)
        {
            users.PasswordHasher.HashPassword(new StaffUser { Email = "", NormalizedEmail = "", Name = "" }, password); // same time as a real check
            return Fail(T("login.wrong"));
        }
        if (await users.IsLockedOutAsync(user)) return Fail(Locked(user));
        if (!await users.CheckPasswordAsync(user, password))
        {
            await users.AccessFailedAsync(user);
            return Fail(await users.IsLockedOutAsync(user) ? Locked(user) : T("login.wrong"));
        }
        if (user.TwoFactorEnabled)
        {
            Response.Cookies.Append(PendingCookie, Protector.Protect(user.Id + "|" + user.SecurityStamp, PendingLifetime),
                new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = Request.IsHttps, Path = "/console/login", MaxAge = PendingLifetime });
            Step = "code";
            return Page();
        }
        return await CompleteAsync(user);
    }

    public async Task<IActionResult> OnPostCodeAsync([FromForm] string? code, [FromForm(Name = "return_url")] string? returnUrl)
    {
        Title = T("login.title");
        ReturnUrl = SafeReturn(returnUrl);
        StaffUser? user = null;
        try
        {
            var parts = Protector.Unprotect(Request.Cookies[PendingCookie] ?? "").Split('|');
            user = await users.FindByIdAsync(parts[0]);
            if (user is not null && user.SecurityStamp != parts[1]) user = null;
        }
        catch (System.Security.Cryptography.CryptographicException) { }
        if (user is null) return Fail(T("login.code_expired"));
        Step = "code";
        if (await users.IsLockedOutAsync(user)) return Fail(Locked(user));
        var given = (code ?? "").Replace(" ", "").Replace("-", "");
        var ok = given.Length == 6 && given.All(char.IsAsciiDigit)
            ? await users.VerifyTwoFactorTokenAsync(user, TokenOptions.DefaultAuthenticatorProvider, given)
            : given.Length > 0 && (await users.RedeemTwoFactorRecoveryCodeAsync(user, (code ?? "").Trim())).Succeeded;
        if (!ok)
        {
            await users.AccessFailedAsync(user);
            return Fail(await users.IsLockedOutAsync(user) ? Locked(user) : T("login.code_wrong"));
        }
        Response.Cookies.Delete(PendingCookie, new CookieOptions { Path = "/console/login" });
        return await CompleteAsync(user);
    }

    private async Task<IActionResult> CompleteAsync(StaffUser user)
    {
        var memberships = await ConsolePage.MembershipsAsync(Db, user.Id, HttpContext.RequestAborted);
        if (memberships.Count == 0) return Fail(T("login.no_merchant"));
        await users.ResetAccessFailedCountAsync(user);
        user.LastSignInAt = Clock.GetUtcNow();
        await users.UpdateAsync(user);
        var last = Guid.TryParse(Request.Cookies[LastMerchantCookie], out var l) ? memberships.FirstOrDefault(m => m.Id == l) : null;
        var merchant = last ?? memberships[0];
        await StaffSessions.SignInAsync(HttpContext, user, merchant.Id);
        Db.Tenant.Set(merchant.Id);
        Db.AuditEvents.Add(AuditEvent.Of("staff", user.Id, "signed_in", new Actor("staff", user.Id.ToString(), user.Email), Clock.GetUtcNow()));
        await Db.SaveChangesAsync(HttpContext.RequestAborted);
        return Redirect(ReturnUrl);
    }

    private string Locked(StaffUser user)
    {
        var minutes = Math.Max(1, (int)Math.Ceiling(((user.LockoutEnd ?? Clock.GetUtcNow()) - Clock.GetUtcNow()).TotalMinutes));
        return T("login.locked", ("minutes", minutes.ToString(Culture)));
    }

    private Microsoft.AspNetCore.Mvc.RazorPages.PageResult Fail(string message)
    {
        Error = message;
        return Page();
    }
}
