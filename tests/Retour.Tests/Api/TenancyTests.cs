using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Retour.Features.Orders;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

/// <summary>A merchant's key never sees or changes another merchant's data: every endpoint answers 404 or leaves it out.</summary>
public sealed class TenancyTests(RetourApp app) : IClassFixture<RetourApp>
{
    private async Task<(TestMerchant A, TestMerchant B, string BReturnId, string BRma)> TwoMerchants()
    {
        var a = await app.NewMerchantAsync();
        var b = await app.NewMerchantAsync();
        (await a.Client.Post("/api/v1/orders", Orders.Delivered("A-1"))).Expect(HttpStatusCode.Created);
        (await b.Client.Post("/api/v1/orders", Orders.Delivered("B-1"))).Expect(HttpStatusCode.Created);
        var r = (await b.Client.Post("/api/v1/returns", Orders.ReturnOf("B-1"))).Expect(HttpStatusCode.Created);
        return (a, b, r.Str("id"), r.Str("rma"));
    }

    [Fact]
    public async Task ReadsOfAnotherMerchantsResources_Get404()
    {
        var (a, _, id, rma) = await TwoMerchants();
        (await a.Client.Get("/api/v1/orders/B-1")).Expect(HttpStatusCode.NotFound);
        (await a.Client.Get("/api/v1/orders/B-1/returnability")).Expect(HttpStatusCode.NotFound);
        (await a.Client.Get($"/api/v1/returns/{id}")).Expect(HttpStatusCode.NotFound);
        (await a.Client.Get($"/api/v1/returns/{rma}")).Expect(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task WritesToAnotherMerchantsResources_Get404_AndChangeNothing()
    {
        var (a, b, id, _) = await TwoMerchants();
        (await a.Client.Post("/api/v1/returns", Orders.ReturnOf("B-1"))).Expect(HttpStatusCode.NotFound);
        foreach (var action in new[] { "approve", "reject", "cancel" })
            (await a.Client.Post($"/api/v1/returns/{id}/{action}", new { reason = "not mine" })).Expect(HttpStatusCode.NotFound);
        var mine = (await b.Client.Get($"/api/v1/returns/{id}")).Expect(HttpStatusCode.OK);
        Assert.Equal("approved", mine.Str("status"));
        Assert.Equal(2, mine["timeline"]!.AsArray().Count);
    }

    [Fact]
    public async Task SameOrderNumber_InTwoMerchants_AreTwoOrders()
    {
        var (a, b, _, _) = await TwoMerchants();
        (await a.Client.Post("/api/v1/orders", Orders.Delivered("B-1", Orders.Line("L1", "OTHER", 99m)))).Expect(HttpStatusCode.Created);
        Assert.Equal("OTHER", (await a.Client.Get("/api/v1/orders/B-1")).Expect(HttpStatusCode.OK).Str("lines.0.sku"));
        Assert.Equal("TEE-M", (await b.Client.Get("/api/v1/orders/B-1")).Expect(HttpStatusCode.OK).Str("lines.0.sku"));
    }

    [Fact]
    public async Task Lists_ShowOnlyTheMerchantsOwnRows()
    {
        var (a, _, _, _) = await TwoMerchants();
        var orders = (await a.Client.Get("/api/v1/orders")).Expect(HttpStatusCode.OK)["data"]!.AsArray();
        Assert.Equal(["A-1"], orders.Select(o => o!.Str("number")));
        Assert.Empty((await a.Client.Get("/api/v1/returns")).Expect(HttpStatusCode.OK)["data"]!.AsArray());
        Assert.Empty((await a.Client.Get("/api/v1/products")).Expect(HttpStatusCode.OK)["data"]!.AsArray());
        Assert.Empty((await a.Client.Get("/api/v1/carriers")).Expect(HttpStatusCode.OK).AsArray());
    }

    [Fact]
    public async Task Policy_IsPerMerchant()
    {
        var (a, b, _, _) = await TwoMerchants();
        var policy = (await a.Client.Get("/api/v1/policy")).Expect(HttpStatusCode.OK);
        policy["policy"]!["window_days"] = 99;
        (await a.Client.Put("/api/v1/policy", policy)).Expect(HttpStatusCode.OK);
        Assert.Equal(99, (await a.Client.Get("/api/v1/policy")).Expect(HttpStatusCode.OK)["policy"]!["window_days"]!.GetValue<int>());
        var theirs = (await b.Client.Get("/api/v1/policy")).Expect(HttpStatusCode.OK);
        Assert.Equal(1, theirs["version"]!.GetValue<int>());
        Assert.Equal(30, theirs["policy"]!["window_days"]!.GetValue<int>());
    }

    [Fact]
    public async Task Products_ArePerMerchant()
    {
        var (a, b, _, _) = await TwoMerchants();
        (await a.Client.Put("/api/v1/products/SKU-1", new { title = "A's", price = "1.00", category = "apparel" })).Expect(HttpStatusCode.OK);
        (await b.Client.Put("/api/v1/products/SKU-1", new { title = "B's", price = "2.00", category = "home" })).Expect(HttpStatusCode.OK);
        Assert.Equal("A's", (await a.Client.Get("/api/v1/products")).Expect(HttpStatusCode.OK).Str("data.0.title"));
    }

    [Fact]
    public async Task MissingOrWrongOrRevokedKeys_Get401()
    {
        var (a, _, _, _) = await TwoMerchants();
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Client(null).Get("/api/v1/orders")).Status);
        var wrong = (await app.Client("rtr_not_a_key_at_all_000000000000").Get("/api/v1/orders")).Expect(HttpStatusCode.Unauthorized);
        Assert.Equal("unauthorized", wrong.Str("code"));
        await app.WithDb(a.Id, async db =>
        {
            var hash = ApiKey.HashOf(a.ApiKey);
            return await db.ApiKeys.Where(k => k.Hash == hash).ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, DateTimeOffset.UtcNow));
        });
        app.Services.GetRequiredService<Retour.Infrastructure.Auth.ApiKeyCache>().Forget(ApiKey.HashOf(a.ApiKey));
        Assert.Equal(HttpStatusCode.Unauthorized, (await a.Client.Get("/api/v1/orders")).Status);
    }

    [Fact]
    public async Task KeysWithoutTheScope_Get403()
    {
        var (a, _, _, _) = await TwoMerchants();
        var readOnly = await app.WithDb(a.Id, async db =>
        {
            var secret = ApiKey.NewSecret();
            db.ApiKeys.Add(new ApiKey { Name = "reader", Prefix = "r", Hash = ApiKey.HashOf(secret), Scopes = "orders:read returns:read", CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
            return secret;
        });
        var c = app.Client(readOnly);
        (await c.Get("/api/v1/orders/A-1")).Expect(HttpStatusCode.OK);
        Assert.Equal("forbidden", (await c.Post("/api/v1/orders", Orders.Delivered("A-2"))).Expect(HttpStatusCode.Forbidden).Str("code"));
        (await c.Post("/api/v1/returns", Orders.ReturnOf("A-1"))).Expect(HttpStatusCode.Forbidden);
        (await c.Get("/api/v1/policy")).Expect(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task TheDbContext_RefusesToWriteAnotherMerchantsRow()
    {
        var (a, b, _, _) = await TwoMerchants();
        await using var scope = app.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(a.Id);
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        db.Orders.Add(new Order { MerchantId = b.Id, Number = "SNEAKY", Currency = "EUR" });
        await Assert.ThrowsAsync<CrossTenantWriteException>(() => db.SaveChangesAsync());
    }

    [Fact]
    public async Task WithoutATenant_TenantRowsAreInvisible()
    {
        await TwoMerchants();
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        Assert.Equal(0, await db.Orders.CountAsync());
        Assert.Equal(0, await db.Returns.CountAsync());
    }
}
