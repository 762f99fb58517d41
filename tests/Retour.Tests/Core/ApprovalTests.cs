using Retour.Core.Policies;
using Retour.Core.Returns;
using Xunit;

namespace Retour.Tests.Core;

public sealed class ApprovalTests
{
    private static RefundBreakdown Total(decimal total) => new("EUR", total, 0, 0, 0, 0, 0, total, [], []);
    private static readonly AutoApprovalRules Rules = new() { MaxTotal = 100m, HistoryOrders = 10, MinHistoryOrders = 3, MaxReturnRatePercent = 50m };

    [Fact]
    public void AutoApproval_AllRulesPass_ExplainsWhy()
    {
        var d = Approval.Decide(Rules, [], Total(40m), [ReasonCode.TooSmall], new CustomerHistory(4, 1));
        Assert.Equal(DecisionOutcome.Approved, d.Outcome);
        Assert.StartsWith("Auto-approved because every line is eligible", d.Explanation);
        Assert.Contains("40.00 EUR is within the 100.00 EUR limit", d.Explanation);
        Assert.Contains("returned 1 of their last 4 orders (25% ≤ 50%)", d.Explanation);
        Assert.All(d.Rules, r => Assert.True(r.Passed));
    }

    [Fact]
    public void AutoApproval_TotalOverTheLimit_QueuesForReview_NamingTheRule()
    {
        var d = Approval.Decide(Rules, [], Total(100.01m), [ReasonCode.TooSmall], new CustomerHistory(0, 0));
        Assert.Equal(DecisionOutcome.PendingReview, d.Outcome);
        Assert.Equal("Queued for review because rule 'total_within_limit' fired: the refund of 100.01 EUR is over the 100.00 EUR limit.", d.Explanation);
    }

    [Fact]
    public void AutoApproval_TotalAtTheLimit_IsApproved() =>
        Assert.Equal(DecisionOutcome.Approved, Approval.Decide(Rules, [], Total(100m), [], new CustomerHistory(0, 0)).Outcome);

    [Fact]
    public void AutoApproval_HighReturnRate_QueuesForReview_AndFlagsIt()
    {
        var d = Approval.Decide(Rules, [], Total(10m), [], new CustomerHistory(5, 3));
        Assert.Equal(DecisionOutcome.PendingReview, d.Outcome);
        Assert.Contains("'return_rate'", d.Explanation);
        Assert.Contains("60% > 50%", d.Explanation);
        Assert.Contains("high_return_rate", d.Flags);
    }

    [Fact]
    public void AutoApproval_FewEarlierOrders_DoesNotJudgeTheRate()
    {
        var d = Approval.Decide(Rules, [], Total(10m), [], new CustomerHistory(2, 2));
        Assert.Equal(DecisionOutcome.Approved, d.Outcome);
        Assert.Contains("fewer than the 3 needed", d.Explanation);
    }

    [Fact]
    public void AutoApproval_IneligibleLines_QueueForReview()
    {
        var d = Approval.Decide(Rules, ["L2"], Total(10m), [], new CustomerHistory(0, 0));
        Assert.Equal(DecisionOutcome.PendingReview, d.Outcome);
        Assert.Contains("'lines_eligible'", d.Explanation);
        Assert.Contains("policy_exception", d.Flags);
    }

    [Fact]
    public void AutoApproval_Off_QueuesEverythingForReview()
    {
        var d = Approval.Decide(Rules with { Enabled = false }, [], Total(1m), [], new CustomerHistory(0, 0));
        Assert.Equal(DecisionOutcome.PendingReview, d.Outcome);
        Assert.Contains("'auto_approval_enabled'", d.Explanation);
    }

    [Fact]
    public void AutoApproval_ReviewReasons_AlwaysGoToAPerson()
    {
        var d = Approval.Decide(Rules with { ReviewReasons = [ReasonCode.Other] }, [], Total(1m), [ReasonCode.Other, ReasonCode.TooSmall], new CustomerHistory(0, 0));
        Assert.Equal(DecisionOutcome.PendingReview, d.Outcome);
        Assert.Contains("reason(s) other always go to review", d.Explanation);
    }

    [Fact]
    public void AutoApproval_SeveralRulesFire_AllAreNamed()
    {
        var d = Approval.Decide(Rules, ["L1"], Total(500m), [], new CustomerHistory(10, 9));
        Assert.StartsWith("Queued for review because rules 'lines_eligible', 'total_within_limit' and 'return_rate' fired", d.Explanation);
    }
}
