using Retour.Infrastructure.Db;
namespace Retour.Infrastructure;

/// <summary>
/// A background loop of the kind every worker here runs: do one round of due work, wait <see cref="Idle"/> when it found
/// nothing (or always, for <see cref="WaitAfterWork"/>), and after a failure log it and wait 5 s. Workers run where the
/// outbox relay runs (RETOUR_OUTBOX_RELAY), so a web-only node leaves them to the worker nodes.
/// </summary>
public abstract class PollingHost(RetourSettings settings, ILogger log) : BackgroundService
{
    protected RetourSettings Settings { get; } = settings;

    /// <summary>What the work is, for the log ("Refund work").</summary>
    protected abstract string What { get; }
    protected abstract TimeSpan Idle { get; }
    /// <summary>Wait <see cref="Idle"/> even after a round that found work (periodic chores rather than queues).</summary>
    protected virtual bool WaitAfterWork => false;
    protected virtual bool Enabled => true;
    /// <summary>One round; true when it found work (the next round then starts at once).</summary>
    protected abstract Task<bool> RunOnceAsync(CancellationToken stop);

    protected sealed override async Task ExecuteAsync(CancellationToken stop)
    {
        if (!Settings.RunOutboxRelay || !Enabled) return;
        using var scope = log.BeginScope(Telemetry.ProcessScope(Settings));
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (!await RunOnceAsync(stop) || WaitAfterWork) await Task.Delay(Idle, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                log.LogRetried(e, "{What} failed; retrying shortly", What);
                try { await Task.Delay(TimeSpan.FromSeconds(5), stop); } catch (OperationCanceledException) { break; }
            }
        }
    }
}
