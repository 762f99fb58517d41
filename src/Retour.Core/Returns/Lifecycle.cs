using System.Text;
using static Retour.Core.Returns.ReturnStatus;

namespace Retour.Core.Returns;

public sealed record Transition(ReturnStatus From, ReturnStatus To, string When);

/// <summary>
/// The return lifecycle of PRODUCT.md as one table. The entity's guard, the 409 messages
/// and docs/lifecycle.md are all read from <see cref="Transitions"/>.
/// </summary>
public static class Lifecycle
{
    public static readonly IReadOnlyList<Transition> Transitions =
    [
        new(Requested, PendingReview, "an approval rule fired, so a person must decide"),
        new(Requested, Approved, "every approval rule passed (auto-approval)"),
        new(Requested, Rejected, "staff reject the request"),
        new(Requested, Cancelled, "the shopper or staff cancel before pickup"),
        new(PendingReview, Approved, "staff approve after review"),
        new(PendingReview, Rejected, "staff reject after review"),
        new(PendingReview, Cancelled, "the shopper or staff cancel before pickup"),
        new(Approved, AwaitingShipment, "a label is issued or a pickup is booked"),
        new(Approved, Received, "the warehouse scans the parcel in before any carrier scan, or an in-store return is handed over at the counter"),
        new(Approved, Resolved, "keep-it: the refund, credit or exchange is issued without a shipment"),
        new(Approved, Cancelled, "the shopper or staff cancel before pickup"),
        new(AwaitingShipment, InTransit, "the carrier picks the parcel up or scans it"),
        new(AwaitingShipment, PickupFailed, "the carrier could not collect the parcel"),
        new(AwaitingShipment, Received, "the parcel reaches the warehouse before any carrier scan"),
        new(AwaitingShipment, Expired, "the label was not used within the policy's days"),
        new(AwaitingShipment, Cancelled, "the shopper or staff cancel before pickup"),
        new(PickupFailed, AwaitingShipment, "the shopper re-confirms or picks a new slot"),
        new(PickupFailed, InTransit, "the carrier collects the parcel on a re-attempt"),
        new(PickupFailed, Cancelled, "the shopper or support give up on the return"),
        new(InTransit, Delivered, "the carrier delivers the parcel to the warehouse"),
        new(InTransit, Received, "the warehouse scans the parcel before the delivery scan arrives"),
        new(Delivered, Received, "the warehouse scans the parcel"),
        new(Received, Inspected, "every unit is inspected and graded"),
        new(Inspected, Resolved, "the refund, credit or exchange is issued"),
        new(Resolved, Closed, "every unit has its final disposition"),
    ];

    private static readonly Dictionary<ReturnStatus, ReturnStatus[]> Next =
        Enum.GetValues<ReturnStatus>().ToDictionary(
            s => s,
            s => Transitions.Where(t => t.From == s).Select(t => t.To).ToArray());

    public static IReadOnlyList<ReturnStatus> NextStates(ReturnStatus from) => Next[from];

    public static bool CanMove(ReturnStatus from, ReturnStatus to) => Array.IndexOf(Next[from], to) >= 0;

    public static bool IsTerminal(ReturnStatus status) => Next[status].Length == 0;

    /// <summary>States in which the returned quantity no longer counts against the order line.</summary>
    public static bool ReleasesQuantity(ReturnStatus status) => status is Rejected or Cancelled or Expired;

    public static IReadOnlyList<ReturnStatus> ReleasingStates { get; } = [Rejected, Cancelled, Expired];

    /// <summary>The refusal text of a 409: what was asked and which states may follow.</summary>
    public static string Refusal(ReturnStatus from, ReturnStatus to)
    {
        var allowed = Next[from];
        return allowed.Length == 0
            ? $"A return in status '{Codes.Of(from)}' is final and cannot move to '{Codes.Of(to)}'."
            : $"A return in status '{Codes.Of(from)}' cannot move to '{Codes.Of(to)}'. Allowed next states: {string.Join(", ", allowed.Select(Codes.Of))}.";
    }

    /// <summary>docs/lifecycle.md, generated from the table; a test keeps the committed copy current.</summary>
    public static string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.Append("# Return lifecycle\n\n");
        sb.Append("Generated from `Retour.Core.Returns.Lifecycle.Transitions` by `retour docs lifecycle`. Do not edit by hand:\n");
        sb.Append("the API's 409 answers, the entity guard and this page all read the same table.\n\n");
        sb.Append("```mermaid\nstateDiagram-v2\n    [*] --> requested\n");
        foreach (var t in Transitions) sb.Append($"    {Codes.Of(t.From)} --> {Codes.Of(t.To)}\n");
        foreach (var s in Enum.GetValues<ReturnStatus>().Where(IsTerminal)) sb.Append($"    {Codes.Of(s)} --> [*]\n");
        sb.Append("```\n\n| from | to | when |\n|---|---|---|\n");
        foreach (var t in Transitions) sb.Append($"| `{Codes.Of(t.From)}` | `{Codes.Of(t.To)}` | {t.When} |\n");
        sb.Append("\nFinal states: ");
        sb.Append(string.Join(", ", Enum.GetValues<ReturnStatus>().Where(IsTerminal).Select(s => $"`{Codes.Of(s)}`")));
        sb.Append(".\nA return in `rejected`, `cancelled` or `expired` no longer counts against the order's returnable quantity.\n");
        return sb.ToString();
    }
}
