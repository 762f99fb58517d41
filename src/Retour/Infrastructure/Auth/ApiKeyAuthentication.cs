using System.Collections.Concurrent;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Infrastructure.Auth;

public static class RetourClaims
{
    public const string MerchantId = "retour:merchant_id";
    public const string KeyId = "retour:key_id";
    public const string KeyName = "retour:key_name";
    public const string Scope = "scope";
    /// <summary>A console session's user, and the role and security stamp it was issued with.</summary>
    public const string UserId = "retour:user_id";
    public const string Email = "retour:email";
    public const string UserName = "retour:user_name";
    public const string Role = "retour:role";
    public const string Stamp = "retour:stamp";
}

/// <summary>
/// "Authorization: Bearer rtr_…" → the key's merchant and scopes. The key is looked up by its SHA-256;
/// hits are cached for <see cref="ApiKeyCache.Ttl"/>, so a revoked key stops working within that time.
/// </summary>
public sealed class ApiKeyHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeyCache cache) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header)) return AuthenticateResult.NoResult();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return AuthenticateResult.Fail("Use 'Authorization: Bearer <api key>'.");
        var secret = header["Bearer ".Length..].Trim();
        if (secret.Length is 0 or > 200) return AuthenticateResult.Fail("The API key is not valid.");

        var key = await cache.FindAsync(secret, Context.RequestAborted);
        if (key is null) return AuthenticateResult.Fail("The API key is not valid or has been revoked.");

        ScopeAuthorization.ActAsMerchant(Context, key.MerchantId);
        var claims = new List<Claim>
        {
            new(RetourClaims.MerchantId, key.MerchantId.ToString()),
            new(RetourClaims.KeyId, key.Id.ToString()),
            new(RetourClaims.KeyName, key.Name),
        };
        claims.AddRange(key.Scopes.Select(s => new Claim(RetourClaims.Scope, s)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = "Bearer";
        var failure = Context.Features.Get<IAuthenticateResultFeature>()?.AuthenticateResult?.Failure?.Message;
        return Problems.Write(Context, StatusCodes.Status401Unauthorized, "unauthorized", "Authentication required",
            failure ?? "Send an API key as 'Authorization: Bearer <key>'.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        Problems.Write(Context, StatusCodes.Status403Forbidden, "forbidden", "Missing scope",
            "This API key does not carry the scope this endpoint needs.");
}

public sealed record CachedKey(Guid Id, Guid MerchantId, string Name, IReadOnlyList<string> Scopes);

public sealed class ApiKeyCache(IServiceScopeFactory scopes, TimeProvider clock)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private const int MaxEntries = 10_000;
    private readonly ConcurrentDictionary<string, (CachedKey Key, DateTimeOffset Expires)> _entries = new();

    public async Task<CachedKey?> FindAsync(string secret, CancellationToken ct)
    {
        var hash = ApiKey.HashOf(secret);
        var now = clock.GetUtcNow();
        if (_entries.TryGetValue(hash, out var hit) && hit.Expires > now) return hit.Key;

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        // The one query that must find a key before the merchant is known, hence without the tenant filter.
        var row = await db.ApiKeys.IgnoreQueryFilters().AsNoTracking()
            .Where(k => k.Hash == hash && k.RevokedAt == null)
            .Select(k => new { k.Id, k.MerchantId, k.Name, k.Scopes })
            .FirstOrDefaultAsync(ct);
        if (row is null)
        {
            _entries.TryRemove(hash, out _);
            return null;
        }
        var key = new CachedKey(row.Id, row.MerchantId, row.Name, row.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        if (_entries.Count >= MaxEntries) _entries.Clear();
        _entries[hash] = (key, now + Ttl);
        return key;
    }

    public void Forget(string hash) => _entries.TryRemove(hash, out _);
}

public static class ScopeAuthorization
{
    public const string SelectorScheme = "Retour";
    /// <summary>The console's cookie scheme (registered by the Staff feature).</summary>
    public const string SessionScheme = "Console";

    public static string PolicyFor(string scope) => "scope:" + scope;

    /// <summary>
    /// Makes the signed-in merchant the unit of work's tenant, for a key and a session alike, except on a shop's public
    /// portal (/r/{slug}): that is the shop's in the URL whoever is signed in, and sets its own tenant.
    /// </summary>
    public static void ActAsMerchant(HttpContext http, Guid merchantId)
    {
        if (!http.Request.Path.StartsWithSegments("/r")) http.RequestServices.GetRequiredService<TenantContext>().Set(merchantId);
    }

    public static IServiceCollection AddScopePolicies(this IServiceCollection services)
    {
        // One default scheme that picks: a request with an Authorization header is an integration (API key), any other
        // may carry a console session cookie. The API's scope policies then decide the same way for both (ADR 22).
        services.AddAuthentication(SelectorScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyHandler.SchemeName, null)
            .AddPolicyScheme(SelectorScheme, null, o => o.ForwardDefaultSelector = http =>
                http.Request.Headers.ContainsKey("Authorization") ? ApiKeyHandler.SchemeName : SessionScheme);
        services.AddSingleton<ApiKeyCache>();
        services.AddAuthorization(o =>
        {
            foreach (var scope in Scopes.All)
                o.AddPolicy(PolicyFor(scope), p => p.RequireAuthenticatedUser().RequireClaim(RetourClaims.Scope, scope));
        });
        return services;
    }

    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(PolicyFor(scope));
}
