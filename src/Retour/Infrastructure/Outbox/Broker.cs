using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Retour.Infrastructure.Outbox;

/// <summary>
/// Scaled mode's message broker (RabbitMQ, ADR 29). With RETOUR_RABBITMQ_URL set, the outbox relay publishes each claimed
/// message to a durable queue, with publisher confirms, and the workers consume it as competing consumers. The database
/// stays the record: a message is done when a consumer marks its outbox row processed, and the relay publishes it again
/// if that has not happened by the end of its lease, so the broker losing a message delays it but never loses it.
/// <list type="bullet">
/// <item><c>{queue}</c>: events to handle (durable, persistent messages).</item>
/// <item><c>{queue}.retry.{n}s</c>: a failed event waits here for its backoff; the queue's TTL dead-letters it back to <c>{queue}</c>.</item>
/// <item><c>{queue}.dead</c>: events that failed RETOUR_OUTBOX_MAX_ATTEMPTS times (their rows are marked dead,
/// which is what the console lists, per merchant).</item>
/// </list>
/// </summary>
public sealed class Broker(RetourSettings settings, TimeProvider clock, ILogger<Broker> log) : IAsyncDisposable
{
    /// <summary>The backoff ladder in the broker: one delay queue per step, the last repeated.</summary>
    public static readonly TimeSpan[] RetryLadder =
        [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10), TimeSpan.FromHours(1)];

    /// <summary>Dead messages stay in the broker's dead-letter queue this long (the outbox row keeps them for the console).</summary>
    private static readonly TimeSpan DeadRetention = TimeSpan.FromDays(14);

    /// <summary>How long a batch may wait for the broker's confirms.</summary>
    private static readonly TimeSpan ConfirmTimeout = TimeSpan.FromSeconds(15);

    public const string AttemptHeader = "x-retour-attempt";
    public const string ErrorHeader = "x-retour-error";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SemaphoreSlim _publishGate = new(1, 1);
    private IConnection? _connection;
    private IChannel? _publisher;

    public bool Enabled => settings.RabbitMqUrl is not null;
    public string Queue => settings.RabbitMqQueue;
    public string DeadQueue => Queue + ".dead";
    public string RetryQueue(int step) => $"{Queue}.retry.{(int)RetryLadder[step].TotalSeconds}s";
    /// <summary>The delay queue (its index in <see cref="RetryLadder"/>) for a message that has failed <paramref name="attempts"/> times.</summary>
    public static int RetryStep(int attempts) => Math.Clamp(attempts - 1, 0, RetryLadder.Length - 1);
    public static TimeSpan RetryDelay(int attempts) => RetryLadder[RetryStep(attempts)];

    /// <summary>How long a node's consumer may be down (reconnecting) before readiness says so.</summary>
    public static readonly TimeSpan ConsumerGrace = TimeSpan.FromSeconds(15);
    private long _consumerDownSinceTicks; // 0: consuming, or never tried

    /// <summary>The consumer says whether it is consuming; readiness reads how long it has not been.</summary>
    public void ConsumerIsUp(bool up)
    {
        if (up) Interlocked.Exchange(ref _consumerDownSinceTicks, 0);
        else Interlocked.CompareExchange(ref _consumerDownSinceTicks, clock.GetUtcNow().UtcTicks, 0);
    }

    /// <summary>How long this node's consumer has not been consuming; null while it is (or before its first attempt ends).</summary>
    public TimeSpan? ConsumerDownFor => Interlocked.Read(ref _consumerDownSinceTicks) is var t and not 0 ? clock.GetUtcNow().UtcDateTime - new DateTime(t, DateTimeKind.Utc) : null;

    /// <summary>True while the connection is open (automatic recovery reopens it after the broker restarts).</summary>
    public bool IsConnected => _connection is { IsOpen: true };

    /// <summary>The process's publishing connection, made on first use; automatic recovery keeps it afterwards.</summary>
    public async Task<IConnection> ConnectAsync(CancellationToken ct)
    {
        if (_connection is { } open) return open;
        await _gate.WaitAsync(ct);
        try
        {
            if (_connection is null)
            {
                var factory = Factory(recover: true, "");
                var connection = await factory.CreateConnectionAsync(ct);
                connection.ConnectionShutdownAsync += (_, e) =>
                {
                    if (e.Initiator != ShutdownInitiator.Application) log.LogWarning("RabbitMQ connection lost ({Reason}); recovering", e.ReplyText);
                    return Task.CompletedTask;
                };
                connection.RecoverySucceededAsync += (_, _) => { log.LogInformation("RabbitMQ connection recovered"); return Task.CompletedTask; };
                await using (var channel = await connection.CreateChannelAsync(cancellationToken: ct)) await DeclareAsync(channel, ct);
                _connection = connection;
                log.LogInformation("Connected to RabbitMQ; queue {Queue}", Queue);
            }
            return _connection;
        }
        finally { _gate.Release(); }
    }

    /// <summary>
    /// A connection of the consumer's own, without automatic recovery: the consumer replaces it, with its channel, when
    /// either closes. Recovering a consuming channel in place raced with the consumer's own replacement after a broker
    /// restart: a recovered channel whose owner had moved on could hold deliveries unacknowledged (their rows then waited
    /// out the ten-minute processing lease), and acknowledgements could carry tags from before the restart. With a
    /// connection that is never recovered, a closed connection or channel gives every unacknowledged delivery back to the
    /// queue, and an acknowledgement can only reach the channel that received the delivery.
    /// </summary>
    public Task<IConnection> ConnectConsumerAsync(CancellationToken ct) => Factory(recover: false, " consumer").CreateConnectionAsync(ct);

    private ConnectionFactory Factory(bool recover, string purpose) => new()
    {
        Uri = new Uri(settings.RabbitMqUrl!),
        AutomaticRecoveryEnabled = recover,
        TopologyRecoveryEnabled = recover,
        NetworkRecoveryInterval = TimeSpan.FromSeconds(2),
        RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
        ConsumerDispatchConcurrency = (ushort)settings.WorkerConcurrency,
        ClientProvidedName = $"retour {settings.Role.ToString().ToLowerInvariant()} {Health.Instance}{purpose}",
    };

    /// <summary>Declares the queues (idempotent: every node does it when it connects).</summary>
    public async Task DeclareAsync(IChannel channel, CancellationToken ct)
    {
        await channel.QueueDeclareAsync(Queue, durable: true, exclusive: false, autoDelete: false, arguments: null, cancellationToken: ct);
        for (var step = 0; step < RetryLadder.Length; step++)
            await channel.QueueDeclareAsync(RetryQueue(step), durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?>
            {
                ["x-message-ttl"] = (int)RetryLadder[step].TotalMilliseconds,
                ["x-dead-letter-exchange"] = "",
                ["x-dead-letter-routing-key"] = Queue,
            }, cancellationToken: ct);
        await channel.QueueDeclareAsync(DeadQueue, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?>
        {
            ["x-message-ttl"] = (long)DeadRetention.TotalMilliseconds,
        }, cancellationToken: ct);
    }

    /// <summary>
    /// Publishes messages, persistent, and waits for the broker's confirms. Returns which were confirmed: a message not
    /// confirmed may or may not have arrived, so its caller treats it as not sent (a second copy is harmless: consumers
    /// check the outbox row and the inbox).
    /// </summary>
    public async Task<bool[]> PublishAsync(IReadOnlyList<BrokerMessage> messages, CancellationToken ct)
    {
        var confirmed = new bool[messages.Count];
        if (messages.Count == 0) return confirmed;
        // Confirms that never come (a broker blocked by a memory or disk alarm) must not hold the relay and every retry.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(ConfirmTimeout);
        ct = timeout.Token;
        await _publishGate.WaitAsync(ct);
        try
        {
            var channel = await PublisherAsync(ct);
            var pending = new Task[messages.Count];
            for (var i = 0; i < messages.Count; i++)
            {
                var m = messages[i];
                var props = new BasicProperties
                {
                    MessageId = m.Id.ToString(),
                    Type = m.Type,
                    Persistent = true,
                    ContentType = "application/json",
                    Timestamp = new AmqpTimestamp(DateTimeOffset.UtcNow.ToUnixTimeSeconds()),
                    CorrelationId = m.CorrelationId,
                    Headers = new Dictionary<string, object?>
                    {
                        ["merchant_id"] = m.MerchantId.ToString(),
                        [AttemptHeader] = m.Attempt,
                    },
                };
                if (m.Error is not null) props.Headers[ErrorHeader] = m.Error;
                pending[i] = channel.BasicPublishAsync("", m.Queue, mandatory: true, props, m.Body, ct).AsTask();
            }
            for (var i = 0; i < pending.Length; i++)
            {
                try { await pending[i]; confirmed[i] = true; }
                catch (Exception e) when (e is PublishException or AlreadyClosedException or OperationInterruptedException or IOException or OperationCanceledException)
                {
                    // The relay reports the outage (once, then once a minute); per message it is detail.
                    log.LogDebug("RabbitMQ did not confirm message {Id}: {Error}", messages[i].Id, e.Message);
                }
            }
            return confirmed;
        }
        finally { _publishGate.Release(); }
    }

    private async Task<IChannel> PublisherAsync(CancellationToken ct)
    {
        var connection = await ConnectAsync(ct);
        if (_publisher is { IsOpen: true }) return _publisher;
        // Closed for good (not by a connection loss that recovery mends): make a new one.
        if (_publisher is not null && connection.IsOpen) { try { await _publisher.DisposeAsync(); } catch { /* already closed */ } _publisher = null; }
        if (_publisher is not null) throw new AlreadyClosedException(new ShutdownEventArgs(ShutdownInitiator.Library, 0, "RabbitMQ connection is recovering"));
        _publisher = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
        return _publisher;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_publisher is not null) await _publisher.DisposeAsync();
            if (_connection is not null) { await _connection.CloseAsync(); await _connection.DisposeAsync(); }
        }
        catch (Exception e) { log.LogDebug(e, "Closing the RabbitMQ connection"); }
    }
}

/// <summary>One message for <see cref="Broker.PublishAsync"/>.</summary>
public sealed record BrokerMessage(Guid Id, Guid MerchantId, string Type, string Queue, ReadOnlyMemory<byte> Body, int Attempt, string? CorrelationId = null, string? Error = null);
