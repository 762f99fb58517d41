using System.Net;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Returns;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

/// <summary>Returnable quantities hold when many requests race for the same line (on PostgreSQL when the suite runs there).</summary>
public sealed class ConcurrencyTests(RetourApp app) : IClassFixture<RetourApp>
{
    [Fact]
    public async Task ParallelReturnsForOneLine_NeverReturnMoreThanWasDelivered()
    {
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("RACE", Orders.Line("L1", "TEE", 10m, 5)))).Expect(HttpStatusCode.Created);

        var results = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => Task.Run(() => m.Client.Post("/api/v1/returns", Orders.ReturnOf("RACE", qty: 1)))));

        Assert.Equal(5, results.Count(r => r.Status == HttpStatusCode.Created));
        Assert.All(results.Where(r => r.Status != HttpStatusCode.Created),
            r => Assert.True(r.Status is HttpStatusCode.UnprocessableEntity or HttpStatusCode.Conflict, $"{r.Status}: {r.Body?.ToJsonString()}"));
        var releasing = Lifecycle.ReleasingStates.ToList();
        var stored = await app.WithDb(m.Id, db => db.ReturnLines
            .Join(db.Returns, l => l.ReturnId, r => r.Id, (l, r) => new { l.Quantity, r.Status })
            .Where(x => !releasing.Contains(x.Status)).SumAsync(x => x.Quantity));
        Assert.Equal(5, stored);
        var counter = await app.WithDb(m.Id, db => db.OrderLines.Where(l => l.LineRef == "L1").Select(l => l.ReturnedQuantity).SingleAsync());
        Assert.Equal(5, counter);
    }

    [Fact]
    public async Task ParallelApprovals_OfOneReturn_ApproveItOnce()
    {
        var m = await app.NewMerchantAsync(Retour.Core.Policies.ReturnPolicy.Default with { AutoApproval = new() { Enabled = false } });
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("APPROVE"))).Expect(HttpStatusCode.Created);
        var r = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("APPROVE"))).Expect(HttpStatusCode.Created);
        Assert.Equal("pending_review", r.Str("status"));
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => m.Client.Post($"/api/v1/returns/{r.Str("id")}/approve", new { reason = "ok" }))));
        Assert.Equal(1, results.Count(x => x.Status == HttpStatusCode.OK));
        Assert.All(results.Where(x => x.Status != HttpStatusCode.OK), x => Assert.Equal(HttpStatusCode.Conflict, x.Status));
        var approvals = await app.WithDb(m.Id, db => db.OutboxMessages.CountAsync(x => x.MerchantId == m.Id && x.Type == "return.approved"));
        Assert.Equal(1, approvals);
    }

    /// <summary>
    /// A unique index that settles a race is expected, so it is not logged as an error (EF Core would, with the SQL). The
    /// code that catches it decides; here the test does, as the refund claim and the idempotency store do.
    /// </summary>
    [Fact]
    public async Task AUniqueIndexSettlingARace_IsNotLoggedAsAnError()
    {
        var m = await app.NewMerchantAsync();
        Retour.Infrastructure.Http.IdempotencyRecord Record() => new()
        {
            MerchantId = m.Id, Key = "race-" + m.Slug, RequestHash = new string('0', 64), StatusCode = 201, ResponseBody = "{}", CreatedAt = DateTimeOffset.UtcNow,
        };
        await app.WithDb(m.Id, async db => { db.IdempotencyRecords.Add(Record()); return await db.SaveChangesAsync(); });
        var lost = await Assert.ThrowsAsync<DbUpdateException>(() => app.WithDb(m.Id, async db => { db.IdempotencyRecords.Add(Record()); return await db.SaveChangesAsync(); }));
        Assert.True(Retour.Infrastructure.Db.DbErrors.IsUniqueViolation(lost, "idempotency_records"), lost.GetBaseException().Message);
        Assert.DoesNotContain(app.Errors, e => e.Contains("idempotency_records", StringComparison.Ordinal));
    }
}
