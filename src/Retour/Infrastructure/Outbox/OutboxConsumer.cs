using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Retour.Infrastructure.Db;

namespace Retour.Infrastructure.Outbox;

/// <summary>
/// Scaled mode, on workers: consumes the outbox queue as one of several competing consumers (RETOUR_WORKER_CONCURRENCY
/// messages at a time, a few more prefetched). A message is acknowledged once its outcome is recorded (done, retry
/// scheduled or dead); a worker that dies holding messages leaves them unacknowledged, and RabbitMQ gives them to another.
/// </summary>
public sealed class OutboxConsumer(OutboxRelay relay, Broker broker, RetourSettings settings, TimeProvider clock, ILogger<OutboxConsumer> log) : BackgroundService
{
    private readonly Outage _unreachable = new(clock);

    protected override async Task ExecuteAsync(CancellationToken stop)
    {
        if (!settings.RunOutboxRelay || !broker.Enabled) return;
        using var processScope = log.BeginScope(Telemetry.ProcessScope(settings));
        while (!stop.IsCancellationRequested)
        {
            IConnection? connection = null;
            try
            {
                // Its own connection, never recovered in place: when it or its channel closes, both are replaced, and
                // RabbitMQ gives what they held unacknowledged to a live consumer (see Broker.ConnectConsumerAsync).
                connection = await broker.ConnectConsumerAsync(stop);
                // Declared on every connect: the queue may be new, or deleted and cancelled this consumer.
                await using (var declaring = await connection.CreateChannelAsync(cancellationToken: stop)) await broker.DeclareAsync(declaring, stop);
                await using var channel = await connection.CreateChannelAsync(cancellationToken: stop);
                await channel.BasicQosAsync(0, (ushort)Math.Min(settings.WorkerConcurrency * 4, ushort.MaxValue), false, stop);
                var consumer = new AsyncEventingBasicConsumer(channel);
                consumer.ReceivedAsync += (_, delivery) => OnMessageAsync(channel, delivery, stop);
                // Raised when RabbitMQ cancels the consumer (its queue deleted, say) or the channel shuts down. Not
                // IsRunning: that is set by the dispatcher, possibly after BasicConsumeAsync has returned.
                var cancelled = false;
                consumer.UnregisteredAsync += (_, _) => { Volatile.Write(ref cancelled, true); return Task.CompletedTask; };
                await channel.BasicConsumeAsync(broker.Queue, autoAck: false, consumer, stop);
                broker.ConsumerIsUp(true);
                if (_unreachable.Ended(out var outage)) log.LogInformation("Consuming {Queue} again, after {Seconds:F0} s", broker.Queue, outage.TotalSeconds);
                else log.LogInformation("Consuming {Queue}", broker.Queue);
                // Until the connection or channel closes, or RabbitMQ cancels the consumer (its queue deleted, say).
                while (!stop.IsCancellationRequested && channel.IsOpen && connection.IsOpen && !Volatile.Read(ref cancelled))
                    await Task.Delay(TimeSpan.FromSeconds(1), stop);
                broker.ConsumerIsUp(false);
                if (!stop.IsCancellationRequested)
                {
                    var reason = (connection.CloseReason ?? channel.CloseReason)?.ReplyText ?? "consumer cancelled by RabbitMQ";
                    if (_unreachable.Failed(out _))
                        log.LogWarning("RabbitMQ stopped the consumer ({Reason}); connecting again every 2 s", reason);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                if (_unreachable.Failed(out var lasted))
                    log.LogWarning("RabbitMQ is not reachable ({Error}); trying again every 2 s (down {Seconds:F0} s)", e.Message, lasted.TotalSeconds);
            }
            finally
            {
                broker.ConsumerIsUp(false);
                if (connection is not null)
                {
                    var closing = CloseQuietlyAsync(connection);
                    // Shutting down: wait, so what this node holds goes back to the queue before the process ends. Otherwise
                    // do not wait: disposing a connection the network cut took 20 s in RabbitMQ.Client, and the loop
                    // connects again meanwhile.
                    if (stop.IsCancellationRequested) await closing;
                }
            }
            try { await Task.Delay(TimeSpan.FromSeconds(2), stop); } catch (OperationCanceledException) { break; }
        }
    }

    private async Task CloseQuietlyAsync(IConnection connection)
    {
        try { if (connection.IsOpen) await connection.CloseAsync(TimeSpan.FromSeconds(2)); } catch (Exception) { /* closed meanwhile */ }
        try { await connection.DisposeAsync(); }
        catch (Exception e) { try { log.LogDebug(e, "Disposing the consumer's RabbitMQ connection"); } catch (ObjectDisposedException) { /* the host has stopped */ } }
    }

    private async Task OnMessageAsync(IChannel channel, BasicDeliverEventArgs delivery, CancellationToken stop)
    {
        if (!Guid.TryParse(delivery.BasicProperties.MessageId, out var id))
        {
            log.LogWarning("Dropping a RabbitMQ message without an outbox id ({MessageId})", delivery.BasicProperties.MessageId);
            await channel.BasicAckAsync(delivery.DeliveryTag, false, CancellationToken.None);
            return;
        }
        OutboxRelay.Consumed outcome;
        try
        {
            outcome = await relay.ConsumeAsync(id, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Shutting down: not acknowledged, so RabbitMQ redelivers it to a worker that is still running.
            return;
        }
        catch (Exception e)
        {
            // Neither outcome could be recorded (the database is down, say): back to the queue after a pause, so a
            // worker without its database does not spin through the queue. An outage is a Warning; anything else an Error.
            log.LogRetried(e, "Outbox message {Id} goes back to the queue", id);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stop);
                await channel.BasicNackAsync(delivery.DeliveryTag, false, requeue: true, CancellationToken.None);
            }
            catch (Exception) { /* the channel is gone: RabbitMQ requeues what was not acknowledged */ }
            return;
        }
        if (outcome == OutboxRelay.Consumed.Unknown)
            log.LogWarning("Outbox message {Id} is not in this database (deleted, or another deployment's queue); dropped", id);
        try
        {
            await channel.BasicAckAsync(delivery.DeliveryTag, false, CancellationToken.None);
        }
        catch (Exception e)
        {
            // The outcome is recorded; the channel closed first (the connection's outage is logged once by the loop).
            // RabbitMQ delivers the message again, and its row makes the copy a no-op.
            log.LogDebug("Outbox message {Id} was handled, but its channel closed before the acknowledgement: {Error}", id, e.Message);
        }
    }
}

/// <summary>
/// Readiness of a node that publishes and consumes (worker and all roles in scaled mode): RabbitMQ is connected, and the
/// node's consumer has been consuming, or has been down for less than <see cref="Broker.ConsumerGrace"/> (a reconnect).
/// </summary>
public sealed class BrokerHealthCheck(Broker broker) : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    public async Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await broker.ConnectAsync(ct);
            if (!broker.IsConnected) return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("rabbitmq connection recovering");
            return broker.ConsumerDownFor is { } down && down > Broker.ConsumerGrace
                ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy($"rabbitmq connected, but this node has not been consuming for {down.TotalSeconds:F0} s")
                : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy("rabbitmq connected");
        }
        catch (Exception)
        {
            return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("rabbitmq unreachable");
        }
    }
}
