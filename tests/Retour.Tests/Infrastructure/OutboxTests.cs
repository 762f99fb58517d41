using System.Collections.Concurrent;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Outbox;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Infrastructure;

/// <summary>A handler at the edge that records what the relay hands it; it can be told to fail.</summary>
public sealed class RecordingHandler : IOutboxHandler
{
    public ConcurrentQueue<OutboxMessage> Seen { get; } = new();
    public int FailuresLeft;
    public string Name => "test.recorder";
    public IReadOnlyCollection<string> Types { get; } = ["return.requested", "return.approved", "return.pending_review", "return.rejected", "return.cancelled"];

    public Task HandleAsync(OutboxMessage message, RetourDb db, IServiceProvider services, CancellationToken ct)
    {
        if (Interlocked.Decrement(ref FailuresLeft) >= 0) throw new InvalidOperationException("receiver is down");
        Seen.Enqueue(message);
        return Task.CompletedTask;
    }

    public async Task WaitFor(Func<RecordingHandler, bool> done, int seconds = 20)
    {
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (!done(this))
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"Handler saw only: {string.Join(", ", Seen.Select(m => m.Type))}");
            await Task.Delay(50);
        }
    }
}

public sealed class OutboxTests
{
    private static RetourApp App(RecordingHandler handler, string? connection = null, bool relay = true) =>
        new ConfiguredRetourApp(connection, new Dictionary<string, string?> { ["RETOUR_OUTBOX_RELAY"] = relay ? "true" : "false" },
            s => s.AddSingleton<IOutboxHandler>(handler));

    [Fact]
    public async Task Relay_DeliversEveryEvent_ToItsHandler()
    {
        var handler = new RecordingHandler();
        await using var app = App(handler);
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("1"))).Expect(HttpStatusCode.Created);
        var r = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1"))).Expect(HttpStatusCode.Created);
        await handler.WaitFor(h => h.Seen.Count >= 2);
        Assert.Equal(["return.requested", "return.approved"], handler.Seen.Select(x => x.Type));
        Assert.Contains(r.Str("rma"), handler.Seen.First().Payload);
        Assert.All(handler.Seen, x => Assert.Equal(m.Id, x.MerchantId));
        await Wait.UntilAsync(() => app.WithDb(m.Id, db => db.OutboxMessages.AllAsync(x => x.MerchantId != m.Id || x.ProcessedAt != null)));
    }

    [Fact]
    public async Task FailingHandler_IsRetriedWithBackoff_UntilItSucceeds()
    {
        var handler = new RecordingHandler { FailuresLeft = 1 };
        await using var app = App(handler);
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("1"))).Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1"))).Expect(HttpStatusCode.Created);
        await handler.WaitFor(h => h.Seen.Count >= 2);
        var attempts = await app.WithDb(m.Id, db => db.OutboxMessages.Where(x => x.Type.StartsWith("return.") && x.MerchantId == m.Id)
            .Select(x => x.Attempts).ToListAsync());
        Assert.Equal([1, 2], attempts.Order());
        Assert.Equal(TimeSpan.FromSeconds(1), OutboxRelay.Backoff(1));
        Assert.Equal(TimeSpan.FromHours(1), OutboxRelay.Backoff(40));
    }

    [Fact]
    public async Task UndeliveredMessages_SurviveARestart()
    {
        var connection = TestDb.NewDatabase("outbox");
        Guid merchant;
        await using (var stopped = App(new RecordingHandler(), connection, relay: false))
        {
            var m = await stopped.NewMerchantAsync();
            merchant = m.Id;
            (await m.Client.Post("/api/v1/orders", Orders.Delivered("1"))).Expect(HttpStatusCode.Created);
            (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1"))).Expect(HttpStatusCode.Created);
            Assert.Equal(2, await stopped.WithDb(m.Id, db => db.OutboxMessages.CountAsync(x => x.Type.StartsWith("return.") && x.ProcessedAt == null)));
        }
        var handler = new RecordingHandler();
        await using var restarted = App(handler, connection);
        _ = restarted.Services; // start the host: its relay picks the messages up
        await handler.WaitFor(h => h.Seen.Count >= 2);
        Assert.Equal(["return.requested", "return.approved"], handler.Seen.Select(x => x.Type));
        Assert.All(handler.Seen, x => Assert.Equal(merchant, x.MerchantId));
    }

    [Fact]
    public async Task RedeliveredMessage_IsNotHandledTwice()
    {
        var handler = new RecordingHandler();
        await using var app = App(handler);
        var m = await app.NewMerchantAsync();
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("1"))).Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("1"))).Expect(HttpStatusCode.Created);
        await handler.WaitFor(h => h.Seen.Count >= 2);
        await Wait.UntilAsync(() => app.WithDb(m.Id, db => db.OutboxMessages.AllAsync(x => x.MerchantId != m.Id || x.ProcessedAt != null)));
        // As if a relay died after the handler ran but before marking the message done.
        await app.WithDb(m.Id, db => db.OutboxMessages.Where(x => x.MerchantId == m.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.ProcessedAt, (DateTimeOffset?)null).SetProperty(x => x.AvailableAt, DateTimeOffset.UtcNow.AddSeconds(-1))));
        await Wait.UntilAsync(() => app.WithDb(m.Id, db => db.OutboxMessages.AllAsync(x => x.MerchantId != m.Id || x.ProcessedAt != null)));
        Assert.Equal(2, handler.Seen.Count);
        var attempts = await app.WithDb(m.Id, db => db.OutboxMessages.Where(x => x.MerchantId == m.Id && x.Type.StartsWith("return.")).Select(x => x.Attempts).ToListAsync());
        Assert.Equal([2, 2], attempts);
    }

}
