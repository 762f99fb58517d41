using System.Net.Mail;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Features.Notifications;
using Retour.Features.Tenancy;
using Retour.Infrastructure;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Staff;

public sealed record MemberDto(Guid UserId, string Email, string Name, string Role, bool TwoFactor, DateTimeOffset? LastSignInAt, DateTimeOffset Since);
public sealed record InvitationDto(Guid Id, string Email, string Role, string State, string InvitedBy, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt,
    string? AcceptUrl = null, bool Emailed = false);
public sealed record StaffDto(IReadOnlyList<MemberDto> Members, IReadOnlyList<InvitationDto> Invitations);
public sealed record InviteInput(string? Email, string? Role);
public sealed record RoleInput(string? Role);
public sealed record MeDto(string Kind, Guid MerchantId, string? Email, string? Name, string? Role, string? KeyName, IReadOnlyList<string> Scopes);
public sealed record ApiKeyDto(Guid Id, string Name, string Prefix, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, string? Key = null);
public sealed record ApiKeyInput(string? Name, List<string>? Scopes);

/// <summary>
/// Staff and keys of the merchant (scope staff:admin): members and their roles, invitations by e-mailed link, API keys
/// (the secret shown once, revocable). GET /api/v1/me says who a key or session is and what it may do.
/// </summary>
public static class StaffEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/me", Me).RequireAuthorization().WithName("Me").WithTags("Staff").WithSummary("Who this key or session is, its role and scopes");
        var g = api.MapGroup("/staff").WithTags("Staff");
        g.MapGet("", List).RequireScope(Scopes.StaffAdmin).WithName("ListStaff").WithSummary("Members and invitations");
        g.MapPost("/invitations", Invite).RequireScope(Scopes.StaffAdmin).WithName("InviteStaff")
            .WithSummary("Invite someone by e-mail").WithDescription("Body: {\"email\": \"…\", \"role\": \"admin|agent|warehouse|analyst\"}. The link is e-mailed (when SMTP is set up) and returned once as accept_url; it works for 7 days.");
        g.MapDelete("/invitations/{id:guid}", Revoke).RequireScope(Scopes.StaffAdmin).WithName("RevokeInvitation");
        g.MapMethods("/{userId:guid}", ["PATCH"], ChangeRole).RequireScope(Scopes.StaffAdmin).WithName("ChangeStaffRole").WithSummary("Body: {\"role\": \"…\"}");
        g.MapDelete("/{userId:guid}", Remove).RequireScope(Scopes.StaffAdmin).WithName("RemoveStaff").WithSummary("Take the merchant away from a user (their other merchants stay)");
        var k = api.MapGroup("/api-keys").WithTags("Staff");
        k.MapGet("", ListKeys).RequireScope(Scopes.StaffAdmin).WithName("ListApiKeys");
        k.MapPost("", CreateKey).RequireScope(Scopes.StaffAdmin).WithName("CreateApiKey")
            .WithSummary("Make an API key").WithDescription("Body: {\"name\": \"…\", \"scopes\": [\"returns:read\", …]}. The key is in the answer once; only its hash is kept.");
        k.MapDelete("/{id:guid}", RevokeKey).RequireScope(Scopes.StaffAdmin).WithName("RevokeApiKey");
    }

    public static Ok<MeDto> Me(HttpContext http)
    {
        var u = http.User;
        var session = u.FindFirstValue(RetourClaims.UserId) is not null;
        return TypedResults.Ok(new MeDto(session ? "session" : "api_key", Guid.Parse(u.FindFirstValue(RetourClaims.MerchantId)!),
            u.FindFirstValue(RetourClaims.Email), u.FindFirstValue(RetourClaims.UserName), u.FindFirstValue(RetourClaims.Role),
            u.FindFirstValue(RetourClaims.KeyName), [.. u.FindAll(RetourClaims.Scope).Select(c => c.Value)]));
    }

    public static async Task<Ok<StaffDto>> List(RetourDb db, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var members = await db.StaffMemberships.AsNoTracking()
            .Join(db.StaffUsers, m => m.UserId, u => u.Id, (m, u) => new MemberDto(u.Id, u.Email, u.Name, m.Role, u.TwoFactorEnabled, u.LastSignInAt, m.CreatedAt))
            .ToListAsync(ct);
        var invitations = await db.StaffInvitations.AsNoTracking().Where(i => i.AcceptedAt == null && i.RevokedAt == null)
            .OrderByDescending(i => i.CreatedAt).Take(200).ToListAsync(ct);
        return TypedResults.Ok(new StaffDto([.. members.OrderBy(m => m.Email)],
            [.. invitations.Select(i => new InvitationDto(i.Id, i.Email, i.Role, i.State(now), i.InvitedBy, i.CreatedAt, i.ExpiresAt))]));
    }

    public static async Task<IResult> Invite(InviteInput? input, HttpContext http, RetourDb db, IdempotencyScope idem, RetourSettings settings,
        MerchantDirectory merchants, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var email = input?.Email?.Trim();
        if (string.IsNullOrEmpty(email) || email.Length > 320 || !MailAddress.TryCreate(email, out var parsed) || parsed.Address != email)
            errors.Add(new("email", "Give one e-mail address, like name@example.com."));
        if (!StaffRoles.IsRole(input?.Role)) errors.Add(new("role", $"Use one of: {string.Join(", ", StaffRoles.All)}."));
        if (errors.Count > 0) return Problems.Validation(errors);
        var normalized = email!.ToUpperInvariant();
        var existing = await db.StaffMemberships.AsNoTracking().Join(db.StaffUsers, m => m.UserId, u => u.Id, (m, u) => u.NormalizedEmail)
            .AnyAsync(e => e == normalized, ct);
        if (existing) return Problems.Result(409, "already_member", "Already a member", $"{email} already works for this merchant; change their role instead.");

        var now = clock.GetUtcNow();
        var actor = Actor.From(http.User);
        var token = RandomNumberGenerator.GetHexString(48, lowercase: true);
        var invitation = new StaffInvitation
        {
            Email = email, Role = input!.Role!, TokenHash = ApiKey.HashOf(token), InvitedBy = actor.Label, CreatedAt = now, ExpiresAt = now + StaffInvitation.Lifetime,
        };
        db.StaffInvitations.Add(invitation);
        var merchant = (await merchants.GetAsync(db.Tenant.MerchantId, ct))!;
        var url = $"{settings.PublicUrl}/console/invite/{token}";
        var emailed = settings.SmtpHost is not null;
        if (emailed)
            db.Notifications.Add(new Notification
            {
                EventId = invitation.Id, Template = "staff_invitation", Channel = "email", Recipient = email, Locale = "en",
                Subject = $"You are invited to {merchant.Name} on Retour",
                Body = $"Hello,\n\n{actor.Label} invites you to work on returns for {merchant.Name} as {invitation.Role}.\n\n" +
                       $"Accept the invitation and choose your password here (the link works for 7 days):\n{url}\n\nIf you did not expect this, ignore this message.",
                NextAttemptAt = now, CreatedAt = now, UpdatedAt = now,
            });
        Audit(db, "staff_invited", invitation.Id, actor, now, $"{email} as {invitation.Role}");
        var dto = new InvitationDto(invitation.Id, email, invitation.Role, "open", invitation.InvitedBy, now, invitation.ExpiresAt, url, emailed);
        return await db.CommitAsync(idem, TypedResults.Created($"/api/v1/staff/invitations/{invitation.Id}", dto), now, ct);
    }

    public static async Task<IResult> Revoke(Guid id, HttpContext http, RetourDb db, TimeProvider clock, CancellationToken ct)
    {
        var inv = await db.StaffInvitations.FirstOrDefaultAsync(i => i.Id == id, ct);
        if (inv is null) return Problems.NotFound("There is no such invitation.");
        if (inv.AcceptedAt is null && inv.RevokedAt is null)
        {
            inv.RevokedAt = clock.GetUtcNow();
            Audit(db, "staff_invitation_revoked", inv.Id, Actor.From(http.User), inv.RevokedAt.Value, inv.Email);
            await db.SaveChangesAsync(ct);
        }
        return TypedResults.NoContent();
    }

    public static async Task<IResult> ChangeRole(Guid userId, RoleInput? input, HttpContext http, RetourDb db, TimeProvider clock, CancellationToken ct)
    {
        if (!StaffRoles.IsRole(input?.Role)) return Problems.Validation("role", $"Use one of: {string.Join(", ", StaffRoles.All)}.");
        var m = await db.StaffMemberships.FirstOrDefaultAsync(x => x.UserId == userId, ct);
        if (m is null) return Problems.NotFound("This person does not work for this merchant.");
        if (m.Role == StaffRoles.Admin && input!.Role != StaffRoles.Admin && await LastAdminAsync(db, ct))
            return Problems.Result(409, "last_admin", "The last admin", "Make someone else admin first; a merchant always keeps one.");
        var now = clock.GetUtcNow();
        Audit(db, "staff_role_changed", userId, Actor.From(http.User), now, $"{m.Role} → {input!.Role}");
        m.Role = input.Role!;
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    public static async Task<IResult> Remove(Guid userId, HttpContext http, RetourDb db, TimeProvider clock, CancellationToken ct)
    {
        var m = await db.StaffMemberships.FirstOrDefaultAsync(x => x.UserId == userId, ct);
        if (m is null) return Problems.NotFound("This person does not work for this merchant.");
        if (m.Role == StaffRoles.Admin && await LastAdminAsync(db, ct))
            return Problems.Result(409, "last_admin", "The last admin", "Make someone else admin first; a merchant always keeps one.");
        db.StaffMemberships.Remove(m);
        Audit(db, "staff_removed", userId, Actor.From(http.User), clock.GetUtcNow(), m.Role);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<bool> LastAdminAsync(RetourDb db, CancellationToken ct) =>
        await db.StaffMemberships.CountAsync(x => x.Role == StaffRoles.Admin, ct) <= 1;

    public static async Task<Ok<IReadOnlyList<ApiKeyDto>>> ListKeys(RetourDb db, CancellationToken ct)
    {
        var keys = await db.ApiKeys.AsNoTracking().OrderByDescending(k => k.CreatedAt).ToListAsync(ct);
        return TypedResults.Ok<IReadOnlyList<ApiKeyDto>>([.. keys.Select(k => Dto(k))]);
    }

    public static async Task<IResult> CreateKey(ApiKeyInput? input, HttpContext http, RetourDb db, IdempotencyScope idem, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var name = input?.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100) errors.Add(new("name", "Name the key (at most 100 characters), after the integration that uses it."));
        var scopes = input?.Scopes ?? [];
        if (scopes.Count == 0) errors.Add(new("scopes", "Give at least one scope."));
        var unknown = scopes.Where(s => !Scopes.All.Contains(s)).ToList();
        if (unknown.Count > 0) errors.Add(new("scopes", $"Unknown: {string.Join(", ", unknown)}. Known: {string.Join(", ", Scopes.All)}."));
        if (errors.Count > 0) return Problems.Validation(errors);
        var now = clock.GetUtcNow();
        var secret = ApiKey.NewSecret();
        var key = new ApiKey { Name = name!, Prefix = ApiKey.PrefixOf(secret), Hash = ApiKey.HashOf(secret), Scopes = string.Join(' ', scopes.Distinct()), CreatedAt = now };
        db.ApiKeys.Add(key);
        Audit(db, "api_key_created", key.Id, Actor.From(http.User), now, $"{name}: {key.Scopes}");
        return await db.CommitAsync(idem, TypedResults.Created($"/api/v1/api-keys/{key.Id}", Dto(key, secret)), now, ct);
    }

    public static async Task<IResult> RevokeKey(Guid id, HttpContext http, RetourDb db, ApiKeyCache cache, TimeProvider clock, CancellationToken ct)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == id, ct);
        if (key is null) return Problems.NotFound("There is no such API key.");
        if (key.RevokedAt is null)
        {
            key.RevokedAt = clock.GetUtcNow();
            Audit(db, "api_key_revoked", key.Id, Actor.From(http.User), key.RevokedAt.Value, key.Name);
            await db.SaveChangesAsync(ct);
        }
        cache.Forget(key.Hash);
        return TypedResults.NoContent();
    }

    private static ApiKeyDto Dto(ApiKey k, string? secret = null) =>
        new(k.Id, k.Name, k.Prefix, k.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), k.CreatedAt, k.RevokedAt, secret);

    private static void Audit(RetourDb db, string action, Guid id, Actor actor, DateTimeOffset now, string? reason) =>
        db.AuditEvents.Add(AuditEvent.Of("staff", id, action, actor, now, reason));
}
