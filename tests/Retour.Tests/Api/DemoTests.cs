using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Retour.Features.Demo;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

public sealed class DemoApp() : RetourApp(null, new Dictionary<string, string?>
{
    ["RETOUR_SEED_DEMO"] = "true",
    ["RETOUR_DEMO_API_KEY"] = DemoTests.Key,
    ["RETOUR_DEMO_SHOPIFY_SECRET"] = "demo-shopify-secret",
});

public sealed class DemoTests(DemoApp app) : IClassFixture<DemoApp>
{
    public const string Key = "rtr_demo_key_for_scripts_0123456789";

    [Fact]
    public async Task DemoMerchant_IsSeeded_WithTheFixedKey()
    {
        var c = app.Client(Key);
        var orders = (await c.Get("/api/v1/orders?limit=200")).Expect(HttpStatusCode.OK);
        Assert.True(orders["has_more"]!.GetValue<bool>());
        var demo = await app.WithDb(await DemoId(), async db => new
        {
            Orders = await db.Orders.CountAsync(),
            Delivered = await db.Orders.CountAsync(o => o.DeliveredAt != null),
            Categories = await db.Products.Select(p => p.Category).Distinct().ToListAsync(),
            FinalSale = await db.Products.CountAsync(p => p.FinalSale),
            Sized = await db.Products.CountAsync(p => p.Category == "apparel" && p.VariantJson!.Contains("size") && p.VariantJson.Contains("color")),
            Carriers = await db.Carriers.CountAsync(),
            Returns = await db.Returns.CountAsync(),
            Oldest = await db.Orders.MinAsync(o => o.PlacedAt),
        });
        Assert.True(demo.Orders >= 200);
        Assert.InRange(demo.Delivered, 150, demo.Orders - 1);
        Assert.Superset(new HashSet<string> { "apparel", "footwear", "electronics", "home", "beauty" }, demo.Categories.ToHashSet());
        Assert.True(demo.FinalSale > 0 && demo.Sized > 10);
        Assert.Equal(3, demo.Carriers);
        Assert.True(demo.Returns > 5);
        Assert.InRange((DateTimeOffset.UtcNow - demo.Oldest).TotalDays, 110, 121);
        (await c.Get("/api/v1/policy")).Expect(HttpStatusCode.OK);
        var returnability = (await c.Get($"/api/v1/orders/D{1000 + DemoSeeder.OrderCount - 20}/returnability")).Expect(HttpStatusCode.OK);
        Assert.NotEmpty(returnability["lines"]!.AsArray());
    }

    [Fact]
    public async Task TheDemoWarehouse_HasReceivedAndInspectedParcels_AndTheirRefundsGoOutThroughTheSandbox()
    {
        var c = app.Client(Key);
        var id = await DemoId();
        var seeded = await app.WithDb(id, async db => new
        {
            Received = await db.Returns.CountAsync(r => r.ReceivedAt != null),
            Inspected = await db.Returns.Where(r => r.ReceivedAt != null).CountAsync(r => db.Inspections.Any(i => i.ReturnId == r.Id)),
            Proposals = await db.UnitDispositions.CountAsync(),
            ToVendor = await db.UnitDispositions.CountAsync(d => d.Proposed == Retour.Core.Warehouse.Disposition.ReturnToVendor),
        });
        Assert.True(seeded.Received >= 4, $"{seeded.Received} parcels received");
        Assert.InRange(seeded.Inspected, 1, seeded.Received - 1); // some still wait at the inspection bench
        Assert.True(seeded.Proposals >= seeded.Inspected);
        Assert.True(seeded.ToVendor > 0, "a defective unit goes back to its supplier");
        var rules = (await c.Get("/api/v1/warehouse/rules")).Expect(HttpStatusCode.OK);
        Assert.Contains(rules["suppliers"]!.AsArray(), s => s!.Str("code") == "nordic_textiles");

        // The inspected returns' refunds are issued live by the worker through the sandbox provider.
        for (var i = 0; i < 200; i++)
        {
            var issued = (await c.Get("/api/v1/refunds?status=issued&limit=100")).Expect(HttpStatusCode.OK)["data"]!.AsArray().Count;
            if (issued >= seeded.Inspected) break;
            await Task.Delay(100);
        }
        var refunds = (await c.Get("/api/v1/refunds?status=issued&limit=100")).Expect(HttpStatusCode.OK)["data"]!.AsArray();
        Assert.True(refunds.Count >= seeded.Inspected, $"{refunds.Count} refunds issued for {seeded.Inspected} inspected returns");
        var ledger = (await c.Get("/api/v1/sandbox/payments?limit=100")).Expect(HttpStatusCode.OK)["data"]!.AsArray();
        // Every refund to the original payment with money in it was paid once by the provider (fees can take a refund to zero: no call).
        var paidOut = refunds.Where(r => r!.Str("method") == "original_payment" && r.Str("amount").Any(ch => ch is >= '1' and <= '9')).ToList();
        Assert.NotEmpty(paidOut); // an empty list would pass the next line without checking anything
        Assert.All(paidOut, r => Assert.Contains(ledger, p => p!.Str("idempotency_key") == r!.Str("provider_key")));
    }

    [Fact]
    public async Task SeedingAgain_ChangesNothing()
    {
        var id = await DemoId();
        async Task<(int, int, int, int, int)> Counts() => await app.WithDb(id, async db => (await db.Orders.CountAsync(), await db.Returns.CountAsync(),
            await db.Products.CountAsync(), await db.Carriers.CountAsync(), await db.ApiKeys.CountAsync(k => k.RevokedAt == null)));
        var before = await Counts();
        var keys = await app.Services.GetRequiredService<DemoSeeder>().EnsureAsync(CancellationToken.None);
        Assert.False(keys.Created);
        Assert.Equal(Key, keys.ApiKey);
        Assert.Equal(before, await Counts());
    }

    private async Task<Guid> DemoId() => (await app.Services.GetRequiredService<Retour.Features.Tenancy.MerchantDirectory>().FindBySlugAsync("demo", CancellationToken.None))!.Id;
}
