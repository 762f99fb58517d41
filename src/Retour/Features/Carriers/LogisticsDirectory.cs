using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Addresses;
using Retour.Core.Logistics;
using Retour.Infrastructure.Db;

namespace Retour.Features.Carriers;

/// <summary>A merchant's active carriers and the address returns go to (the default warehouse), if set up.</summary>
public sealed record MerchantLogistics(IReadOnlyList<CarrierProfile> Carriers, string? WarehouseName, PostalAddress? ReturnAddress)
{
    public CarrierProfile? Carrier(string? code) => Carriers.FirstOrDefault(c => c.Code == code);
}

/// <summary>Carriers and the return address, read by every return and every portal page, cached briefly like merchant settings.</summary>
public sealed class LogisticsDirectory(IServiceScopeFactory scopes, TimeProvider clock)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<Guid, (MerchantLogistics Value, DateTimeOffset Expires)> _cache = new();

    public async Task<MerchantLogistics> GetAsync(Guid merchantId, CancellationToken ct)
    {
        if (_cache.TryGetValue(merchantId, out var hit) && hit.Expires > clock.GetUtcNow()) return hit.Value;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        var carriers = await db.Carriers.IgnoreQueryFilters().AsNoTracking()
            .Where(c => c.MerchantId == merchantId && c.Active).OrderBy(c => c.Code).ToListAsync(ct);
        var warehouse = await db.Warehouses.IgnoreQueryFilters().AsNoTracking()
            .Where(w => w.MerchantId == merchantId).OrderByDescending(w => w.IsDefault).ThenBy(w => w.Code).FirstOrDefaultAsync(ct);
        var value = new MerchantLogistics(
            [.. carriers.Select(c => c.ToProfile())],
            warehouse?.Name, warehouse?.Address);
        _cache[merchantId] = (value, clock.GetUtcNow() + Ttl);
        return value;
    }

    public void Forget(Guid merchantId) => _cache.TryRemove(merchantId, out _);
}
