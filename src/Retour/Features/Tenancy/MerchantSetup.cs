using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Money;
using Retour.Core.Policies;
using Retour.Features.Policies;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Localization;

namespace Retour.Features.Tenancy;

public sealed record NewMerchant(
    string Slug, string Name, string Currency = "EUR", string TimeZone = "Europe/Berlin", string Locale = "en",
    string? ApiKey = null, string? ShopifyDomain = null, string? ShopifySecret = null, ReturnPolicy? Policy = null);

/// <summary>Creates a merchant with its first (default) policy and an admin API key; the key is returned once.</summary>
public static partial class MerchantSetup
{
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,62}$")]
    private static partial Regex SlugPattern();

    public static IReadOnlyList<FieldError> Validate(NewMerchant m)
    {
        var errors = new List<FieldError>();
        if (!SlugPattern().IsMatch(m.Slug)) errors.Add(new FieldError("slug", "Use 2 to 63 lower-case letters, digits and dashes, for example 'acme'."));
        if (string.IsNullOrWhiteSpace(m.Name) || m.Name.Length > 200) errors.Add(new FieldError("name", "Give a name of 1 to 200 characters."));
        if (!Currencies.IsValid(m.Currency)) errors.Add(new FieldError("currency", "Use a three-letter ISO 4217 code, for example EUR."));
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(m.TimeZone, out _)) errors.Add(new FieldError("time_zone", "Use an IANA time zone such as Europe/Berlin."));
        if (Texts.Supported(m.Locale) is null) errors.Add(new FieldError("locale", $"Use one of: {string.Join(", ", Texts.Locales)}."));
        if (m.ApiKey is { Length: < 16 }) errors.Add(new FieldError("api_key", "An API key has at least 16 characters."));
        return errors;
    }

    public static async Task<(Merchant Merchant, string ApiKey)> CreateAsync(RetourDb db, NewMerchant m, DateTimeOffset now, CancellationToken ct)
    {
        var errors = Validate(m);
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors.Select(e => $"{e.Field}: {e.Message}")));
        if (await db.Merchants.AnyAsync(x => x.Slug == m.Slug, ct)) throw new ArgumentException($"slug: a merchant '{m.Slug}' exists already.");

        var merchant = new Merchant
        {
            Slug = m.Slug, Name = m.Name.Trim(), Currency = m.Currency, TimeZone = m.TimeZone, DefaultLocale = Texts.Supported(m.Locale)!,
            ShopifyDomain = m.ShopifyDomain?.Trim().ToLowerInvariant(), ShopifySecret = m.ShopifySecret, CreatedAt = now,
        };
        db.Merchants.Add(merchant);
        db.Tenant.Set(merchant.Id);
        var secret = m.ApiKey ?? ApiKey.NewSecret();
        db.ApiKeys.Add(AdminKey(merchant.Id, secret, now));
        var policy = new PolicyVersion
        {
            Version = 1,
            DocumentJson = Json.Serialize(m.Policy ?? ReturnPolicy.Default),
            // The first version judges every order, including those imported from before the merchant joined.
            EffectiveFrom = DateTimeOffset.UnixEpoch,
            CreatedAt = now,
            CreatedBy = "setup",
        };
        db.PolicyVersions.Add(policy);
        db.AuditEvents.Add(new AuditEvent
        {
            EntityType = "merchant", EntityId = merchant.Id, Action = "created", ActorType = Actor.System.Type,
            ActorName = Actor.System.Name, OccurredAt = now,
        });
        await db.SaveChangesAsync(ct);
        return (merchant, secret);
    }

    public static ApiKey AdminKey(Guid merchantId, string secret, DateTimeOffset now) => new()
    {
        MerchantId = merchantId,
        Name = "admin",
        Prefix = ApiKey.PrefixOf(secret),
        Hash = ApiKey.HashOf(secret),
        Scopes = string.Join(' ', Scopes.All),
        CreatedAt = now,
    };
}
