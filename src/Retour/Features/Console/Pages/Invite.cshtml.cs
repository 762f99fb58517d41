using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Staff;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;

namespace Retour.Features.Console.Pages;

/// <summary>
/// The invitation link: a newcomer chooses a name and password; someone who already has a Retour account (for another
/// merchant) confirms with their password. Either way the membership is made, the invitation is used up, and they are
/// signed in to the inviting merchant.
/// </summary>
public sealed class InviteModel(UserManager<StaffUser> users) : ConsolePageBase
{
    public StaffInvitation? Invitation { get; private set; }
    public string? MerchantName { get; private set; }
    public bool Existing { get; private set; }
    public string? Error { get; private set; }
    public string? NameInput { get; private set; }

    private async Task<bool> LoadAsync(string token)
    {
        var hash = ApiKey.HashOf(token);
        // Before anyone is signed in: found by the token alone, then the unit of work is scoped to its merchant.
        Invitation = token.Length is > 20 and < 200 ? await Db.StaffInvitations.IgnoreQueryFilters().FirstOrDefaultAsync(i => i.TokenHash == hash, HttpContext.RequestAborted) : null;
        if (Invitation is null || Invitation.State(Clock.GetUtcNow()) != "open")
        {
            Error = Invitation is null ? T("invite.invalid") : T("invite.state_" + Invitation.State(Clock.GetUtcNow()));
            Invitation = null;
            return false;
        }
        Db.Tenant.Set(Invitation.MerchantId);
        MerchantName = await Db.Merchants.Where(m => m.Id == Invitation.MerchantId).Select(m => m.Name).FirstAsync(HttpContext.RequestAborted);
        Existing = await users.FindByEmailAsync(Invitation.Email) is not null;
        return true;
    }

    public async Task OnGetAsync(string token)
    {
        Title = T("invite.title");
        await LoadAsync(token);
    }

    public async Task<IActionResult> OnPostAsync(string token, [FromForm] string? name, [FromForm] string? password, [FromForm] string? confirm)
    {
        Title = T("invite.title");
        if (!await LoadAsync(token)) return Page();
        var inv = Invitation!;
        NameInput = name?.Trim();
        var user = await users.FindByEmailAsync(inv.Email);
        if (user is not null)
        {
            if (await users.IsLockedOutAsync(user)) { Error = T("login.locked", ("minutes", "15")); return Page(); }
            if (!await users.CheckPasswordAsync(user, password ?? ""))
            {
                await users.AccessFailedAsync(user);
                Error = T("login.wrong");
                return Page();
            }
        }
        else
        {
            if (string.IsNullOrEmpty(NameInput) || NameInput.Length > 200) { Error = T("invite.name_missing"); return Page(); }
            if (password != confirm) { Error = T("invite.mismatch"); return Page(); }
            user = new StaffUser { Email = inv.Email, NormalizedEmail = inv.Email.ToUpperInvariant(), Name = NameInput, CreatedAt = Clock.GetUtcNow() };
            var created = await users.CreateAsync(user, password ?? "");
            if (!created.Succeeded)
            {
                Error = string.Join(" ", created.Errors.Select(e => e.Code.StartsWith("Password") ? T("invite.password_rule") : e.Description).Distinct());
                Db.ChangeTracker.Clear();
                return Page();
            }
        }
        var now = Clock.GetUtcNow();
        var tracked = await Db.StaffInvitations.FirstAsync(i => i.Id == inv.Id, HttpContext.RequestAborted);
        tracked.AcceptedAt = now;
        if (!await Db.StaffMemberships.AnyAsync(m => m.UserId == user.Id, HttpContext.RequestAborted))
            Db.StaffMemberships.Add(new StaffMembership { UserId = user.Id, Role = inv.Role, CreatedAt = now });
        Db.AuditEvents.Add(AuditEvent.Of("staff", user.Id, "staff_joined", new Actor("staff", user.Id.ToString(), user.Email), now, inv.Role));
        await Db.SaveChangesAsync(HttpContext.RequestAborted);
        await StaffSessions.SignInAsync(HttpContext, user, inv.MerchantId);
        return Redirect("/console");
    }
}
