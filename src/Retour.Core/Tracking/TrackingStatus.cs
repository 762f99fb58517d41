using Retour.Core.Returns;

namespace Retour.Core.Tracking;

/// <summary>The canonical tracking vocabulary of PRODUCT.md; every provider's and carrier's codes map onto it.</summary>
public enum TrackingStatus
{
    InfoReceived,
    PickupScheduled,
    PickupFailed,
    PickedUp,
    InTransit,
    OutForDelivery,
    AttemptFailed,
    Delivered,
    Exception,
    ReturnedToSender,
    Expired,
}

/// <summary>
/// What a tracking event means for the shipment and for the return. Pure: the same events give the same result in any
/// order of arrival, because a shipment only ever moves forward in <see cref="Stage"/>.
/// </summary>
public static class TrackingRules
{
    /// <summary>How far along a parcel is. An event of a lower stage is recorded but never moves the shipment back.</summary>
    public static int Stage(TrackingStatus s) => s switch
    {
        TrackingStatus.InfoReceived => 0,
        TrackingStatus.PickupScheduled or TrackingStatus.PickupFailed => 1,
        TrackingStatus.PickedUp => 2,
        TrackingStatus.InTransit => 3,
        TrackingStatus.OutForDelivery or TrackingStatus.AttemptFailed => 4,
        TrackingStatus.Delivered or TrackingStatus.ReturnedToSender or TrackingStatus.Expired => 5,
        _ => -1, // Exception: a flag, not a place on the way
    };

    /// <summary>
    /// The shipment's status after an event: the event's, unless that would move it back. Within the pickup stage the
    /// newer event wins (a failed pickup is re-booked, a booked one can fail), which is why the times are compared there.
    /// </summary>
    public static TrackingStatus? Next(TrackingStatus? current, DateTimeOffset? currentAt, TrackingStatus incoming, DateTimeOffset incomingAt)
    {
        if (Stage(incoming) < 0) return current;
        if (current is not { } c) return incoming;
        var (was, now) = (Stage(c), Stage(incoming));
        if (now > was) return incoming;
        if (now == was && incoming != c && (currentAt is null || incomingAt >= currentAt)) return incoming;
        return c;
    }

    /// <summary>Statuses that need a person: support is flagged.</summary>
    public static bool NeedsSupport(TrackingStatus s) => s is TrackingStatus.Exception or TrackingStatus.ReturnedToSender;

    /// <summary>
    /// The moves a return makes for a shipment status, in order, from its current status. Carrier statuses never move a
    /// return back, and never past Delivered (receiving and inspection belong to the warehouse).
    /// </summary>
    public static IReadOnlyList<ReturnStatus> ReturnMoves(ReturnStatus current, TrackingStatus shipment)
    {
        var target = shipment switch
        {
            TrackingStatus.PickupScheduled => ReturnStatus.AwaitingShipment,
            TrackingStatus.PickupFailed => ReturnStatus.PickupFailed,
            TrackingStatus.PickedUp or TrackingStatus.InTransit or TrackingStatus.OutForDelivery or TrackingStatus.AttemptFailed => ReturnStatus.InTransit,
            TrackingStatus.Delivered => ReturnStatus.Delivered,
            _ => (ReturnStatus?)null,
        };
        if (target is not { } t) return [];
        // The path a parcel takes through the return lifecycle; a return only moves along it, forward.
        ReturnStatus[] path = [ReturnStatus.Approved, ReturnStatus.AwaitingShipment, ReturnStatus.InTransit, ReturnStatus.Delivered];
        if (current == ReturnStatus.PickupFailed)
            return t switch
            {
                ReturnStatus.AwaitingShipment => [ReturnStatus.AwaitingShipment],
                ReturnStatus.InTransit => [ReturnStatus.InTransit],
                ReturnStatus.Delivered => [ReturnStatus.InTransit, ReturnStatus.Delivered],
                _ => [],
            };
        if (t == ReturnStatus.PickupFailed)
            return current switch
            {
                ReturnStatus.Approved => [ReturnStatus.AwaitingShipment, ReturnStatus.PickupFailed],
                ReturnStatus.AwaitingShipment => [ReturnStatus.PickupFailed],
                _ => [],
            };
        var from = Array.IndexOf(path, current);
        var to = Array.IndexOf(path, t);
        return from < 0 || to <= from ? [] : path[(from + 1)..(to + 1)];
    }
}
