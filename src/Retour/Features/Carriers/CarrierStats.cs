using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Logistics;
using Retour.Infrastructure.Db;

namespace Retour.Features.Carriers;

/// <summary>
/// Carrier scorecards from the merchant's own shipments over a window of days. Allocation reads the 30-day card for every
/// booking, so it is cached per merchant for a minute; the API asks for fresh figures.
/// </summary>
public sealed class CarrierStats(TimeProvider clock)
{
    public const int DefaultDays = 30;
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<Guid, (IReadOnlyDictionary<string, CarrierScore> Cards, DateTimeOffset Expires)> _cache = new();

    public async Task<IReadOnlyDictionary<string, CarrierScore>> ComputeAsync(RetourDb db, int days, CancellationToken ct)
    {
        var since = clock.GetUtcNow().AddDays(-days);
        var facts = await db.Shipments.AsNoTracking()
            .Where(s => s.CreatedAt >= since && s.CancelledAt == null)
            .Select(s => new ShipmentFacts(s.CarrierCode, s.Service, s.PickupFailures, s.PickedUpAt, s.DeliveredAt, s.Damaged, s.PromisedDays))
            .ToListAsync(ct);
        return CarrierScorecard.Compute(facts);
    }

    public async Task<IReadOnlyDictionary<string, CarrierPerformance>> PerformanceAsync(RetourDb db, CancellationToken ct)
    {
        var merchant = db.Tenant.MerchantId;
        if (!_cache.TryGetValue(merchant, out var hit) || hit.Expires <= clock.GetUtcNow())
        {
            hit = (await ComputeAsync(db, DefaultDays, ct), clock.GetUtcNow() + Ttl);
            _cache[merchant] = hit;
        }
        return hit.Cards.ToDictionary(c => c.Key, c => c.Value.Performance, StringComparer.Ordinal);
    }
}
