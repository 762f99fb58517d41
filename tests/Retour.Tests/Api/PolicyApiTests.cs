using System.Net;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Policies;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

public sealed class PolicyApiTests(RetourApp app) : IClassFixture<RetourApp>
{
    [Fact]
    public async Task GetPolicy_ReturnsTheCurrentVersion()
    {
        var m = await app.NewMerchantAsync();
        var p = (await m.Client.Get("/api/v1/policy")).Expect(HttpStatusCode.OK);
        Assert.Equal(1, p["version"]!.GetValue<int>());
        Assert.Equal("all_orders", p.Str("applies_to"));
        Assert.Equal(30, p["policy"]!["window_days"]!.GetValue<int>());
        Assert.Equal("after_inspection", p.Str("policy.refund_moment"));
        Assert.Equal("10", p.Str("policy.store_credit_bonus_percent"));
    }

    [Fact]
    public async Task PutPolicy_MakesANewVersion_ReturnsInFlightKeepTheirs_NewOrdersGetTheNewOne()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("OLD"))).Expect(HttpStatusCode.Created);
        var before = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("OLD"))).Expect(HttpStatusCode.Created);

        var doc = (await m.Client.Get("/api/v1/policy")).Expect(HttpStatusCode.OK);
        doc["policy"]!["return_shipping_fee"] = "6.00";
        Assert.Equal("all_orders", doc.Str("applies_to")); // version 1 judges all orders; echoing that must not carry over
        var v2 = (await m.Client.Put("/api/v1/policy", doc)).Expect(HttpStatusCode.OK);
        Assert.Equal(2, v2["version"]!.GetValue<int>());
        Assert.Equal("new_orders", v2.Str("applies_to"));

        Assert.Equal(1, (await m.Client.Get($"/api/v1/returns/{before.Str("id")}")).Expect(HttpStatusCode.OK)["policy_version"]!.GetValue<int>());
        // OLD was placed before version 2: still judged by version 1 (no fee).
        var again = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("OLD"))).Expect(HttpStatusCode.Created);
        Assert.Equal(1, again["policy_version"]!.GetValue<int>());
        Assert.Equal("0.00", again.Str("refund_estimate.return_shipping_fee"));
        // An order placed now is judged by version 2.
        (await m.Client.Post("/api/v1/orders", Orders.Order("NEW", DateTimeOffset.UtcNow.AddMinutes(1), DateTimeOffset.UtcNow.AddMinutes(2)))).Expect(HttpStatusCode.Created);
        var fresh = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("NEW"))).Expect(HttpStatusCode.Created);
        Assert.Equal(2, fresh["policy_version"]!.GetValue<int>());
        Assert.Equal("6.00", fresh.Str("refund_estimate.return_shipping_fee"));
    }

    [Fact]
    public async Task PutPolicy_ForAllOrders_JudgesEarlierOrdersToo()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("OLD"))).Expect(HttpStatusCode.Created);
        var doc = (await m.Client.Get("/api/v1/policy")).Expect(HttpStatusCode.OK);
        doc["policy"]!["return_shipping_fee"] = "2.50";
        doc["apply_to"] = "all_orders";
        (await m.Client.Put("/api/v1/policy", doc)).Expect(HttpStatusCode.OK);
        var r = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("OLD"))).Expect(HttpStatusCode.Created);
        Assert.Equal(2, r["policy_version"]!.GetValue<int>());
        Assert.Equal("2.50", r.Str("refund_estimate.return_shipping_fee"));
    }

    [Fact]
    public async Task PutPolicy_UnknownField_Gets400_NamingIt()
    {
        var m = await app.NewMerchantAsync();
        var problem = (await m.Client.Put("/api/v1/policy", """{"policy":{"window_dayz":10}}""")).Expect(HttpStatusCode.BadRequest);
        Assert.Contains("window_dayz", problem.Str("detail"));
        Assert.Equal(1, await app.WithDb(m.Id, db => db.PolicyVersions.CountAsync()));
    }

    [Fact]
    public async Task PutPolicy_BadValues_Get422_WithFieldPaths()
    {
        var m = await app.NewMerchantAsync();
        var problem = (await m.Client.Put("/api/v1/policy", """{"policy":{"window_days":-3,"restocking_fee":{"type":"percent","value":"140"},"seasonal_extensions":[{"name":"x","placed_from":"11-31","placed_to":"12-24","returnable_until":"01-31"}]}}"""))
            .Expect(HttpStatusCode.UnprocessableEntity);
        var fields = problem["errors"]!.AsObject().Select(kv => kv.Key).ToHashSet();
        Assert.Superset(new HashSet<string> { "policy.window_days", "policy.restocking_fee.value", "policy.seasonal_extensions[0].placed_from" }, fields);
        var scope = (await m.Client.Put("/api/v1/policy", """{"policy":{},"apply_to":"everything"}""")).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("apply_to", scope["errors"]!.AsObject().Select(kv => kv.Key));
        var bad = (await m.Client.Put("/api/v1/policy", """{"policy":{"methods":["teleport"]}}""")).Expect(HttpStatusCode.BadRequest);
        Assert.Contains("pickup, drop_off, in_store, keep", bad.Str("detail"));
    }

    [Fact]
    public async Task PublicPolicyPage_RendersThePolicy()
    {
        var m = await app.NewMerchantAsync();
        var res = await app.Client(null).GetAsync($"/r/{m.Slug}/policy");
        Assert.Equal(HttpStatusCode.OK, res.StatusCode);
        Assert.Equal("text/html", res.Content.Headers.ContentType!.MediaType);
        var html = await res.Content.ReadAsStringAsync();
        Assert.Contains("within 30 days of delivery", html);
        Assert.Contains("Test shop", html);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client(null).GetAsync("/r/no-such-shop/policy")).StatusCode);
    }

    [Fact]
    public void PolicyDocument_RoundTrips_ThroughItsJson()
    {
        var json = Retour.Infrastructure.Http.Json.Serialize(Retour.Features.Demo.DemoCatalogue.Policy);
        var back = System.Text.Json.JsonSerializer.Deserialize<Retour.Core.Policies.ReturnPolicy>(json, PolicyBook.StrictJson)!;
        Assert.Equal(json, Retour.Infrastructure.Http.Json.Serialize(back));
    }
}
