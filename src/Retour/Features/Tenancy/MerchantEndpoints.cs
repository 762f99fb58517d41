using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Media;
using Retour.Features.Portal;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Tenancy;

/// <summary>Where each tracking provider posts, and whether its secret is set (secrets are write-only).</summary>
public sealed record TrackingWebhookDto(string Provider, string Url, bool Configured);

public sealed record MerchantDto(string Slug, string Name, string Currency, string TimeZone, string DefaultLocale, IReadOnlyList<string> Locales,
    string? BrandColor, string? LogoUrl, string PortalUrl, string PolicyUrl, IReadOnlyList<TrackingWebhookDto> TrackingWebhooks,
    int PickupMaxAttempts, int PickupAnswerHours)
{
    public static MerchantDto From(Merchant m) => new(m.Slug, m.Name, m.Currency, m.TimeZone, m.DefaultLocale, m.Locales, m.BrandColor, m.LogoUrl,
        $"/r/{m.Slug}", $"/r/{m.Slug}/policy",
        [
            new("aftership", $"/api/v1/tracking/aftership/{m.Slug}", m.AftershipSecret is not null),
            new("easypost", $"/api/v1/tracking/easypost/{m.Slug}", m.EasypostSecret is not null),
            new("shippo", $"/api/v1/tracking/shippo/{m.Slug}?token=…", m.ShippoToken is not null),
            new("sandbox", $"/api/v1/tracking/sandbox/{m.Slug}", m.SandboxSecret is not null),
        ], m.PickupMaxAttempts, m.PickupAnswerHours);
}

/// <summary>PATCH body: only the fields sent change; an empty string clears brand_color, logo_url or a tracking secret.</summary>
public sealed record MerchantUpdate(string? Name = null, string? BrandColor = null, string? LogoUrl = null, string? DefaultLocale = null,
    string? AftershipSecret = null, string? EasypostSecret = null, string? ShippoToken = null, string? SandboxSecret = null,
    int? PickupMaxAttempts = null, int? PickupAnswerHours = null);

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
            .WithDescription("Send only what changes. brand_color is #RRGGBB (the portal darkens it until white text on it meets WCAG AA); logo_url is an https URL of an image; an empty string clears either. default_locale is one of the shop's languages. aftership_secret, easypost_secret, shippo_token and sandbox_secret (signed tracking batches) set the tracking webhook secrets (write-only; GET shows tracking_webhooks with configured true or false). pickup_max_attempts (1-10, default 3) and pickup_answer_hours (1-720, default 48): after that many failed pickups, or that long without the shopper's answer, a failed pickup goes to support. Labels print only an uploaded logo (PUT /merchant/logo): Retour never fetches a remote image while drawing a label.");
        api.MapPut("/merchant/logo", PutLogo).RequireScope(Scopes.PolicyWrite).WithName("PutMerchantLogo").WithTags("Merchant")
            .WithMetadata(new BodyLimitAttribute(MerchantLogo.MaxBytes + 64 * 1024))
            .WithSummary("Upload the shop's logo for the portal and the return labels")
            .WithDescription("The body is the image itself (Content-Type image/png or image/jpeg), or a multipart form with the file in the field 'logo'. The type is judged by the bytes, not by the name or header. At most 1 MiB and 4096 px a side; metadata (EXIF, text chunks) is removed. logo_url then points at the stored copy, /r/{slug}/logo?v=..., and the label prints it.");
        api.MapDelete("/merchant/logo", DeleteLogo).RequireScope(Scopes.PolicyWrite).WithName("DeleteMerchantLogo").WithTags("Merchant")
            .WithSummary("Remove the uploaded logo");
    }

    /// <summary>The public logo, linked from the portal and e-mails: cached for ever under its versioned URL.</summary>
    public static void MapPublic(WebApplication app) =>
        app.MapGet("/r/{slug}/logo", GetPublicLogo).ExcludeFromDescription();

    public static async Task<Results<Ok<MerchantDto>, ProblemHttpResult>> PutLogo(
        HttpContext http, RetourDb db, MerchantDirectory directory, TimeProvider clock, CancellationToken ct)
    {
        var bytes = await http.Request.ReadUploadAsync("logo", ct);
        if (bytes is null || bytes.Length == 0)
            return Problems.Validation("logo", "Send the logo as the request body (Content-Type image/png or image/jpeg), or as a multipart form with the file in the field 'logo'.");
        if (bytes.Length > MerchantLogo.MaxBytes)
            return Problems.Result(StatusCodes.Status413PayloadTooLarge, "payload_too_large", "The logo is too large",
                $"The logo is {bytes.Length} bytes; the limit is {MerchantLogo.MaxBytes} bytes (1 MiB).");
        var problem = Photos.Sniff(bytes) switch
        {
            null => "The file is not a PNG or JPEG image.",
            PhotoType.WebP => "WebP logos cannot be printed on labels; save the logo as PNG or JPEG.",
            _ => null,
        };
        var cleaned = problem is null ? Photos.Clean(bytes) : null;
        if (problem is null && cleaned is null) problem = "The file is damaged or incomplete: it does not read as a whole PNG or JPEG image.";
        var size = cleaned is { } c ? Photos.Dimensions(c.Bytes) : null;
        if (problem is null && size is null) problem = "The image header gives no width and height.";
        if (problem is null && size is { } s && (s.Width > MerchantLogo.MaxSide || s.Height > MerchantLogo.MaxSide || s.Width < 16 || s.Height < 16))
            problem = $"The logo is {s.Width}×{s.Height} px; use 16 to {MerchantLogo.MaxSide} px a side.";
        if (problem is null && !ReturnLabel.CanDraw(cleaned!.Value.Bytes))
            problem = "The label printer cannot read this image; save it as a non-interlaced PNG or a baseline JPEG.";
        if (problem is not null) return Problems.Validation("logo", problem);

        var m = await db.Merchants.FirstOrDefaultAsync(x => x.Id == db.Tenant.MerchantId, ct);
        if (m is null) return Problems.NotFound("No merchant.");
        var (type, data) = cleaned!.Value;
        var now = clock.GetUtcNow();
        var logo = await db.MerchantLogos.FirstOrDefaultAsync(ct);
        if (logo is null) db.MerchantLogos.Add(logo = new MerchantLogo { MerchantId = m.Id });
        m.LogoUrl = logo.Set(m.Slug, type, data, size!.Value, now);
        Audit(db, http, m.Id, "logo_uploaded", $"{logo.ContentType} {logo.Width}x{logo.Height} {data.Length} bytes sha256:{logo.Sha256[..12]}", now);
        await db.SaveChangesAsync(ct);
        directory.Forget(m.Id);
        return TypedResults.Ok(MerchantDto.From(m));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteLogo(
        HttpContext http, RetourDb db, MerchantDirectory directory, TimeProvider clock, CancellationToken ct)
    {
        var m = await db.Merchants.FirstOrDefaultAsync(x => x.Id == db.Tenant.MerchantId, ct);
        if (m is null) return Problems.NotFound("No merchant.");
        var logo = await db.MerchantLogos.FirstOrDefaultAsync(ct);
        if (logo is null) return TypedResults.NoContent(); // already gone: deleting is idempotent
        db.MerchantLogos.Remove(logo);
        if (IsUploaded(m.Slug, m.LogoUrl)) m.LogoUrl = null;
        Audit(db, http, m.Id, "logo_removed", null, clock.GetUtcNow());
        await db.SaveChangesAsync(ct);
        directory.Forget(m.Id);
        return TypedResults.NoContent();
    }

    /// <summary>Whether the logo URL is the uploaded copy (the label prints only that one).</summary>
    public static bool IsUploaded(string slug, string? logoUrl) => logoUrl?.StartsWith($"/r/{slug}/logo?", StringComparison.Ordinal) == true;

    public static async Task<IResult> GetPublicLogo(string slug, string? v, HttpContext http, MerchantDirectory directory, RetourDb db, CancellationToken ct)
    {
        var merchant = slug.Length <= 64 ? await directory.FindBySlugAsync(slug, ct) : null;
        if (merchant is null) return Results.NotFound();
        db.Tenant.Set(merchant.Id);
        var logo = await db.MerchantLogos.AsNoTracking().FirstOrDefaultAsync(ct);
        if (logo is null) return Results.NotFound();
        // The versioned URL never changes content; an unversioned or stale one is revalidated after five minutes.
        http.Response.Headers.CacheControl = v is not null && logo.Sha256.StartsWith(v, StringComparison.Ordinal) && v.Length >= 12
            ? "public, max-age=31536000, immutable" : "public, max-age=300";
        // Results.File answers If-None-Match with 304 itself, as the photo endpoint does.
        return Results.File(logo.Data, logo.ContentType, entityTag: new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{logo.Sha256}\""));
    }

    private static void Audit(RetourDb db, HttpContext http, Guid merchantId, string action, string? reason, DateTimeOffset at)
    {
        var actor = Actor.From(http.User);
        db.AuditEvents.Add(new AuditEvent
        {
            EntityType = "merchant", EntityId = merchantId, Action = action, ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name,
            Reason = reason, OccurredAt = at,
        });
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
        foreach (var (field, value) in new[] { ("aftership_secret", update.AftershipSecret), ("easypost_secret", update.EasypostSecret), ("shippo_token", update.ShippoToken), ("sandbox_secret", update.SandboxSecret) })
            if (value is { Length: > 0 } v && (v.Length is < 16 or > 255 || v.Any(char.IsControl)))
                errors.Add(new FieldError(field, "Use 16 to 255 characters, as the provider shows the secret."));
        var recovery = new Core.Logistics.PickupRecoverySettings(update.PickupMaxAttempts ?? m.PickupMaxAttempts, update.PickupAnswerHours ?? m.PickupAnswerHours);
        errors.AddRange(recovery.Validate());
        if (errors.Count > 0) return Problems.Validation(errors);

        (m.PickupMaxAttempts, m.PickupAnswerHours) = (recovery.MaxAttempts, recovery.AnswerHours);
        if (update.AftershipSecret is not null) m.AftershipSecret = update.AftershipSecret.Length == 0 ? null : update.AftershipSecret;
        if (update.EasypostSecret is not null) m.EasypostSecret = update.EasypostSecret.Length == 0 ? null : update.EasypostSecret;
        if (update.ShippoToken is not null) m.ShippoToken = update.ShippoToken.Length == 0 ? null : update.ShippoToken;
        if (update.SandboxSecret is not null) m.SandboxSecret = update.SandboxSecret.Length == 0 ? null : update.SandboxSecret;
        if (update.Name is not null) m.Name = update.Name.Trim();
        if (update.BrandColor is not null) m.BrandColor = update.BrandColor.Length == 0 ? null : update.BrandColor.ToLowerInvariant();
        if (update.LogoUrl is not null) m.LogoUrl = update.LogoUrl.Length == 0 ? null : update.LogoUrl;
        if (update.DefaultLocale is not null) m.DefaultLocale = update.DefaultLocale;
        Audit(db, http, m.Id, "settings_changed", string.Join(',', new[] { ("name", update.Name), ("brand_color", update.BrandColor), ("logo_url", update.LogoUrl), ("default_locale", update.DefaultLocale),
                ("aftership_secret", update.AftershipSecret), ("easypost_secret", update.EasypostSecret), ("shippo_token", update.ShippoToken), ("sandbox_secret", update.SandboxSecret),
                ("pickup_max_attempts", update.PickupMaxAttempts?.ToString()), ("pickup_answer_hours", update.PickupAnswerHours?.ToString()) }
            .Where(f => f.Item2 is not null).Select(f => f.Item1)), clock.GetUtcNow());
        await db.SaveChangesAsync(ct);
        directory.Forget(m.Id);
        return TypedResults.Ok(MerchantDto.From(m));
    }
}
