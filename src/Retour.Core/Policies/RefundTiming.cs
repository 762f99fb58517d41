using Retour.Core.Returns;
using static Retour.Core.Returns.ReturnStatus;

namespace Retour.Core.Policies;

public sealed record RefundDue(bool Due, string Explanation);

/// <summary>
/// When money (or credit, or the exchange) goes out, by the policy's refund moment: on the carrier's first scan, on
/// arrival (delivered or scanned in at the warehouse), or after inspection. Keep-it returns are settled on approval.
/// </summary>
public static class RefundTiming
{
    private static readonly ReturnStatus[] Scanned = [InTransit, Delivered, Received, Inspected];
    private static readonly ReturnStatus[] Arrived = [Delivered, Received, Inspected];

    public static RefundDue IsDue(RefundMoment moment, ReturnMethod method, ReturnStatus status)
    {
        if (status is Rejected or Cancelled or Expired or Requested or PendingReview)
            return new(false, $"A return in status '{Codes.Of(status)}' is not refunded.");
        if (method == ReturnMethod.Keep)
            return status is Approved or Resolved
                ? new(true, "Keep-it: settled on approval, nothing comes back.")
                : new(false, $"Keep-it returns are settled on approval; this one is '{Codes.Of(status)}'.");
        if (status is Resolved or Closed) return new(true, "The return is resolved.");
        // An in-store return is handed over at the counter: that is its first scan and its arrival.
        return moment switch
        {
            RefundMoment.OnFirstScan when Scanned.Contains(status) => new(true, "The policy refunds on the carrier's first scan, and the parcel has been scanned."),
            RefundMoment.OnFirstScan => new(false, "The policy refunds on the carrier's first scan; the parcel has not been scanned yet."),
            RefundMoment.OnDelivery when Arrived.Contains(status) => new(true, "The policy refunds on arrival, and the parcel has arrived."),
            RefundMoment.OnDelivery => new(false, "The policy refunds when the parcel arrives at the warehouse; it has not arrived yet."),
            _ when status == Inspected => new(true, "The policy refunds after inspection, and every unit is inspected."),
            _ => new(false, "The policy refunds after inspection; not every unit has been inspected yet."),
        };
    }
}
