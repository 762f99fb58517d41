using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Retour.Infrastructure.Db;

namespace Retour.Features.Tenancy;

public sealed record MerchantInfo(Guid Id, string Slug, string Name, string Currency, TimeZoneInfo Zone, string DefaultLocale, IReadOnlyList<string> Locales, string? BrandColor, string? LogoUrl,
    Retour.Core.Logistics.PickupRecoverySettings PickupRecovery, TrackingSecrets Secrets);

/// <summary>The keys tracking webhooks are verified with (kept with the cached settings so a webhook costs no lookup).</summary>
public sealed record TrackingSecrets(string? Aftership, string? Easypost, string? ShippoToken, string? Sandbox)
{
    public override string ToString() => "TrackingSecrets { redacted }";
}

/// <summary>Merchant settings read on almost every request, cached briefly (settings changes show within <see cref="Ttl"/>).</summary>
public sealed class MerchantDirectory(IServiceScopeFactory scopes, TimeProvider clock)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<Guid, (MerchantInfo Info, DateTimeOffset Expires)> _byId = new();

    public async Task<MerchantInfo?> GetAsync(Guid id, CancellationToken ct)
    {
        if (_byId.TryGetValue(id, out var hit) && hit.Expires > clock.GetUtcNow()) return hit.Info;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        var m = await db.Merchants.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id, ct);
        return m is null ? null : Remember(m);
    }

    public async Task<MerchantInfo?> FindBySlugAsync(string slug, CancellationToken ct)
    {
        var cached = _byId.Values.FirstOrDefault(v => v.Info.Slug == slug && v.Expires > clock.GetUtcNow());
        if (cached.Info is not null) return cached.Info;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        var m = await db.Merchants.AsNoTracking().FirstOrDefaultAsync(x => x.Slug == slug, ct);
        return m is null ? null : Remember(m);
    }

    public void Forget(Guid id) => _byId.TryRemove(id, out _);

    private MerchantInfo Remember(Merchant m)
    {
        var info = new MerchantInfo(m.Id, m.Slug, m.Name, m.Currency, m.Zone, m.DefaultLocale, m.Locales, m.BrandColor, m.LogoUrl, m.PickupRecovery,
            new TrackingSecrets(m.AftershipSecret, m.EasypostSecret, m.ShippoToken, m.SandboxSecret));
        _byId[m.Id] = (info, clock.GetUtcNow() + Ttl);
        return info;
    }
}
