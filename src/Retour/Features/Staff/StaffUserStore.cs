using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Retour.Infrastructure.Db;

namespace Retour.Features.Staff;

/// <summary>
/// ASP.NET Core Identity's store over <see cref="RetourDb"/>: passwords (Identity's PBKDF2 hasher), lockout, TOTP
/// authenticator keys and recovery codes. Our own table rather than Identity's EF schema: one row per person, the
/// per-merchant roles live in <see cref="StaffMembership"/>, and migrations stay the plain SQL of every other table.
/// </summary>
public sealed class StaffUserStore(RetourDb db) :
    IUserPasswordStore<StaffUser>, IUserEmailStore<StaffUser>, IUserSecurityStampStore<StaffUser>, IUserLockoutStore<StaffUser>,
    IUserTwoFactorStore<StaffUser>, IUserAuthenticatorKeyStore<StaffUser>, IUserTwoFactorRecoveryCodeStore<StaffUser>
{
    public void Dispose() { }

    public Task<string> GetUserIdAsync(StaffUser user, CancellationToken ct) => Task.FromResult(user.Id.ToString());
    public Task<string?> GetUserNameAsync(StaffUser user, CancellationToken ct) => Task.FromResult<string?>(user.Email);
    public Task SetUserNameAsync(StaffUser user, string? userName, CancellationToken ct) { user.Email = userName ?? user.Email; return Task.CompletedTask; }
    public Task<string?> GetNormalizedUserNameAsync(StaffUser user, CancellationToken ct) => Task.FromResult<string?>(user.NormalizedEmail);
    public Task SetNormalizedUserNameAsync(StaffUser user, string? normalizedName, CancellationToken ct)
    {
        if (normalizedName is not null) user.NormalizedEmail = normalizedName;
        return Task.CompletedTask;
    }

    public async Task<IdentityResult> CreateAsync(StaffUser user, CancellationToken ct)
    {
        db.StaffUsers.Add(user);
        await db.SaveChangesAsync(ct);
        return IdentityResult.Success;
    }

    public async Task<IdentityResult> UpdateAsync(StaffUser user, CancellationToken ct)
    {
        if (db.Entry(user).State == EntityState.Detached) db.StaffUsers.Update(user);
        await db.SaveChangesAsync(ct);
        return IdentityResult.Success;
    }

    public async Task<IdentityResult> DeleteAsync(StaffUser user, CancellationToken ct)
    {
        db.StaffUsers.Remove(user);
        await db.SaveChangesAsync(ct);
        return IdentityResult.Success;
    }

    public Task<StaffUser?> FindByIdAsync(string userId, CancellationToken ct) =>
        Guid.TryParse(userId, out var id) ? db.StaffUsers.FirstOrDefaultAsync(u => u.Id == id, ct) : Task.FromResult<StaffUser?>(null);

    public Task<StaffUser?> FindByNameAsync(string normalizedUserName, CancellationToken ct) =>
        db.StaffUsers.FirstOrDefaultAsync(u => u.NormalizedEmail == normalizedUserName, ct);

    public Task SetPasswordHashAsync(StaffUser user, string? passwordHash, CancellationToken ct) { user.PasswordHash = passwordHash; return Task.CompletedTask; }
    public Task<string?> GetPasswordHashAsync(StaffUser user, CancellationToken ct) => Task.FromResult(user.PasswordHash);
    public Task<bool> HasPasswordAsync(StaffUser user, CancellationToken ct) => Task.FromResult(user.PasswordHash is not null);

    public Task SetEmailAsync(StaffUser user, string? email, CancellationToken ct) { user.Email = email ?? user.Email; return Task.CompletedTask; }
    public Task<string?> GetEmailAsync(StaffUser user, CancellationToken ct) => Task.FromResult<string?>(user.Email);
    // The address is confirmed by accepting the invitation that was sent to it.
    public Task<bool> GetEmailConfirmedAsync(StaffUser user, CancellationToken ct) => Task.FromResult(true);
    public Task SetEmailConfirmedAsync(StaffUser user, bool confirmed, CancellationToken ct) => Task.CompletedTask;
    public Task<StaffUser?> FindByEmailAsync(string normalizedEmail, CancellationToken ct) => FindByNameAsync(normalizedEmail, ct);
    public Task<string?> GetNormalizedEmailAsync(StaffUser user, CancellationToken ct) => Task.FromResult<string?>(user.NormalizedEmail);
    public Task SetNormalizedEmailAsync(StaffUser user, string? normalizedEmail, CancellationToken ct) => SetNormalizedUserNameAsync(user, normalizedEmail, ct);

    public Task SetSecurityStampAsync(StaffUser user, string stamp, CancellationToken ct) { user.SecurityStamp = stamp; return Task.CompletedTask; }
    public Task<string?> GetSecurityStampAsync(StaffUser user, CancellationToken ct) => Task.FromResult<string?>(user.SecurityStamp);

    public Task<DateTimeOffset?> GetLockoutEndDateAsync(StaffUser user, CancellationToken ct) => Task.FromResult(user.LockoutEnd);
    public Task SetLockoutEndDateAsync(StaffUser user, DateTimeOffset? lockoutEnd, CancellationToken ct) { user.LockoutEnd = lockoutEnd; return Task.CompletedTask; }
    public Task<int> IncrementAccessFailedCountAsync(StaffUser user, CancellationToken ct) => Task.FromResult(++user.AccessFailedCount);
    public Task ResetAccessFailedCountAsync(StaffUser user, CancellationToken ct) { user.AccessFailedCount = 0; return Task.CompletedTask; }
    public Task<int> GetAccessFailedCountAsync(StaffUser user, CancellationToken ct) => Task.FromResult(user.AccessFailedCount);
    public Task<bool> GetLockoutEnabledAsync(StaffUser user, CancellationToken ct) => Task.FromResult(user.LockoutEnabled);
    public Task SetLockoutEnabledAsync(StaffUser user, bool enabled, CancellationToken ct) { user.LockoutEnabled = enabled; return Task.CompletedTask; }

    public Task SetTwoFactorEnabledAsync(StaffUser user, bool enabled, CancellationToken ct) { user.TwoFactorEnabled = enabled; return Task.CompletedTask; }
    public Task<bool> GetTwoFactorEnabledAsync(StaffUser user, CancellationToken ct) => Task.FromResult(user.TwoFactorEnabled);

    public Task SetAuthenticatorKeyAsync(StaffUser user, string key, CancellationToken ct) { user.AuthenticatorKey = key; return Task.CompletedTask; }
    public Task<string?> GetAuthenticatorKeyAsync(StaffUser user, CancellationToken ct) => Task.FromResult(user.AuthenticatorKey);

    public Task ReplaceCodesAsync(StaffUser user, IEnumerable<string> recoveryCodes, CancellationToken ct)
    {
        user.RecoveryCodes = string.Join(';', recoveryCodes);
        return Task.CompletedTask;
    }

    public Task<bool> RedeemCodeAsync(StaffUser user, string code, CancellationToken ct)
    {
        var codes = (user.RecoveryCodes ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (!codes.Remove(code)) return Task.FromResult(false);
        user.RecoveryCodes = string.Join(';', codes);
        return Task.FromResult(true);
    }

    public Task<int> CountCodesAsync(StaffUser user, CancellationToken ct) =>
        Task.FromResult((user.RecoveryCodes ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries).Length);
}
