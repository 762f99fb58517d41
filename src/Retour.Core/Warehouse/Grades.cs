namespace Retour.Core.Warehouse;

/// <summary>The condition an inspector finds a returned unit in (PRODUCT.md). Wire codes are snake_case: like_new, missing_parts…</summary>
public enum Grade
{
    New,
    LikeNew,
    Used,
    Damaged,
    Defective,
    MissingParts,
    WrongItem,
    NotReceived,
}

/// <summary>Where a returned unit goes.</summary>
public enum Disposition
{
    Restock,
    Refurbish,
    ReturnToVendor,
    Liquidate,
    Donate,
    Recycle,
    Dispose,
}

public static class Grades
{
    /// <summary>The grades that are a mismatch with what the shopper said they sent: the unit is not (all) there.</summary>
    public static bool IsMismatch(Grade g) => g is Grade.WrongItem or Grade.MissingParts or Grade.NotReceived;

    /// <summary>Nothing of the ordered item came back, so there is nothing to route.</summary>
    public static bool NothingToRoute(Grade g) => g is Grade.NotReceived;
}
