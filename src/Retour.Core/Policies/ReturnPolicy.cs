using Retour.Core.Returns;

namespace Retour.Core.Policies;

public enum FeeKind { Percent, Fixed }

public enum RefundMoment { OnFirstScan, OnDelivery, AfterInspection }

/// <summary>A fee: a percentage of the returned items' value, or a fixed amount per returned unit.</summary>
public sealed record Fee(FeeKind Type, decimal Value)
{
    public static readonly Fee None = new(FeeKind.Fixed, 0m);
}

/// <summary>Orders placed between two month-days (inclusive) stay returnable until a month-day that follows.</summary>
public sealed record SeasonalExtension(string Name, string PlacedFrom, string PlacedTo, string ReturnableUntil);

/// <summary>What a category changes from the merchant-wide rules. Null means "as the policy says".</summary>
public sealed record CategoryRule
{
    public int? WindowDays { get; init; }
    public IReadOnlyList<Resolution>? Resolutions { get; init; }
    public IReadOnlyList<ReturnMethod>? Methods { get; init; }
    public Fee? RestockingFee { get; init; }
}

public sealed record AutoApprovalRules
{
    public bool Enabled { get; init; } = true;
    /// <summary>Largest refund estimate approved without a person; null means no limit.</summary>
    public decimal? MaxTotal { get; init; }
    /// <summary>How many of the shopper's earlier orders the return-rate rule looks at.</summary>
    public int HistoryOrders { get; init; } = 10;
    /// <summary>The rate rule only judges shoppers with at least this many earlier orders.</summary>
    public int MinHistoryOrders { get; init; } = 3;
    public decimal MaxReturnRatePercent { get; init; } = 50m;
    /// <summary>Reasons that always go to a person, for example <c>other</c>.</summary>
    public IReadOnlyList<ReasonCode> ReviewReasons { get; init; } = [];
}

/// <summary>
/// One version of a merchant's return policy. Versions are immutable: a return keeps the version it was judged by.
/// </summary>
public sealed record ReturnPolicy
{
    public int WindowDays { get; init; } = 30;
    public IReadOnlyDictionary<string, CategoryRule> Categories { get; init; } = new Dictionary<string, CategoryRule>();
    /// <summary>Windows per product (SKU or product code); they override the category's window.</summary>
    public IReadOnlyDictionary<string, int> ProductWindows { get; init; } = new Dictionary<string, int>();
    public IReadOnlyList<SeasonalExtension> SeasonalExtensions { get; init; } = [];
    public IReadOnlyList<string> NonReturnableCategories { get; init; } = [];
    public IReadOnlyList<Resolution> Resolutions { get; init; } = [Resolution.Refund, Resolution.StoreCredit, Resolution.Exchange];
    public IReadOnlyList<ReturnMethod> Methods { get; init; } = [ReturnMethod.Pickup, ReturnMethod.DropOff, ReturnMethod.InStore];
    public Fee RestockingFee { get; init; } = Fee.None;
    /// <summary>Charged once per return that travels by carrier, unless every line's reason is in <see cref="FeeWaivedReasons"/>.</summary>
    public decimal ReturnShippingFee { get; init; }
    /// <summary>Reasons that are the merchant's fault: neither the return shipping fee nor the restocking fee applies.</summary>
    public IReadOnlyList<ReasonCode> FeeWaivedReasons { get; init; } = [ReasonCode.Defective, ReasonCode.WrongItem, ReasonCode.Damaged];
    /// <summary>Keep-it is offered for lines whose returned value is below this; null means no limit.</summary>
    public decimal? KeepItThreshold { get; init; }
    public decimal StoreCreditBonusPercent { get; init; }
    public bool RefundOriginalShipping { get; init; }
    public RefundMoment RefundMoment { get; init; } = RefundMoment.AfterInspection;
    /// <summary>
    /// Percent of a unit's value kept back by its inspected grade (grade code → percent), for example used → 15. A mismatch
    /// (wrong_item, not_received) keeps it all back by default; missing_parts a quarter.
    /// </summary>
    public IReadOnlyDictionary<string, decimal> GradeDeductions { get; init; } = DefaultGradeDeductions;
    /// <summary>Days store credit (a gift card) stays spendable; null: it never expires.</summary>
    public int? StoreCreditValidDays { get; init; } = 365;
    public AutoApprovalRules AutoApproval { get; init; } = new();
    /// <summary>Conditions the item must meet, shown to shoppers and checked at inspection (e.g. unused, tags_attached).</summary>
    public IReadOnlyList<string> Conditions { get; init; } = ["unused", "tags_attached"];
    /// <summary>
    /// Finer reasons the shopper may pick under a reason, by reason code, for example too_small → [too_short, too_tight].
    /// Codes are lower-case with underscores; the portal shows each in the shopper's language (texts "subreason.{code}").
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> SubReasons { get; init; } = new Dictionary<string, IReadOnlyList<string>>();
    /// <summary>Days a label (or box-free QR code) stays valid; unused by then, the return expires. Null: labels never expire.</summary>
    public int? LabelValidDays { get; init; } = 30;
    /// <summary>When the store never reports delivery, count the window from fulfilment plus these days. Null: wait for delivery.</summary>
    public int? AssumeDeliveredAfterDays { get; init; }

    public CategoryRule? RuleFor(string category) => Categories.GetValueOrDefault(category);

    public static readonly IReadOnlyDictionary<string, decimal> DefaultGradeDeductions = new Dictionary<string, decimal>
    {
        ["used"] = 15m, ["damaged"] = 50m, ["missing_parts"] = 25m, ["wrong_item"] = 100m, ["not_received"] = 100m,
    };

    public decimal DeductionFor(Warehouse.Grade grade) => GradeDeductions.GetValueOrDefault(Codes.Of(grade), 0m);

    public IReadOnlyList<string> SubReasonsFor(ReasonCode reason) => SubReasons.GetValueOrDefault(Codes.Of(reason)) ?? [];

    public static ReturnPolicy Default { get; } = new()
    {
        WindowDays = 30,
        Methods = [ReturnMethod.Pickup, ReturnMethod.DropOff, ReturnMethod.InStore, ReturnMethod.Keep],
        ReturnShippingFee = 0m,
        KeepItThreshold = 10m,
        StoreCreditBonusPercent = 10m,
        AutoApproval = new AutoApprovalRules { MaxTotal = 500m },
    };
}
