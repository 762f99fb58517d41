using RabbitMQ.Client;
using RabbitMQ.Client.Events;

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
                await using var channel = await connection.CreateChannelAsync(cancellationToken: stop);
                await channel.BasicQosAsync(0, (ushort)Math.Min(settings.WorkerConcurrency * 4, ushort.MaxValue), false, stop);
                var consumer = new AsyncEventingBasicConsumer(channel);
                consumer.ReceivedAsync += (_, delivery) => OnMessageAsync(channel, delivery, stop);
                await channel.BasicConsumeAsync(broker.Queue, autoAck: false, consumer, stop);
                if (_unreachable.Ended(out var outage)) log.LogInformation("Consuming {Queue} again, after {Seconds:F0} s", broker.Queue, outage.TotalSeconds);
                else log.LogInformation("Consuming {Queue}", broker.Queue);
                while (!stop.IsCancellationRequested && channel.IsOpen && connection.IsOpen)
                    await Task.Delay(TimeSpan.FromSeconds(1), stop);
                if (!stop.IsCancellationRequested)
                {
                    var reason = (connection.CloseReason ?? channel.CloseReason)?.ReplyText;
                    if (_unreachable.Failed(out _))
                        log.LogWarning("RabbitMQ closed the consumer's connection ({Reason}); connecting again every 2 s", reason);
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
                if (connection is not null)
                {
                    try { await connection.CloseAsync(TimeSpan.FromSeconds(2)); } catch (Exception) { /* already closed */ }
                    await connection.DisposeAsync();
                }
            }
            try { await Task.Delay(TimeSpan.FromSeconds(2), stop); } catch (OperationCanceledException) { break; }
        }
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
            // worker without its database does not spin through the queue.
            log.LogWarning("Outbox message {Id} goes back to the queue: {Error}", id, e.GetBaseException().Message);
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

/// <summary>Readiness of a node that publishes and consumes (worker and all roles in scaled mode): RabbitMQ is connected.</summary>
public sealed class BrokerHealthCheck(Broker broker) : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    public async Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await broker.ConnectAsync(ct);
            return broker.IsConnected
                ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy("rabbitmq connected")
                : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("rabbitmq connection recovering");
        }
        catch (Exception)
        {
            return Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("rabbitmq unreachable");
        }
    }
}
