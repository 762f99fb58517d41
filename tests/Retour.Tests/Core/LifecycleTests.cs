using Retour.Core.Returns;
using Xunit;
using static Retour.Core.Returns.ReturnStatus;

namespace Retour.Tests.Core;

public sealed class LifecycleTests
{
    public static TheoryData<ReturnStatus, ReturnStatus> Allowed()
    {
        var data = new TheoryData<ReturnStatus, ReturnStatus>();
        foreach (var t in Lifecycle.Transitions) data.Add(t.From, t.To);
        return data;
    }

    [Theory, MemberData(nameof(Allowed))]
    public void Transition_InTheTable_IsAllowed(ReturnStatus from, ReturnStatus to) => Assert.True(Lifecycle.CanMove(from, to));

    [Theory]
    [InlineData(Requested, Received)]
    [InlineData(Requested, Resolved)]
    [InlineData(PendingReview, AwaitingShipment)]
    [InlineData(Approved, Approved)]
    [InlineData(Approved, Rejected)]
    [InlineData(InTransit, Cancelled)]
    [InlineData(Received, Resolved)]
    [InlineData(Closed, Requested)]
    [InlineData(Rejected, Approved)]
    [InlineData(Cancelled, Approved)]
    public void Transition_NotInTheTable_IsRefused(ReturnStatus from, ReturnStatus to) => Assert.False(Lifecycle.CanMove(from, to));

    [Fact]
    public void FinalStates_AreRejectedCancelledExpiredAndClosed() =>
        Assert.Equal([Rejected, Closed, Cancelled, Expired], Enum.GetValues<ReturnStatus>().Where(Lifecycle.IsTerminal));

    [Fact]
    public void EveryStatus_IsReachableFromRequested()
    {
        var seen = new HashSet<ReturnStatus> { Requested };
        var queue = new Queue<ReturnStatus>([Requested]);
        while (queue.TryDequeue(out var s))
            foreach (var n in Lifecycle.NextStates(s))
                if (seen.Add(n)) queue.Enqueue(n);
        Assert.Equal(Enum.GetValues<ReturnStatus>().Length, seen.Count);
    }

    [Fact]
    public void Refusal_NamesTheAllowedNextStates()
    {
        var text = Lifecycle.Refusal(Approved, Rejected);
        Assert.Contains("'approved'", text);
        Assert.Contains("awaiting_shipment, received, resolved, cancelled", text);
    }

    [Fact]
    public void Refusal_FromAFinalState_SaysItIsFinal() => Assert.Contains("is final", Lifecycle.Refusal(Closed, Requested));

    [Fact]
    public void KeepIt_GoesFromApprovedStraightToResolved() => Assert.True(Lifecycle.CanMove(Approved, Resolved));

    [Fact]
    public void Cancel_IsPossibleOnlyBeforePickup()
    {
        var cancellable = Enum.GetValues<ReturnStatus>().Where(s => Lifecycle.CanMove(s, Cancelled)).ToList();
        Assert.Equal([Requested, PendingReview, Approved, AwaitingShipment, PickupFailed], cancellable);
    }

    [Fact]
    public void ReleasingStates_AreTheOnesThatEndWithoutTheGoods() =>
        Assert.Equal([Rejected, Cancelled, Expired], Lifecycle.ReleasingStates);

    [Fact]
    public void Codes_AreSnakeCase()
    {
        Assert.Equal("pending_review", Codes.Of(PendingReview));
        Assert.Equal("awaiting_shipment", Codes.Of(AwaitingShipment));
        Assert.True(Codes.TryParse<ReturnStatus>("pickup_failed", out var s) && s == PickupFailed);
        Assert.False(Codes.TryParse<ReturnStatus>("PickupFailed", out _));
    }
}
