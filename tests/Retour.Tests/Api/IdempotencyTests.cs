using System.Net;
using Microsoft.EntityFrameworkCore;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

public sealed class IdempotencyTests(RetourApp app) : IClassFixture<RetourApp>
{
    private async Task<TestMerchant> Setup()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("1001", Orders.Line("L1", "TEE", 20m, 5)))).Expect(HttpStatusCode.Created);
        return m;
    }

    [Fact]
    public async Task SameKeySameBody_ReturnsTheFirstResponse_AndCreatesOneReturn()
    {
        var m = await Setup();
        var first = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001"), idempotencyKey: "k-1")).Expect(HttpStatusCode.Created);
        var second = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001"), idempotencyKey: "k-1")).Expect(HttpStatusCode.Created);
        Assert.Equal(first.ToJsonString(), second.ToJsonString());
        Assert.Equal(1, await app.WithDb(m.Id, db => db.Returns.CountAsync()));
    }

    [Fact]
    public async Task Replay_IsMarked_AndKeepsTheLocation()
    {
        var m = await Setup();
        await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001"), idempotencyKey: "k-loc");
        using var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/returns") { Content = System.Net.Http.Json.JsonContent.Create(Orders.ReturnOf("1001")) };
        req.Headers.Add("Idempotency-Key", "k-loc");
        var res = await m.Client.SendAsync(req);
        Assert.Equal("true", res.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.StartsWith("/api/v1/returns/", res.Headers.Location!.ToString());
    }

    [Fact]
    public async Task SameKeyDifferentBody_Gets422()
    {
        var m = await Setup();
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001", qty: 1), idempotencyKey: "k-2")).Expect(HttpStatusCode.Created);
        var problem = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001", qty: 2), idempotencyKey: "k-2")).Expect(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("idempotency_key_reused", problem.Str("code"));
        Assert.Equal(1, await app.WithDb(m.Id, db => db.Returns.CountAsync()));
    }

    [Fact]
    public async Task KeysAreScopedPerMerchant()
    {
        var a = await Setup();
        var b = await Setup();
        (await a.Client.Post("/api/v1/returns", Orders.ReturnOf("1001"), idempotencyKey: "shared")).Expect(HttpStatusCode.Created);
        (await b.Client.Post("/api/v1/returns", Orders.ReturnOf("1001", qty: 2), idempotencyKey: "shared")).Expect(HttpStatusCode.Created);
    }

    [Fact]
    public async Task RefusedRequest_IsNotRemembered_SoItCanBeRetriedWhenFixed()
    {
        var m = await Setup();
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001", reason: "nope"), idempotencyKey: "k-3")).Expect(HttpStatusCode.UnprocessableEntity);
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001"), idempotencyKey: "k-3")).Expect(HttpStatusCode.Created);
    }

    [Fact]
    public async Task ConcurrentRequestsWithOneKey_CreateOneReturn_AndAllGetTheSameAnswer()
    {
        var m = await Setup();
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001"), idempotencyKey: "k-race")));
        Assert.All(results, r => Assert.Equal(HttpStatusCode.Created, r.Status));
        Assert.Single(results.Select(r => r.Body!.Str("id")).Distinct());
        Assert.Equal(1, await app.WithDb(m.Id, db => db.Returns.CountAsync()));
    }

    [Fact]
    public async Task OtherPosts_HonourTheKeyToo()
    {
        var m = await Setup();
        var r = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1001"))).Expect(HttpStatusCode.Created);
        var first = (await m.Client.Post($"/api/v1/returns/{r.Str("id")}/cancel", new { reason = "x" }, idempotencyKey: "c-1")).Expect(HttpStatusCode.OK);
        var again = (await m.Client.Post($"/api/v1/returns/{r.Str("id")}/cancel", new { reason = "x" }, idempotencyKey: "c-1")).Expect(HttpStatusCode.OK);
        Assert.Equal(first.ToJsonString(), again.ToJsonString());
        var body = Orders.Delivered("O-9");
        var order1 = (await m.Client.Post("/api/v1/orders", body, idempotencyKey: "o-1")).Expect(HttpStatusCode.Created);
        var order2 = (await m.Client.Post("/api/v1/orders", body, idempotencyKey: "o-1")).Expect(HttpStatusCode.Created);
        Assert.Equal(order1.Str("id"), order2.Str("id"));
    }
}
