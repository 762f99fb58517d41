using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Tenancy;

public sealed record MerchantDto(string Slug, string Name, string Currency, string TimeZone, string DefaultLocale, IReadOnlyList<string> Locales,
    string? BrandColor, string? LogoUrl, string PortalUrl, string PolicyUrl)
{
    public static MerchantDto From(Merchant m) => new(m.Slug, m.Name, m.Currency, m.TimeZone, m.DefaultLocale, m.Locales, m.BrandColor, m.LogoUrl,
        $"/r/{m.Slug}", $"/r/{m.Slug}/policy");
}

/// <summary>PATCH body: only the fields sent change; an empty string clears brand_color or logo_url.</summary>
public sealed record MerchantUpdate(string? Name = null, string? BrandColor = null, string? LogoUrl = null, string? DefaultLocale = null);

/// <summary>
/// GET /api/v1/merchant and PATCH /api/v1/merchant: the shop's public face in the portal (name, brand colour, logo, default
/// language). The merchant is the one the API key belongs to; there is no id in the route to point at another.
/// </summary>
public static partial class MerchantEndpoints
{
    [GeneratedRegex("^#[0-9a-fA-F]{6}$")]
    private static partial Regex HexColour();

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/merchant", Get).RequireScope(Scopes.PolicyRead).WithName("GetMerchant").WithTags("Merchant");
        api.MapPatch("/merchant", Patch).RequireScope(Scopes.PolicyWrite).WithName("PatchMerchant").WithTags("Merchant")
            .WithSummary("Change the shop's name, brand colour, logo or default language")
            .WithDescription("Send only what changes. brand_color is #RRGGBB (the portal darkens it until white text on it meets WCAG AA); logo_url is an https URL of an image; an empty string clears either. default_locale is one of the shop's languages.");
    }

    public static async Task<Results<Ok<MerchantDto>, ProblemHttpResult>> Get(RetourDb db, CancellationToken ct) =>
        await db.Merchants.AsNoTracking().FirstOrDefaultAsync(m => m.Id == db.Tenant.MerchantId, ct) is { } m
            ? TypedResults.Ok(MerchantDto.From(m))
            : Problems.NotFound("No merchant.");

    public static async Task<Results<Ok<MerchantDto>, ProblemHttpResult>> Patch(
        MerchantUpdate? update, HttpContext http, RetourDb db, MerchantDirectory directory, TimeProvider clock, CancellationToken ct)
    {
        if (update is null) return Problems.Validation("body", "Send a JSON object with the fields to change.");
        var m = await db.Merchants.FirstOrDefaultAsync(x => x.Id == db.Tenant.MerchantId, ct);
        if (m is null) return Problems.NotFound("No merchant.");
        var errors = new List<FieldError>();
        if (update.Name is { } name && (name.Trim().Length is 0 or > 200)) errors.Add(new FieldError("name", "Give a name of 1 to 200 characters."));
        if (update.BrandColor is { Length: > 0 } colour && !HexColour().IsMatch(colour)) errors.Add(new FieldError("brand_color", "Use a colour as #RRGGBB, for example #0f5c4d."));
        if (update.LogoUrl is { Length: > 0 } logo &&
            (logo.Length > 500 || !Uri.TryCreate(logo, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps))
            errors.Add(new FieldError("logo_url", "Use an https URL of at most 500 characters."));
        if (update.DefaultLocale is { } locale && !m.Locales.Contains(locale))
            errors.Add(new FieldError("default_locale", $"Use one of the shop's languages: {string.Join(", ", m.Locales)}."));
        if (errors.Count > 0) return Problems.Validation(errors);

        if (update.Name is not null) m.Name = update.Name.Trim();
        if (update.BrandColor is not null) m.BrandColor = update.BrandColor.Length == 0 ? null : update.BrandColor.ToLowerInvariant();
        if (update.LogoUrl is not null) m.LogoUrl = update.LogoUrl.Length == 0 ? null : update.LogoUrl;
        if (update.DefaultLocale is not null) m.DefaultLocale = update.DefaultLocale;
        var actor = Actor.From(http.User);
        db.AuditEvents.Add(new AuditEvent
        {
            EntityType = "merchant", EntityId = m.Id, Action = "settings_changed", ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name,
            Reason = string.Join(',', new[] { ("name", update.Name), ("brand_color", update.BrandColor), ("logo_url", update.LogoUrl), ("default_locale", update.DefaultLocale) }
                .Where(f => f.Item2 is not null).Select(f => f.Item1)),
            OccurredAt = clock.GetUtcNow(),
        });
        await db.SaveChangesAsync(ct);
        directory.Forget(m.Id);
        return TypedResults.Ok(MerchantDto.From(m));
    }
}
