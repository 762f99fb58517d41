using System.Security.Cryptography;
using System.Text;

namespace Retour.Core.Logistics;

/// <summary>How the sandbox carrier behaves. Rates are 0..1.</summary>
public sealed record SandboxBehaviour(
    double PickupSuccessRate = 0.9, double ExceptionRate = 0.03, double DamageRate = 0.01, double DelayRate = 0.1,
    double DuplicateRate = 0.05, double OutOfOrderRate = 0.05);

/// <summary>
/// One event of a simulated parcel. <see cref="At"/> is when it happens and <see cref="VisibleAt"/> when the carrier reports
/// it (later for an out-of-order event); both are offsets from the booking on the simulated clock.
/// </summary>
public sealed record SimEvent(string Id, string Code, string Message, TimeSpan At, TimeSpan VisibleAt, string? Location);

/// <summary>
/// The life of a sandbox parcel, planned up front from a seed: the pickup attempt (it succeeds with the configured rate; a
/// failure names its reason and ends the plan until the pickup is re-booked), or the shopper's drop-off;
/// then hub scans with realistic gaps, occasional delays, damage and other exceptions, out for delivery and delivery.
/// Some events are reported twice or late. Pure: the same seed, service and behaviour give the same life.
/// </summary>
public static class SandboxLife
{
    public static int SeedOf(string trackingNumber) => BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(trackingNumber)), 0) & int.MaxValue;

    /// <summary>The seed of the plan after the <paramref name="rebooks"/>-th re-booking (the first plan keeps the booking's seed).</summary>
    public static int SeedOf(int seed, int rebooks) => rebooks == 0 ? seed : SeedOf($"{seed}#{rebooks}");

    private static readonly (string Code, string Message)[] PickupFailures =
    [
        ("PU_FAIL_NA", "Pickup failed: customer not available"),
        ("PU_FAIL_ADDR", "Pickup failed: address not found"),
        ("PU_FAIL_REF", "Pickup failed: parcel refused"),
    ];

    private static readonly string[] Hubs = ["Leipzig hub", "Kassel hub", "Hannover hub", "Köln hub", "Nürnberg hub"];

    /// <param name="firstAttempt">For pickups, how long after booking the first attempt is (the slot).</param>
    public static IReadOnlyList<SimEvent> Plan(int seed, string service, int transitDays, SandboxBehaviour b, TimeSpan firstAttempt, int pickupAttemptsSoFar = 0)
    {
        var rnd = new Random(seed);
        var events = new List<SimEvent>();
        var t = TimeSpan.Zero;
        var n = 0;
        void Add(string code, string message, TimeSpan at, string? location = null) => events.Add(new SimEvent($"sim-{seed}-{++n}", code, message, at, at, location));

        if (service == "pickup")
        {
            // One attempt per booking: after a failure the carrier waits for Retour's instruction (the NDR answer) and
            // comes again only when the pickup is re-booked (a new plan, from the re-booking, with the attempts so far).
            t = firstAttempt + Hours(rnd, 0, 4);
            var attempt = pickupAttemptsSoFar + 1;
            if (rnd.NextDouble() >= b.PickupSuccessRate)
            {
                var (code, message) = PickupFailures[rnd.Next(PickupFailures.Length)];
                Add(code, $"{message} (attempt {attempt})", t, "Customer address");
                return events;
            }
            Add("PU_OK", $"Parcel collected (attempt {attempt})", t, "Customer address");
        }
        else
        {
            t = Hours(rnd, 6, 60); // the shopper drops the parcel off within a few days
            Add("DROP_SCAN", service == "box_free" ? "QR code scanned at the drop-off point; parcel packed" : "Parcel handed in at the drop-off point", t, "Drop-off point");
        }

        var total = TimeSpan.FromDays(Math.Max(1, transitDays)) - Hours(rnd, 2, 10);
        var hub = Hubs[rnd.Next(Hubs.Length)];
        Add("HUB_IN", "Arrived at the sorting hub", t + total * 0.25, hub);
        if (rnd.NextDouble() < b.DelayRate)
        {
            var delay = Hours(rnd, 20, 40);
            Add("EXC_DELAY", "Delayed at the hub: volume above capacity", t + total * 0.3, hub);
            total += delay;
        }
        Add("HUB_OUT", "Departed the sorting hub", t + total * 0.45, hub);
        var damaged = rnd.NextDouble() < b.DamageRate;
        if (damaged) Add("EXC_DMG", "Parcel damaged in transit; delivered as is", t + total * 0.6, hub);
        else if (rnd.NextDouble() < b.ExceptionRate) Add("EXC_DELAY", "Exception: label unreadable, relabelled", t + total * 0.6, hub);
        Add("OFD", "Out for delivery to the returns warehouse", t + total * 0.9, "Returns warehouse");
        Add("DLV", "Delivered to the returns warehouse", t + total, "Returns warehouse");

        // Carriers report some events twice and some late (after the next one).
        var reported = new List<SimEvent>();
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (i + 1 < events.Count && i > 0 && rnd.NextDouble() < b.OutOfOrderRate)
                e = e with { VisibleAt = events[i + 1].At + TimeSpan.FromMinutes(5) };
            reported.Add(e);
            if (rnd.NextDouble() < b.DuplicateRate) reported.Add(e with { VisibleAt = e.VisibleAt + TimeSpan.FromMinutes(30) });
        }
        return reported;
    }

    /// <summary>The events the carrier has reported by <paramref name="simulatedNow"/> (an offset from booking).</summary>
    public static IReadOnlyList<SimEvent> ReportedBy(IReadOnlyList<SimEvent> plan, TimeSpan simulatedNow) =>
        [.. plan.Where(e => e.VisibleAt <= simulatedNow)];

    private static TimeSpan Hours(Random rnd, double min, double max) => TimeSpan.FromHours(min + rnd.NextDouble() * (max - min));
}
