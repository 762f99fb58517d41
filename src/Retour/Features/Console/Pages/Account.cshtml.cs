using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using QRCoder;
using Retour.Features.Staff;

namespace Retour.Features.Console.Pages;

/// <summary>
/// The signed-in user's own account: two-factor sign-in with an authenticator app (TOTP; the key as text and as a QR
/// code, confirmed by a first code; ten recovery codes shown once) and the password. Both change the security stamp,
/// which ends the user's other sessions; this one is renewed.
/// </summary>
public sealed class AccountModel(UserManager<StaffUser> users) : ConsolePage
{
    public StaffUser Me { get; private set; } = null!;
    public string? SetupKey { get; private set; }
    public string? QrSvg { get; private set; }
    public IReadOnlyList<string>? RecoveryCodes { get; private set; }
    public string? Error { get; private set; }
    public string? Done { get; private set; }
    public int CodesLeft { get; private set; }

    private async Task LoadAsync(bool setup)
    {
        Title = T("account.title");
        Me = (await users.FindByIdAsync(UserId.ToString()))!;
        CodesLeft = await users.CountRecoveryCodesAsync(Me);
        if (setup && !Me.TwoFactorEnabled)
        {
            var key = await users.GetAuthenticatorKeyAsync(Me);
            if (string.IsNullOrEmpty(key))
            {
                await users.ResetAuthenticatorKeyAsync(Me);
                key = await users.GetAuthenticatorKeyAsync(Me);
                await RenewSessionAsync();
            }
            SetupKey = key;
            var uri = $"otpauth://totp/Retour:{Uri.EscapeDataString(Me.Email)}?secret={key}&issuer=Retour&digits=6";
            using var data = new QRCodeGenerator().CreateQrCode(uri, QRCodeGenerator.ECCLevel.M);
            QrSvg = new SvgQRCode(data).GetGraphic(4);
        }
    }

    public async Task OnGetAsync(string? setup) => await LoadAsync(setup == "2fa");

    public async Task<IActionResult> OnPostEnableAsync([FromForm] string? code)
    {
        await LoadAsync(true);
        var given = (code ?? "").Replace(" ", "");
        if (!await users.VerifyTwoFactorTokenAsync(Me, TokenOptions.DefaultAuthenticatorProvider, given))
        {
            Error = T("account.code_wrong");
            return Page();
        }
        await users.SetTwoFactorEnabledAsync(Me, true);
        RecoveryCodes = [.. await users.GenerateNewTwoFactorRecoveryCodesAsync(Me, 10) ?? []];
        await RenewSessionAsync();
        SetupKey = null;
        QrSvg = null;
        Done = T("account.enabled");
        return Page();
    }

    public async Task<IActionResult> OnPostDisableAsync([FromForm] string? password)
    {
        await LoadAsync(false);
        if (!await users.CheckPasswordAsync(Me, password ?? ""))
        {
            Error = T("login.wrong");
            return Page();
        }
        await users.SetTwoFactorEnabledAsync(Me, false);
        await users.ResetAuthenticatorKeyAsync(Me);
        await RenewSessionAsync();
        Done = T("account.disabled");
        return Page();
    }

    public async Task<IActionResult> OnPostPasswordAsync([FromForm] string? current, [FromForm(Name = "new_password")] string? newPassword)
    {
        await LoadAsync(false);
        var result = await users.ChangePasswordAsync(Me, current ?? "", newPassword ?? "");
        if (!result.Succeeded)
        {
            Error = result.Errors.Any(e => e.Code == "PasswordMismatch") ? T("login.wrong") : T("invite.password_rule");
            return Page();
        }
        await RenewSessionAsync();
        Done = T("account.password_changed");
        return Page();
    }

    private async Task RenewSessionAsync()
    {
        Me = (await users.FindByIdAsync(UserId.ToString()))!;
        await StaffSessions.SignInAsync(HttpContext, Me, Merchant.Id);
    }
}
