using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Outbox;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Infrastructure;

/// <summary>Scaled mode's messaging through a real RabbitMQ: publishing, competing workers, backoff, dead letters, a stopping worker.</summary>
public sealed class BrokerTests
{
    private static ConfiguredRetourApp App(IOutboxHandler handler, string queue, string? connection = null, bool consume = true,
        Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?> { ["RETOUR_RABBITMQ_URL"] = RabbitBroker.Url, ["RETOUR_RABBITMQ_QUEUE"] = queue };
        if (extra is not null) foreach (var (k, v) in extra) settings[k] = v;
        return new ConfiguredRetourApp(connection, settings, s =>
        {
            s.AddSingleton(handler);
            // A publisher that consumes nothing: what it publishes stays in RabbitMQ for the test to look at.
            if (!consume) s.Remove(s.First(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(OutboxConsumer)));
        });
    }

    private static async Task<TestMerchant> ReturnsAsync(RetourApp app, int count, TestMerchant? merchant = null)
    {
        var m = merchant ?? await app.NewMerchantAsync();
        for (var i = 0; i < count; i++)
        {
            (await m.Client.Post("/api/v1/orders", Orders.Delivered($"B{i}"))).Expect(HttpStatusCode.Created);
            (await m.Client.Post("/api/v1/returns", Orders.ReturnOf($"B{i}"))).Expect(HttpStatusCode.Created);
        }
        return m;
    }

    private static Task<List<OutboxMessage>> ReturnEvents(RetourApp app, Guid merchant) =>
        app.WithDb(merchant, db => db.OutboxMessages.AsNoTracking().Where(x => x.MerchantId == merchant && x.Type.StartsWith("return.")).ToListAsync());

    [Fact]
    public async Task Relay_PublishesPersistentMessages_AndAWorkerElsewhereHandlesThem()
    {
        var queue = RabbitBroker.NewQueue();
        var web = new RecordingHandler();
        await using var publisher = App(web, queue, consume: false);
        var m = await ReturnsAsync(publisher, 1);
        // Every event some handler consumes is published (the others are marked done at once, as in process).
        var pending = await Wait.ForAsync(async () => await publisher.WithDb(m.Id, db => db.OutboxMessages.AsNoTracking().Where(x => x.ProcessedAt == null).ToListAsync()),
            rows => rows.Count(x => x.MerchantId == m.Id && x.Type.StartsWith("return.")) == 2);
        await RabbitBroker.WaitForCountAsync(queue, (uint)pending.Count);
        var events = await ReturnEvents(publisher, m.Id);
        Assert.All(events, e => Assert.Null(e.ProcessedAt)); // published is not done: a consumer marks it

        await using (var c = await RabbitBroker.ConnectAsync())
        await using (var ch = await c.CreateChannelAsync())
        {
            var ids = new List<string>();
            ulong last = 0;
            while (await ch.BasicGetAsync(queue, autoAck: false) is { } got)
            {
                Assert.True(got.BasicProperties.Persistent);
                var row = Assert.Single(pending, e => e.Id.ToString() == got.BasicProperties.MessageId);
                Assert.Equal(row.Type, got.BasicProperties.Type);
                using var body = JsonDocument.Parse(got.Body);
                Assert.Equal(row.MerchantId.ToString(), body.RootElement.GetProperty("merchant_id").GetString());
                Assert.Equal(row.Payload, body.RootElement.GetProperty("payload").GetRawText());
                ids.Add(got.BasicProperties.MessageId!);
                last = got.DeliveryTag;
            }
            Assert.Equal(pending.Select(e => e.Id.ToString()).Order(), ids.Order());
            await ch.BasicNackAsync(last, multiple: true, requeue: true);
        }
        Assert.Empty(web.Seen);

        var handler = new RecordingHandler();
        await using var worker = App(handler, queue, publisher.ConnectionString, extra: new() { ["RETOUR_ROLE"] = "worker", ["RETOUR_PUBLIC_URL"] = "http://lb.test" });
        _ = worker.Services; // starts it
        await handler.WaitFor(h => h.Seen.Count >= 2);
        await Wait.UntilAsync(async () => (await ReturnEvents(publisher, m.Id)).All(e => e.ProcessedAt != null));
        Assert.Equal(events.Select(e => e.Id).Order(), handler.Seen.Select(x => x.Id).Order());
        await RabbitBroker.WaitForCountAsync(queue, 0);
        Assert.Empty(web.Seen);
    }

    [Fact]
    public async Task CompetingWorkers_ShareTheQueue_AndHandleEachEventOnce()
    {
        var queue = RabbitBroker.NewQueue();
        var (a, b) = (new RecordingHandler(), new RecordingHandler());
        await using var one = App(a, queue);
        await using var two = App(b, queue, one.ConnectionString);
        _ = two.Services;
        var m = await ReturnsAsync(one, 12);
        await Wait.UntilAsync(async () => (await ReturnEvents(one, m.Id)).All(e => e.ProcessedAt != null), 40);
        var seen = a.Seen.Concat(b.Seen).Where(x => x.MerchantId == m.Id).Select(x => x.Id).ToList();
        Assert.Equal(24, seen.Count);
        Assert.Equal(24, seen.Distinct().Count());
        Assert.True(a.Seen.Count > 0 && b.Seen.Count > 0, $"both workers should consume: {a.Seen.Count} and {b.Seen.Count}");
    }

    [Fact]
    public async Task FailingEvent_BacksOffThroughTheDelayQueue_ThenIsDeadLettered_AndCanBeRetried()
    {
        var queue = RabbitBroker.NewQueue();
        var handler = new RecordingHandler { FailuresLeft = int.MaxValue };
        await using var app = App(handler, queue, extra: new() { ["RETOUR_OUTBOX_MAX_ATTEMPTS"] = "2" });
        var m = await ReturnsAsync(app, 1);
        var started = DateTime.UtcNow;
        await Wait.UntilAsync(async () => (await ReturnEvents(app, m.Id)).All(e => e.DeadAt != null), 30);
        Assert.True(DateTime.UtcNow - started >= Broker.RetryDelay(1), "the second attempt waits out the first step of the ladder");
        var dead = await ReturnEvents(app, m.Id);
        Assert.All(dead, e => { Assert.Equal(2, e.Attempts); Assert.Contains("receiver is down", e.LastError); Assert.Null(e.ProcessedAt); });
        await RabbitBroker.WaitForCountAsync(queue + ".dead", 2);
        await RabbitBroker.WaitForCountAsync(queue, 0);

        // The API and the console list this merchant's dead letters, and nobody else's.
        var list = (await m.Client.Get("/api/v1/dead-letters")).Expect(HttpStatusCode.OK);
        Assert.Equal(dead.Select(e => e.Id.ToString()).Order(), list["data"]!.AsArray().Select(x => x.Str("id")).Order());
        Assert.All(list["data"]!.AsArray(), x => Assert.Contains("receiver is down", x.Str("last_error")));
        var other = await app.NewMerchantAsync();
        Assert.Empty((await other.Client.Get("/api/v1/dead-letters")).Expect(HttpStatusCode.OK)["data"]!.AsArray());
        (await other.Client.Post($"/api/v1/dead-letters/{dead[0].Id}/retry", new { })).Expect(HttpStatusCode.NotFound);
        await Staff.AddAsync(app, m.Id, "ops@broker.test", "admin");
        var console = await Staff.SessionAsync(app, "ops@broker.test");
        var page = await console.GetStringAsync("/console/settings/dead-letters");
        Assert.Contains(dead[0].Id.ToString(), page);
        Assert.Contains("receiver is down", page);

        // Once the cause is fixed, a retry delivers it (with fresh attempts), once.
        handler.FailuresLeft = 0;
        (await m.Client.Post($"/api/v1/dead-letters/{dead[0].Id}/retry", new { })).Expect(HttpStatusCode.Accepted);
        await handler.WaitFor(h => h.Seen.Any(x => x.Id == dead[0].Id));
        await Wait.UntilAsync(async () => (await ReturnEvents(app, m.Id)).Single(e => e.Id == dead[0].Id).ProcessedAt != null);
        (await m.Client.Post($"/api/v1/dead-letters/{dead[0].Id}/retry", new { })).Expect(HttpStatusCode.NotFound);
        Assert.Single((await m.Client.Get("/api/v1/dead-letters")).Expect(HttpStatusCode.OK)["data"]!.AsArray());
        Assert.Contains(await app.WithDb(m.Id, db => db.AuditEvents.Select(x => x.Action).ToListAsync()), x => x == "dead_letter_retried");
    }

    /// <summary>Holds every message until the host stops; counts what it finished.</summary>
    private sealed class StuckHandler : IOutboxHandler
    {
        public int Entered;
        public int Finished;
        public string Name => "test.recorder";
        public IReadOnlyCollection<string> Types { get; } = ["return.requested", "return.approved"];
        public async Task HandleAsync(OutboxMessage message, RetourDb db, IServiceProvider services, CancellationToken ct)
        {
            Interlocked.Increment(ref Entered);
            await Task.Delay(Timeout.Infinite, ct);
            Interlocked.Increment(ref Finished);
        }
    }

    [Fact]
    public async Task AWorkerThatStops_MidMessage_LeavesItToAnother()
    {
        var queue = RabbitBroker.NewQueue();
        var stuck = new StuckHandler();
        var first = App(stuck, queue);
        var m = await ReturnsAsync(first, 1);
        await Wait.UntilAsync(() => Task.FromResult(stuck.Entered == 2));
        var handler = new RecordingHandler();
        await using var second = App(handler, queue, first.ConnectionString);
        _ = second.Services;
        await first.DisposeAsync();
        await handler.WaitFor(h => h.Seen.Count(x => x.MerchantId == m.Id) >= 2, 30);
        await Wait.UntilAsync(async () => (await ReturnEvents(second, m.Id)).All(e => e.ProcessedAt != null));
        Assert.Equal(0, stuck.Finished);
        Assert.Equal(2, handler.Seen.Count(x => x.MerchantId == m.Id));
    }

    [Fact]
    public async Task WhileRabbitMqIsDown_EventsWaitInTheDatabase_AndTheOutageIsLoggedOnce_NotEveryRound()
    {
        int closed;
        using (var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0)) { l.Start(); closed = ((IPEndPoint)l.LocalEndpoint).Port; }
        await using var app = new ConfiguredRetourApp(null, new Dictionary<string, string?> { ["RETOUR_RABBITMQ_URL"] = $"amqp://guest:guest@127.0.0.1:{closed}/" });
        var m = await ReturnsAsync(app, 2);
        // The relay publishes every 2 s and the consumer reconnects every 2 s: wait for three rounds of each.
        await Wait.UntilAsync(() => Task.FromResult(app.Errors.Count(e => e.Contains("RabbitMQ is not taking outbox events")) >= 1), 20);
        await Task.Delay(TimeSpan.FromSeconds(6));
        var events = await ReturnEvents(app, m.Id);
        Assert.Equal(4, events.Count);
        // Not counted as attempts (a claim in progress may hold one for a moment): the events wait, they do not fail.
        Assert.All(events, e => Assert.True(e.ProcessedAt is null && e.DeadAt is null && e.Attempts <= 1, $"{e.Type}: {e.Attempts} attempts"));
        var logged = app.Errors.ToList();
        Assert.Single(logged, e => e.Contains("RabbitMQ is not taking outbox events"));
        Assert.Single(logged, e => e.Contains("RabbitMQ is not reachable"));
        Assert.DoesNotContain(logged, e => e.Contains(" Error: ") || e.Contains(" Critical: "));
    }

    /// <summary>How many consumers RabbitMQ has on the queue (0 when it does not exist), through the test's own connection.</summary>
    private static async Task<uint> ConsumersAsync(IConnection c, string queue)
    {
        await using var ch = await c.CreateChannelAsync();
        try { return (await ch.QueueDeclarePassiveAsync(queue)).ConsumerCount; }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException) { return 0; } // not declared (yet, or again)
    }

    private sealed class SlowHandler : IOutboxHandler
    {
        public string Name => "test.slow";
        public IReadOnlyCollection<string> Types { get; } = ["return.requested", "return.approved"];
        public Task HandleAsync(OutboxMessage message, RetourDb db, IServiceProvider services, CancellationToken ct) => Task.Delay(40, ct);
    }

    /// <summary>
    /// RabbitMQ connections dropped while messages flow, four times at odd moments: the consumer replaces its connection,
    /// what it held unacknowledged goes back to the queue, and every event is handled within seconds, not after the
    /// relay's ten-minute processing lease. Afterwards the queue has one consumer (this worker's) and no message. The
    /// forwarder slows new connections' first seconds, as on a busy machine after a broker restart: recovery then takes
    /// seconds, and a consumer that raced the client's automatic recovery (before ADR 29's amendment) left events
    /// unhandled here.
    /// </summary>
    [Fact]
    public async Task ConnectionsCutWhileMessagesAreInFlight_AreReplaced_AndEveryEventIsHandledWithinSeconds()
    {
        var queue = RabbitBroker.NewQueue();
        var url = new Uri(RabbitBroker.Url);
        await using var cutter = new TcpCutter(url.Host, url.Port) { SlowStart = TimeSpan.FromSeconds(3) };
        await using var app = App(new SlowHandler(), queue, extra: new() { ["RETOUR_RABBITMQ_URL"] = new UriBuilder(url) { Host = "127.0.0.1", Port = cutter.Port }.Uri.ToString() });
        await using var look = await RabbitBroker.ConnectAsync();
        var m = await app.NewMerchantAsync();
        var random = new Random(8);
        var n = 0;
        async Task CreateAsync(int count)
        {
            for (var i = 0; i < count; i++, n++)
            {
                (await m.Client.Post("/api/v1/orders", Orders.Delivered($"CUT{n}"))).Expect(HttpStatusCode.Created);
                (await m.Client.Post("/api/v1/returns", Orders.ReturnOf($"CUT{n}"))).Expect(HttpStatusCode.Created);
            }
        }
        for (var round = 0; round < 4; round++)
        {
            await CreateAsync(6);
            // The worker consumes (again, after a cut) before the next cut.
            await Wait.UntilAsync(async () => await ConsumersAsync(look, queue) >= 1, 30, $"round {round}: a consumer on the queue ({app.RecentErrors})");
            await Task.Delay(random.Next(50, 600));
            // A dropped connection comes back at once (odd rounds) or after a broker's restart time (even rounds).
            Assert.True(cutter.CutAll(TimeSpan.FromSeconds(round % 2 == 0 ? 4 : 0)) >= 2);
        }
        await CreateAsync(6);
        await Wait.UntilAsync(async () => (await ReturnEvents(app, m.Id)).Count(e => e.ProcessedAt == null) == 0, 60, $"every event handled ({app.RecentErrors})");
        Assert.Equal(2 * n, (await ReturnEvents(app, m.Id)).Count);
        await Wait.UntilAsync(async () => await ConsumersAsync(look, queue) == 1 && await RabbitBroker.CountAsync(queue) == 0, 20, "one consumer and an empty queue");
    }

    /// <summary>
    /// RabbitMQ cancels a consumer whose queue is deleted, on a channel that stays open. The worker notices, declares the
    /// queue again and consumes it, and stays ready (it was back within the grace period).
    /// </summary>
    [Fact]
    public async Task AConsumerRabbitMqCancels_ConsumesAgain()
    {
        var queue = RabbitBroker.NewQueue();
        var handler = new RecordingHandler();
        await using var app = App(handler, queue);
        await using var look = await RabbitBroker.ConnectAsync();
        var m = await ReturnsAsync(app, 1);
        await handler.WaitFor(h => h.Seen.Where(x => x.MerchantId == m.Id).Select(x => x.Id).Distinct().Count() >= 2);
        await using (var ch = await look.CreateChannelAsync()) await ch.QueueDeleteAsync(queue);
        await Wait.UntilAsync(async () => await ConsumersAsync(look, queue) == 1, 20, $"consuming the queue again ({app.RecentErrors})");
        (await m.Client.Post("/api/v1/orders", Orders.Delivered("AFTER"))).Expect(HttpStatusCode.Created);
        (await m.Client.Post("/api/v1/returns", Orders.ReturnOf("AFTER"))).Expect(HttpStatusCode.Created);
        await handler.WaitFor(h => h.Seen.Where(x => x.MerchantId == m.Id).Select(x => x.Id).Distinct().Count() >= 4);
        (await app.CreateClient().Get("/health/ready")).Expect(HttpStatusCode.OK);
    }

    private sealed class ManualClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>Readiness reads how long the consumer has not been consuming: from its first failure, not its latest, until it consumes again.</summary>
    [Fact]
    public void TheConsumersDownTime_RunsFromItsFirstFailure_UntilItConsumesAgain()
    {
        var clock = new ManualClock();
        var settings = Retour.Infrastructure.RetourSettings.From(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["RETOUR_RABBITMQ_URL"] = "amqp://guest:guest@127.0.0.1:5672/" }).Build());
        var broker = new Broker(settings, clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<Broker>.Instance);
        Assert.Null(broker.ConsumerDownFor); // not tried yet
        broker.ConsumerIsUp(false);
        clock.Now += TimeSpan.FromSeconds(10);
        broker.ConsumerIsUp(false); // a second failed attempt does not restart the count
        clock.Now += TimeSpan.FromSeconds(6);
        Assert.Equal(TimeSpan.FromSeconds(16), broker.ConsumerDownFor);
        Assert.True(broker.ConsumerDownFor > Broker.ConsumerGrace);
        broker.ConsumerIsUp(true);
        Assert.Null(broker.ConsumerDownFor);
    }

    [Fact]
    public async Task Readiness_NeedsRabbitMq_OnNodesThatConsume()
    {
        await using (var ok = App(new RecordingHandler(), RabbitBroker.NewQueue()))
        {
            var ready = (await ok.CreateClient().Get("/health/ready")).Expect(HttpStatusCode.OK);
            Assert.Equal("healthy", ready.Str("checks.broker.status"));
        }
        int closed;
        using (var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0)) { l.Start(); closed = ((IPEndPoint)l.LocalEndpoint).Port; }
        await using var down = new ConfiguredRetourApp(null, new Dictionary<string, string?> { ["RETOUR_RABBITMQ_URL"] = $"amqp://guest:guest@127.0.0.1:{closed}/" });
        var answer = (await down.CreateClient().Get("/health/ready")).Expect(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("unhealthy", answer.Str("checks.broker.status"));
        Assert.Equal("healthy", answer.Str("checks.database.status"));
        // A web node does not need the broker (it only writes the outbox).
        await using var web = new ConfiguredRetourApp(down.ConnectionString, new Dictionary<string, string?>
        {
            ["RETOUR_RABBITMQ_URL"] = $"amqp://guest:guest@127.0.0.1:{closed}/", ["RETOUR_ROLE"] = "web", ["RETOUR_PUBLIC_URL"] = "http://lb.test",
        });
        (await web.CreateClient().Get("/health/ready")).Expect(HttpStatusCode.OK);
        Assert.Throws<InvalidOperationException>(() => Retour.Infrastructure.RetourSettings.From(new Microsoft.Extensions.Configuration.ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["RETOUR_RABBITMQ_URL"] = "http://127.0.0.1:5672" }).Build()));
    }


}
