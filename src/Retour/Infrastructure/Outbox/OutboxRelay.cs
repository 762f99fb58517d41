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
    TimeProvider clock, RetourSettings settings, ILogger<OutboxRelay> log)
{
    public const int BatchSize = 200;
    public const int SkipBatchSize = 2000;
    /// <summary>After a wake-up, wait this long so that commits arriving together are claimed together.</summary>
    private static readonly TimeSpan Coalesce = TimeSpan.FromMilliseconds(25);
    public const int MaxAttempts = 12;
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);
    private readonly IOutboxHandler[] _handlers = [.. handlers];
    private readonly Dictionary<long, string> _filters = [];
    private string _typeFilter = "";

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
            catch (Exception e)
            {
                log.LogError(e, "Outbox relay failed; retrying shortly");
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
        if (batch.Count == 0) return skipped;

        var done = new List<Guid>(batch.Count);
        foreach (var message in batch)
        {
            var relevant = _handlers.Where(h => h.IsActive && h.Types.Contains(message.Type)).ToList();
            using var activity = Telemetry.Source.StartActivity("outbox " + message.Type, ActivityKind.Consumer);
            using var messageScope = log.BeginScope(new Dictionary<string, object> { ["message_id"] = message.Id, ["message_type"] = message.Type });
            activity?.SetTag("messaging.message.id", message.Id.ToString());
            activity?.SetTag("retour.merchant_id", message.MerchantId.ToString());
            try
            {
                foreach (var handler in relevant)
                    if (await handler.WantsAsync(message, ct)) await RunHandlerAsync(handler, message, ct);
                done.Add(message.Id);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                activity?.SetStatus(ActivityStatusCode.Error, e.Message);
                await FailAsync(message, e, ct);
            }
        }
        if (done.Count > 0)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            var at = clock.GetUtcNow();
            await db.OutboxMessages.Where(m => done.Contains(m.Id))
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.ProcessedAt, at).SetProperty(m => m.LastError, (string?)null), ct);
            // Counted once done is recorded: a batch delivered again after a failed update is not counted twice.
            foreach (var message in batch.Where(m => done.Contains(m.Id)))
            {
                var type = new KeyValuePair<string, object?>("type", message.Type);
                Telemetry.OutboxDelivered.Add(1, type);
                Telemetry.OutboxLag.Record((at - message.CreatedAt).TotalSeconds, type);
            }
        }
        return batch.Count + skipped;
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
        var leaseEnd = now + Lease;
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
