using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Policies;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

public sealed class ReturnsApiTests(RetourApp app) : IClassFixture<RetourApp>
{
    private static readonly ReturnPolicy Policy = ReturnPolicy.Default with
    {
        ReturnShippingFee = 4.95m,
        AutoApproval = new AutoApprovalRules { MaxTotal = 100m },
        NonReturnableCategories = ["beauty"],
    };

    private async Task<TestMerchant> MerchantWithOrder(string number = "1001")
    {
        var m = await app.NewMerchantAsync(Policy);
        (await m.Client.Post("/api/v1/orders", Orders.Delivered(number,
            Orders.Line("L1", "TEE-M-BLU", 19.99m, 2, tax: 3.80m),
            Orders.Line("L2", "SERUM", 29m, 1, "beauty"),
            Orders.Line("L3", "COAT", 150m, 1)))).Expect(HttpStatusCode.Created);
        return m;
    }

    [Fact]
    public async Task CreateReturn_Answers201_WithRmaStatusEstimateAndDecision()
    {
        var m = await MerchantWithOrder();
        var r = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001", qty: 2))).Expect(HttpStatusCode.Created);
        Assert.Matches(new Regex("^R-[0-9A-Z]{4}-[0-9A-Z]{4}$"), r.Str("rma"));
        Assert.Equal("approved", r.Str("status"));
        Assert.Equal("EUR", r.Str("refund_estimate.currency"));
        Assert.Equal("39.98", r.Str("refund_estimate.items"));
        Assert.Equal("3.80", r.Str("refund_estimate.tax"));
        Assert.Equal("4.95", r.Str("refund_estimate.fees"));
        Assert.Equal("38.83", r.Str("refund_estimate.total"));
        Assert.Equal("approved", r.Str("decision.outcome"));
        Assert.StartsWith("Auto-approved because", r.Str("decision.explanation"));
        Assert.Equal("too_small", r.Str("lines.0.reason"));
        Assert.Equal(["requested", "approved"], r["timeline"]!.AsArray().Select(e => e!.Str("to")));
    }

    [Fact]
    public async Task CreateReturn_OverTheLimit_GoesToReview_NamingTheRule()
    {
        var m = await MerchantWithOrder();
        var r = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001", "L3"))).Expect(HttpStatusCode.Created);
        Assert.Equal("pending_review", r.Str("status"));
        Assert.Contains("rule 'total_within_limit' fired", r.Str("decision.explanation"));
    }

    [Fact]
    public async Task GetReturn_ByIdOrRma_IncludesTheTimeline()
    {
        var m = await MerchantWithOrder();
        var r = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001"))).Expect(HttpStatusCode.Created);
        var byId = (await m.Client.Get($"/api/v1/returns/{r.Str("id")}")).Expect(HttpStatusCode.OK);
        var byRma = (await m.Client.Get($"/api/v1/returns/{r.Str("rma").ToLowerInvariant()}")).Expect(HttpStatusCode.OK);
        Assert.Equal(byId.Str("id"), byRma.Str("id"));
        var timeline = byId["timeline"]!.AsArray();
        Assert.Equal(["created", "status_changed"], timeline.Select(e => e!.Str("action")));
        Assert.Equal("api_key", timeline[0]!.Str("actor_type"));
        Assert.Equal("system", timeline[1]!.Str("actor_type"));
    }

    [Fact]
    public async Task UnknownOrder_Gets404()
    {
        var m = await MerchantWithOrder();
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("9999"))).Expect(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("L1", 0, "too_small", "lines[0].quantity")]
    [InlineData("L1", 3, "too_small", "lines[0].quantity")]
    [InlineData("L1", 1, "because", "lines[0].reason")]
    [InlineData("L2", 1, "too_small", "lines[0]")]
    public async Task BadReturn_Gets422_NamingTheField_AndNothingIsWritten(string line, int qty, string reason, string field)
    {
        var m = await MerchantWithOrder();
        var before = await Counts(m);
        var problem = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001", line, qty, reason))).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Contains(field, problem["errors"]!.AsObject().Select(kv => kv.Key));
        Assert.Equal(before, await Counts(m));
    }

    [Fact]
    public async Task QuantityAlreadyInAnOpenReturn_IsNotReturnableAgain()
    {
        var m = await MerchantWithOrder();
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001", qty: 2))).Expect(HttpStatusCode.Created);
        var problem = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001", qty: 1))).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("already_returned", problem.ToJsonString());
    }

    [Fact]
    public async Task CancelledReturn_GivesItsQuantityBack()
    {
        var m = await MerchantWithOrder();
        var r = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001", qty: 2))).Expect(HttpStatusCode.Created);
        (await m.Client.Post($"/api/v1/returns/{r.Str("id")}/cancel", new { reason = "changed my mind" })).Expect(HttpStatusCode.OK);
        var line = (await m.Client.Get("/api/v1/orders/1001/returnability")).Expect(HttpStatusCode.OK)["lines"]!.AsArray()[0]!;
        Assert.Equal(2, line["returnable_quantity"]!.GetValue<int>());
        Assert.Equal(0, (await m.Client.Get("/api/v1/orders/1001")).Expect(HttpStatusCode.OK)["lines"]!.AsArray()[0]!["returned_quantity"]!.GetValue<int>());
    }

    [Fact]
    public async Task Approve_Reject_Cancel_FollowTheLifecycle()
    {
        var m = await MerchantWithOrder();
        var pending = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001", "L3"))).Expect(HttpStatusCode.Created);
        var id = pending.Str("id");
        var approved = (await m.Client.Post($"/api/v1/returns/{id}/approve", new { reason = "Loyal customer" })).Expect(HttpStatusCode.OK);
        Assert.Equal("approved", approved.Str("status"));

        var illegal = (await m.Client.Post($"/api/v1/returns/{id}/reject", new { reason = "too late" })).Expect(HttpStatusCode.Conflict);
        Assert.Equal("illegal_transition", illegal.Str("code"));
        Assert.Equal(["awaiting_shipment", "received", "resolved", "cancelled"], illegal["allowed_next_states"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.Contains("Allowed next states: awaiting_shipment, received, resolved, cancelled", illegal.Str("detail"));

        (await m.Client.Post($"/api/v1/returns/{id}/cancel", new { reason = "Shopper kept it" })).Expect(HttpStatusCode.OK);
        var final = (await m.Client.Post($"/api/v1/returns/{id}/approve", new { })).Expect(HttpStatusCode.Conflict);
        Assert.Contains("is final", final.Str("detail"));

        var timeline = (await m.Client.Get($"/api/v1/returns/{id}")).Expect(HttpStatusCode.OK)["timeline"]!.AsArray();
        Assert.Equal(["created", "status_changed", "status_changed", "transition_refused", "status_changed", "transition_refused"],
            timeline.Select(e => e!.Str("action")));
        Assert.Equal("Loyal customer", timeline[2]!.Str("reason"));
    }

    [Fact]
    public async Task RejectAndCancel_NeedAReason()
    {
        var m = await MerchantWithOrder();
        var r = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001", "L3"))).Expect(HttpStatusCode.Created);
        var problem = (await m.Client.Post($"/api/v1/returns/{r.Str("id")}/reject", new { })).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("reason", problem["errors"]!.AsObject().Select(kv => kv.Key));
        (await m.Client.Post($"/api/v1/returns/{r.Str("id")}/reject", new { reason = "Worn" })).Expect(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Transitions_AreAnnouncedThroughTheOutbox_InTheSameTransaction()
    {
        var m = await MerchantWithOrder();
        var r = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001", "L3"))).Expect(HttpStatusCode.Created);
        (await m.Client.Post($"/api/v1/returns/{r.Str("id")}/reject", new { reason = "Worn" })).Expect(HttpStatusCode.OK);
        var types = await app.WithDb(m.Id, db => db.OutboxMessages.Where(x => x.MerchantId == m.Id && x.Type.StartsWith("return."))
            .OrderBy(x => x.CreatedAt).ThenBy(x => x.Id).Select(x => x.Type).ToListAsync());
        Assert.Equal(["return.requested", "return.pending_review", "return.rejected"], types);
    }

    [Fact]
    public async Task ListReturns_FiltersByStatus_AndPages()
    {
        var m = await MerchantWithOrder();
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("1002"))).Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("1003"))).Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001", "L3"))).Expect(HttpStatusCode.Created); // pending_review
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1002"))).Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1003"))).Expect(HttpStatusCode.Created);

        var approved = (await m.Client.Get("/api/v1/returns?status=approved")).Expect(HttpStatusCode.OK)["data"]!.AsArray();
        Assert.Equal(["1003", "1002"], approved.Select(r => r!.Str("order_number")));
        var both = (await m.Client.Get("/api/v1/returns?status=approved,pending_review&limit=2")).Expect(HttpStatusCode.OK);
        Assert.Equal(2, both["data"]!.AsArray().Count);
        var rest = (await m.Client.Get($"/api/v1/returns?status=approved,pending_review&limit=2&cursor={both.Str("next_cursor")}")).Expect(HttpStatusCode.OK);
        Assert.Equal("1001", rest.Str("data.0.order_number"));
        Assert.False(rest["has_more"]!.GetValue<bool>());

        var bad = (await m.Client.Get("/api/v1/returns?status=lost&limit=abc&updated_since=soon")).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Superset(new HashSet<string> { "status", "limit", "updated_since" }, bad["errors"]!.AsObject().Select(kv => kv.Key).ToHashSet());
        (await m.Client.Get("/api/v1/returns?cursor=garbage")).Expect(HttpStatusCode.UnprocessableEntity);
        (await m.Client.Get("/api/v1/orders?limit=0")).Expect(HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task ListReturns_UpdatedSince_IsOldestChangeFirst_ForSyncing()
    {
        var m = await MerchantWithOrder();
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("1002"))).Expect(HttpStatusCode.Created);
        var first = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001"))).Expect(HttpStatusCode.Created);
        var second = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1002"))).Expect(HttpStatusCode.Created);
        (await m.Client.Post($"/api/v1/returns/{first.Str("id")}/cancel", new { reason = "no longer needed" })).Expect(HttpStatusCode.OK);
        var page = (await m.Client.Get($"/api/v1/returns?updated_since={Uri.EscapeDataString(second.Str("updated_at"))}")).Expect(HttpStatusCode.OK);
        Assert.Equal(["1002", "1001"], page["data"]!.AsArray().Select(r => r!.Str("order_number")));

        // A cursor of this ascending list is refused by the descending one.
        var one = (await m.Client.Get($"/api/v1/returns?limit=1&updated_since={Uri.EscapeDataString(second.Str("updated_at"))}")).Expect(HttpStatusCode.OK);
        (await m.Client.Get($"/api/v1/returns?cursor={one.Str("next_cursor")}")).Expect(HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task AllowExceptions_NeedsTheOverrideScope_AndGoesToReview()
    {
        var m = await MerchantWithOrder();
        var body = new { order_number = "1001", lines = new[] { new { order_line_id = "L2", quantity = 1, reason = "changed_mind" } }, resolution = "refund", method = "drop_off", allow_exceptions = true };
        var r = (await m.Client.Post("/api/v1/returns", body)).Expect(HttpStatusCode.Created);
        Assert.Equal("pending_review", r.Str("status"));
        Assert.Contains("policy_exception", r["flags"]!.AsArray().Select(f => f!.GetValue<string>()));

        var limitedKey = await app.WithDb(m.Id, async db =>
        {
            var secret = Retour.Features.Tenancy.ApiKey.NewSecret();
            db.ApiKeys.Add(new Retour.Features.Tenancy.ApiKey { Name = "agent", Prefix = "x", Hash = Retour.Features.Tenancy.ApiKey.HashOf(secret), Scopes = "returns:write returns:read", CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
            return secret;
        });
        (await app.Client(limitedKey).Post("/api/v1/returns", body)).Expect(HttpStatusCode.Forbidden);
    }

    private Task<(int, int, int)> Counts(TestMerchant m) => app.WithDb(m.Id, async db =>
        (await db.Returns.CountAsync(), await db.AuditEvents.CountAsync(e => e.EntityType == "return"), await db.OutboxMessages.CountAsync(x => x.MerchantId == m.Id)));
}
