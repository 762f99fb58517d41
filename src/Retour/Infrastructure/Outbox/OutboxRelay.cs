using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Retour.Infrastructure.Db;

namespace Retour.Infrastructure.Outbox;

/// <summary>A consumer of outbox events. Handlers must tolerate redelivery of external effects (delivery is at least once).</summary>
public interface IOutboxHandler
{
    /// <summary>Stable name: it keys the inbox row that makes a redelivered message skip this handler.</summary>
    string Name { get; }
    /// <summary>The event types it consumes, such as "return.approved".</summary>
    IReadOnlyCollection<string> Types { get; }
    /// <summary>Runs in a scope whose tenant is the message's merchant. Changes made through <paramref name="db"/> commit with the inbox row.</summary>
    Task HandleAsync(OutboxMessage message, RetourDb db, IServiceProvider services, CancellationToken ct);
    /// <summary>
    /// Whether this message concerns the handler at all (say, only merchants with a webhook endpoint). False skips it
    /// without a scope or an inbox row; the answer may come from a cache, so it must be safe to say true needlessly.
    /// </summary>
    ValueTask<bool> WantsAsync(OutboxMessage message, CancellationToken ct) => ValueTask.FromResult(true);
    /// <summary>
    /// False while the handler has nothing to do for anyone (no SMTP server, no webhook endpoint at all): its types are then
    /// not claimed for it, and events nobody else handles are marked done in bulk, as if it were not there.
    /// </summary>
    bool IsActive => true;
}

/// <summary>
/// Delivers outbox messages to handlers. It claims a batch with a lease (an UPDATE that moves available_at),
/// so a relay that dies mid-batch leaves the messages to be claimed again when the lease ends;
/// on PostgreSQL, FOR UPDATE SKIP LOCKED keeps concurrent relays off each other's messages.
/// </summary>
public sealed class OutboxRelay(
    IServiceScopeFactory scopes, OutboxSignal signal, IEnumerable<IOutboxHandler> handlers,
    TimeProvider clock, RetourSettings settings, Broker broker, ILogger<OutboxRelay> log)
{
    public const int BatchSize = 200;
    public const int SkipBatchSize = 2000;
    /// <summary>After a wake-up, wait this long so that commits arriving together are claimed together.</summary>
    private static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(25);
    /// <summary>Attempts before a message is dead-lettered (RETOUR_OUTBOX_MAX_ATTEMPTS, 12 by default).</summary>
    private int MaxAttempts => settings.OutboxMaxAttempts;
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    /// <summary>With a broker: how long a claim has to be published before another relay may claim it.</summary>
    public static readonly TimeSpan PublishLease = TimeSpan.FromSeconds(30);
    /// <summary>With a broker: a published message not marked processed by then is published again (the broker lost it).</summary>
    public static readonly TimeSpan ProcessingLease = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);
    private readonly IOutboxHandler[] _handlers = [.. handlers];
    private readonly Dictionary<long, string> _filters = [];
    private string _typeFilter = "";
    private readonly Outage _brokerDown = new(clock);

    /// <summary>The types the active handlers consume, as an SQL list (cached per set of active handlers).</summary>
    private string ActiveTypeFilter()
    {
        long mask = 0;
        for (var i = 0; i < _handlers.Length; i++) if (_handlers[i].IsActive) mask |= 1L << i;
        lock (_filters)
        {
            if (!_filters.TryGetValue(mask, out var filter))
                _filters[mask] = filter = TypeList([.. _handlers.Where((_, i) => (mask & (1L << i)) != 0).SelectMany(h => h.Types).Distinct()]);
            return filter;
        }
    }

    /// <summary>"'a', 'b'" for SQL IN lists; event types are code constants, checked here so they can be inlined.</summary>
    private static string TypeList(IReadOnlyList<string> types)
    {
        foreach (var t in types)
            if (t.Length == 0 || !t.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_'))
                throw new InvalidOperationException($"Outbox event type '{t}' must be lower-case letters, digits, '.' and '_'.");
        return string.Join(", ", types.Select(t => $"'{t}'"));
    }

    public async Task RunAsync(CancellationToken stop)
    {
        using var scope = log.BeginScope(Telemetry.ProcessScope(settings));
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (await DeliverBatchAsync(stop) >= BatchSize) continue;
                if (await signal.WaitAsync(IdlePoll, stop)) await Task.Delay(Coalesce, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (BrokerUnavailableException e)
            {
                // Expected while RabbitMQ restarts: the events wait in the database. Said once, then once a minute.
                if (_brokerDown.Failed(out var lasted))
                    log.LogWarning("RabbitMQ is not taking outbox events ({Error}); they wait in the database, publishing again every 2 s (down {Seconds:F0} s)",
                        e.Message, lasted.TotalSeconds);
                try { await Task.Delay(TimeSpan.FromSeconds(2), stop); } catch (OperationCanceledException) { break; }
            }
            catch (Exception e)
            {
                log.LogRetried(e, "Outbox relay failed; retrying shortly");
                try { await Task.Delay(TimeSpan.FromSeconds(2), stop); } catch (OperationCanceledException) { break; }
            }
        }
    }

    /// <summary>Claims and delivers one batch. Returns how many messages it claimed.</summary>
    public async Task<int> DeliverBatchAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        List<OutboxMessage> batch;
        int skipped;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            _typeFilter = ActiveTypeFilter();
            skipped = await SkipUnhandledAsync(db, now, ct);
            batch = _typeFilter.Length == 0 ? [] : await ClaimAsync(db, now, ct);
        }
        if (batch.Count == 0)
        {
            // Nothing to publish, the connection is open, and no publish of ours has failed for a lease (another node may
            // have published the backlog). An open connection alone is not enough: a broker blocked by an alarm keeps it open.
            if (broker.Enabled && broker.IsConnected && _brokerDown.QuietFor(PublishLease) && _brokerDown.Ended(out var outage))
                log.LogInformation("RabbitMQ takes outbox events again, after {Seconds:F0} s", outage.TotalSeconds);
            return skipped;
        }
        if (broker.Enabled)
        {
            await PublishAsync(batch, ct);
            return batch.Count + skipped;
        }

        var done = new List<OutboxMessage>(batch.Count);
        foreach (var message in batch)
        {
            try
            {
                await RunHandlersAsync(message, ct);
                done.Add(message);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                await FailAsync(message, e, ct);
            }
        }
        await MarkDoneAsync(done, ct);
        return batch.Count + skipped;
    }

    /// <summary>Runs every interested handler once (the inbox skips those that already ran), inside the message's span and log scope.</summary>
    private async Task RunHandlersAsync(OutboxMessage message, CancellationToken ct)
    {
        using var activity = Telemetry.Source.StartActivity("outbox " + message.Type, ActivityKind.Consumer);
        using var messageScope = log.BeginScope(new Dictionary<string, object> { ["message_id"] = message.Id, ["message_type"] = message.Type });
        activity?.SetTag("messaging.message.id", message.Id.ToString());
        activity?.SetTag("retour.merchant_id", message.MerchantId.ToString());
        try
        {
            foreach (var handler in _handlers)
                if (handler.IsActive && handler.Types.Contains(message.Type) && await handler.WantsAsync(message, ct))
                    await RunHandlerAsync(handler, message, ct);
        }
        catch (Exception e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    private async Task MarkDoneAsync(IReadOnlyList<OutboxMessage> done, CancellationToken ct)
    {
        if (done.Count == 0) return;
        var ids = done.Select(m => m.Id).ToList();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        var at = clock.GetUtcNow();
        await db.OutboxMessages.Where(m => ids.Contains(m.Id))
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.ProcessedAt, at).SetProperty(m => m.LastError, (string?)null), ct);
        // Counted once done is recorded: a batch delivered again after a failed update is not counted twice.
        foreach (var message in done)
        {
            var type = new KeyValuePair<string, object?>("type", message.Type);
            Telemetry.OutboxDelivered.Add(1, type);
            Telemetry.OutboxLag.Record((at - message.CreatedAt).TotalSeconds, type);
        }
    }

    /// <summary>
    /// Scaled mode: hands a claimed batch to the broker. Confirmed messages get the long processing lease (a consumer marks
    /// them processed); the others are released for the next round at once, without counting an attempt.
    /// </summary>
    private async Task PublishAsync(List<OutboxMessage> batch, CancellationToken ct)
    {
        bool[] confirmed;
        string? failure = null;
        // Built outside the try: a fault of ours here is a bug to log as one, not a broker outage.
        BrokerMessage[] messages = [.. batch.Select(m => new BrokerMessage(m.Id, m.MerchantId, m.Type, broker.Queue, BodyOf(m), m.Attempts))];
        try
        {
            confirmed = await broker.PublishAsync(messages, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            failure = $"{e.GetType().Name}: {e.Message}";
            confirmed = new bool[batch.Count];
        }
        var sent = batch.Where((_, i) => confirmed[i]).Select(m => m.Id).ToList();
        var unsent = batch.Where((_, i) => !confirmed[i]).Select(m => m.Id).ToList();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        var now = clock.GetUtcNow();
        if (sent.Count > 0)
            await db.OutboxMessages.Where(m => sent.Contains(m.Id) && m.ProcessedAt == null && m.DeadAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.AvailableAt, now + ProcessingLease), CancellationToken.None);
        if (unsent.Count > 0)
        {
            // Only rows still under this claim's publish lease: one that did arrive, and that a consumer already failed and
            // rescheduled (a long lease), keeps its backoff and attempt count.
            var claimEnd = now + PublishLease;
            await db.OutboxMessages.Where(m => unsent.Contains(m.Id) && m.ProcessedAt == null && m.DeadAt == null && m.AvailableAt <= claimEnd)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.AvailableAt, now + TimeSpan.FromSeconds(2)).SetProperty(m => m.Attempts, m => m.Attempts - 1), CancellationToken.None);
            throw new BrokerUnavailableException(failure ?? $"it confirmed {sent.Count} of {batch.Count} message(s)");
        }
        if (_brokerDown.Ended(out var outage)) log.LogInformation("RabbitMQ takes outbox events again, after {Seconds:F0} s", outage.TotalSeconds);
    }

    /// <summary>What the broker carries: the event itself (consumers read the row for its state; operators read this in the queues).</summary>
    private static byte[] BodyOf(OutboxMessage m)
    {
        using var buffer = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("id", m.Id);
            w.WriteString("merchant_id", m.MerchantId);
            w.WriteString("type", m.Type);
            w.WriteString("created_at", m.CreatedAt);
            w.WritePropertyName("payload");
            w.WriteRawValue(m.Payload, skipInputValidation: true);
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>What became of a message a consumer took from the broker.</summary>
    public enum Consumed { Done, AlreadyDone, Unknown, Retrying, Dead }

    /// <summary>
    /// Scaled mode, on a worker: handles one message taken from the broker. The row decides: one already processed (or
    /// dead) is skipped, so a redelivered copy does nothing. A failure schedules the next attempt through the broker's
    /// delay queues (and pushes the row's lease past it), or moves the message to the dead-letter queue. Throws only when
    /// neither the database nor the broker could record the outcome; the caller then returns the message to the queue.
    /// </summary>
    public async Task<Consumed> ConsumeAsync(Guid id, CancellationToken ct)
    {
        OutboxMessage? message;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            message = await db.OutboxMessages.AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, ct);
        }
        if (message is null) return Consumed.Unknown;
        if (message.ProcessedAt is not null || message.DeadAt is not null) return Consumed.AlreadyDone;
        try
        {
            await RunHandlersAsync(message, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return await RetryThroughBrokerAsync(message, e, ct);
        }
        await MarkDoneAsync([message], ct);
        return Consumed.Done;
    }

    private async Task<Consumed> RetryThroughBrokerAsync(OutboxMessage message, Exception e, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var attempts = Math.Max(1, message.Attempts);
        var dead = attempts >= MaxAttempts;
        var delay = Broker.RetryDelay(attempts);
        var error = Truncate($"{e.GetType().Name}: {e.Message}", 2000);
        Telemetry.OutboxFailed.Add(1, new KeyValuePair<string, object?>("type", message.Type), new KeyValuePair<string, object?>("dead", dead));
        if (dead) log.LogError(e, "Outbox message {Id} ({Type}) failed {Attempts} times and is dead-lettered", message.Id, message.Type, attempts);
        else log.LogWarning(e, "Outbox message {Id} ({Type}) failed (attempt {Attempts}); retry in {Delay}", message.Id, message.Type, attempts, delay);
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            await db.OutboxMessages.Where(m => m.Id == message.Id).ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Attempts, dead ? attempts : attempts + 1)
                .SetProperty(m => m.AvailableAt, now + delay + ProcessingLease)
                .SetProperty(m => m.LastError, error)
                .SetProperty(m => m.DeadAt, dead ? now : (DateTimeOffset?)null), ct);
        }
        var queue = dead ? broker.DeadQueue : broker.RetryQueue(Broker.RetryStep(attempts));
        bool confirmed;
        try { confirmed = (await broker.PublishAsync([new BrokerMessage(message.Id, message.MerchantId, message.Type, queue, BodyOf(message), attempts, Error: error)], ct))[0]; }
        catch (Exception pe) when (pe is not OperationCanceledException || !ct.IsCancellationRequested) { confirmed = false; }
        // Not confirmed: the row is the record, so the relay publishes it again once the backoff is over (without the
        // processing lease); the message is still acknowledged, so the backoff is not skipped by a redelivery.
        if (!confirmed && !dead)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            await db.OutboxMessages.Where(m => m.Id == message.Id && m.ProcessedAt == null && m.DeadAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.AvailableAt, now + delay), CancellationToken.None);
        }
        return dead ? Consumed.Dead : Consumed.Retrying;
    }

    /// <summary>Events no handler in this process consumes are delivered to nobody: one statement marks a whole batch.</summary>
    private async Task<int> SkipUnhandledAsync(RetourDb db, DateTimeOffset now, CancellationToken ct)
    {
        var lockClause = db.IsPostgres ? "FOR UPDATE SKIP LOCKED" : "";
        var notHandled = _typeFilter.Length == 0 ? "" : $"AND type NOT IN ({_typeFilter})";
        var sql = $$"""
            UPDATE outbox_messages SET processed_at = {0}, attempts = attempts + 1
            WHERE id IN (SELECT id FROM outbox_messages
                         WHERE processed_at IS NULL AND dead_at IS NULL AND available_at <= {0} {{notHandled}}
                         ORDER BY available_at, id LIMIT {{SkipBatchSize}} {{lockClause}})
            """;
        return await db.Database.ExecuteSqlRawAsync(sql, [db.IsPostgres ? now : ToMicros(now)], ct);
    }

    private async Task<List<OutboxMessage>> ClaimAsync(RetourDb db, DateTimeOffset now, CancellationToken ct)
    {
        var leaseEnd = now + (broker.Enabled ? PublishLease : Lease);
        var lockClause = db.IsPostgres ? "FOR UPDATE SKIP LOCKED" : "";
        // Both providers run UPDATE … RETURNING; the time parameters go through EF's converters (timestamptz or µs).
        var sql = $$"""
            UPDATE outbox_messages SET available_at = {0}, attempts = attempts + 1
            WHERE id IN (SELECT id FROM outbox_messages
                         WHERE processed_at IS NULL AND dead_at IS NULL AND available_at <= {1} AND type IN ({{_typeFilter}})
                         ORDER BY available_at, id LIMIT {{BatchSize}} {{lockClause}})
            RETURNING *
            """;
        var (p0, p1) = db.IsPostgres ? ((object)leaseEnd, (object)now) : (ToMicros(leaseEnd), ToMicros(now));
        var claimed = await db.OutboxMessages.FromSqlRaw(sql, p0, p1).AsNoTracking().ToListAsync(ct);
        claimed.Sort((a, b) => a.CreatedAt.CompareTo(b.CreatedAt) is var c && c != 0 ? c : a.Id.CompareTo(b.Id));
        return claimed;
    }

    private static object ToMicros(DateTimeOffset t) => new UnixMicrosConverter().ConvertToProvider(t)!;

    private async Task RunHandlerAsync(IOutboxHandler handler, OutboxMessage message, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(message.MerchantId);
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        if (await db.OutboxDeliveries.AnyAsync(d => d.MessageId == message.Id && d.Handler == handler.Name, ct)) return;
        await handler.HandleAsync(message, db, scope.ServiceProvider, ct);
        db.OutboxDeliveries.Add(new OutboxDelivery { MessageId = message.Id, Handler = handler.Name, ProcessedAt = clock.GetUtcNow() });
        await db.SaveChangesAsync(ct);
    }

    private async Task FailAsync(OutboxMessage message, Exception e, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var dead = message.Attempts >= MaxAttempts;
        var next = now + Backoff(message.Attempts);
        var error = Truncate($"{e.GetType().Name}: {e.Message}", 2000);
        Telemetry.OutboxFailed.Add(1, new KeyValuePair<string, object?>("type", message.Type), new KeyValuePair<string, object?>("dead", dead));
        if (dead) log.LogError(e, "Outbox message {Id} ({Type}) failed {Attempts} times and is dead-lettered", message.Id, message.Type, message.Attempts);
        else log.LogWarning(e, "Outbox message {Id} ({Type}) failed (attempt {Attempts}); retry at {Next}", message.Id, message.Type, message.Attempts, next);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        await db.OutboxMessages.Where(m => m.Id == message.Id).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.AvailableAt, next)
            .SetProperty(m => m.LastError, error)
            .SetProperty(m => m.DeadAt, dead ? now : (DateTimeOffset?)null), ct);
    }

    /// <summary>1 s, 2 s, 4 s … capped at one hour.</summary>
    public static TimeSpan Backoff(int attempts) => Retour.Core.Backoff.Exponential(attempts, TimeSpan.FromSeconds(1), Retour.Core.Backoff.Hour);

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}

/// <summary>RabbitMQ did not confirm a batch (down, restarting, or blocked): the events stay in the outbox for the next round.</summary>
public sealed class BrokerUnavailableException(string message) : Exception(message);
