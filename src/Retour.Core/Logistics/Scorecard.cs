namespace Retour.Core.Logistics;

/// <summary>What one shipment tells about its carrier, as tracking recorded it.</summary>
public sealed record ShipmentFacts(
    string Carrier, string Service, int PickupFailures, DateTimeOffset? PickedUpAt, DateTimeOffset? DeliveredAt, bool Damaged, int PromisedDays);

/// <summary>
/// A carrier's measured record. Rates are null when nothing was measured. <see cref="Performance"/> holds the counts that
/// allocation scores (with its prior for carriers with little data).
/// </summary>
public sealed record CarrierScore(
    string Carrier, int Shipments, int PickupShipments, int PickupsAttempted, int PickupsSucceeded, int FirstAttemptSucceeded,
    int WithFailedPickup, int Recovered, int Moved, int Delivered, int OnTime, int Damaged, double? AvgTransitHours)
{
    public decimal? PickupSuccessRate => Rate(PickupsSucceeded, PickupsAttempted);
    /// <summary>Of pickups with an outcome, the share collected at the first attempt.</summary>
    public decimal? FirstAttemptRate => Rate(FirstAttemptSucceeded, PickupsSucceeded + WithFailedPickup - Recovered);
    /// <summary>Share of pickup shipments with at least one failed attempt (NDR).</summary>
    public decimal? NdrRate => Rate(WithFailedPickup, PickupsSucceeded + WithFailedPickup - Recovered);
    /// <summary>Of shipments with a failed pickup, the share collected later.</summary>
    public decimal? RecoveryRate => Rate(Recovered, WithFailedPickup);
    public decimal? OnTimeRate => Rate(OnTime, Delivered);
    public decimal? DamageRate => Rate(Damaged, Moved);

    public CarrierPerformance Performance => new(PickupsAttempted, PickupsSucceeded, Delivered, OnTime, Moved, Damaged);

    private static decimal? Rate(int hits, int n) => n == 0 ? null : Math.Round((decimal)hits / n, 4);
}

public static class CarrierScorecard
{
    /// <summary>Aggregates shipments per carrier. On time: delivered within the promised days of the pickup (or first scan).</summary>
    public static IReadOnlyDictionary<string, CarrierScore> Compute(IEnumerable<ShipmentFacts> shipments) =>
        shipments.GroupBy(s => s.Carrier, StringComparer.Ordinal).ToDictionary(g => g.Key, g =>
        {
            var pickups = g.Where(s => s.Service == "pickup").ToList();
            var delivered = g.Where(s => s.DeliveredAt is not null && s.PickedUpAt is not null).ToList();
            var transit = delivered.Select(s => (s.DeliveredAt!.Value - s.PickedUpAt!.Value).TotalHours).ToList();
            return new CarrierScore(
                g.Key, g.Count(), pickups.Count,
                PickupsAttempted: pickups.Sum(s => s.PickupFailures + (s.PickedUpAt is null ? 0 : 1)),
                PickupsSucceeded: pickups.Count(s => s.PickedUpAt is not null),
                FirstAttemptSucceeded: pickups.Count(s => s.PickedUpAt is not null && s.PickupFailures == 0),
                WithFailedPickup: pickups.Count(s => s.PickupFailures > 0),
                Recovered: pickups.Count(s => s.PickupFailures > 0 && s.PickedUpAt is not null),
                Moved: g.Count(s => s.PickedUpAt is not null),
                Delivered: delivered.Count,
                OnTime: delivered.Count(s => (s.DeliveredAt!.Value - s.PickedUpAt!.Value).TotalHours <= Math.Max(1, s.PromisedDays) * 24),
                Damaged: g.Count(s => s.Damaged),
                AvgTransitHours: transit.Count == 0 ? null : Math.Round(transit.Average(), 1));
        }, StringComparer.Ordinal);
}
