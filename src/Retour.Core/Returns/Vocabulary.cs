namespace Retour.Core.Returns;

public enum ReturnStatus
{
    Requested,
    PendingReview,
    Approved,
    Rejected,
    AwaitingShipment,
    InTransit,
    Delivered,
    Received,
    Inspected,
    Resolved,
    Closed,
    Cancelled,
    Expired,
    PickupFailed,
}

public enum ReasonCode
{
    TooSmall,
    TooLarge,
    NotAsDescribed,
    Defective,
    Damaged,
    WrongItem,
    ArrivedLate,
    ChangedMind,
    BetterPrice,
    Quality,
    Other,
}

public enum Resolution
{
    Refund,
    StoreCredit,
    Exchange,
}

public enum ReturnMethod
{
    Pickup,
    DropOff,
    InStore,
    Keep,
}

/// <summary>Why a line cannot be returned. The codes are part of the public API.</summary>
public enum NotReturnableReason
{
    WindowPassed,
    FinalSale,
    NonReturnableCategory,
    AlreadyReturned,
    NotDelivered,
    OrderCancelled,
}
