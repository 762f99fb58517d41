using System.Threading.Channels;

namespace Retour.Infrastructure.Db;

/// <summary>
/// Group commit for hot database work (ADR 11): callers submit one item each; a few worker loops take whatever has queued
/// (up to <see cref="MaxBatch"/>) and process it as one batch. Nobody waits for a timer — a batch is what arrived while the
/// previous one was in the database. When a batch fails as a whole, its items are processed again one by one, so each
/// caller gets its own result or its own exception.
/// </summary>
public sealed class BatchQueue<TItem, TResult> : IAsyncDisposable
{
    public const int MaxBatch = 64;
    private readonly Channel<(TItem Item, TaskCompletionSource<TResult> Done)> _queue = Channel.CreateUnbounded<(TItem, TaskCompletionSource<TResult>)>();
    private readonly Func<IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> _process;
    private readonly Action<IReadOnlyList<TResult>>? _afterBatch;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private Task[] _workers = [];

    public BatchQueue(Func<IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> process, ILogger log, Action<IReadOnlyList<TResult>>? afterBatch = null)
    {
        _process = process;
        _log = log;
        _afterBatch = afterBatch;
    }

    public async Task<TResult> SubmitAsync(TItem item, CancellationToken ct)
    {
        EnsureWorkers();
        var done = new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        await _queue.Writer.WriteAsync((item, done), ct);
        return await done.Task;
    }

    private void EnsureWorkers()
    {
        if (_workers.Length > 0) return;
        lock (_gate)
        {
            if (_workers.Length == 0) _workers = [.. Enumerable.Range(0, Math.Max(2, Environment.ProcessorCount)).Select(_ => Task.Run(WorkAsync))];
        }
    }

    private async Task WorkAsync()
    {
        var batch = new List<(TItem Item, TaskCompletionSource<TResult> Done)>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var p)) batch.Add(p);
            if (batch.Count == 0) continue;
            if (batch.Count > 1 && await RunAsync(batch, throwOnFailure: false)) continue;
            if (batch.Count > 1) _log.LogDebug("A batch of {Count} failed as a whole; processing its items one by one", batch.Count);
            foreach (var one in batch) await RunAsync([one], throwOnFailure: true);
        }
    }

    private async Task<bool> RunAsync(List<(TItem Item, TaskCompletionSource<TResult> Done)> batch, bool throwOnFailure)
    {
        try
        {
            var results = await _process([.. batch.Select(b => b.Item)]);
            for (var i = 0; i < batch.Count; i++) batch[i].Done.TrySetResult(results[i]);
            _afterBatch?.Invoke(results);
            return true;
        }
        catch (Exception e) when (throwOnFailure)
        {
            batch[0].Done.TrySetException(e);
            return false;
        }
        catch (Exception)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_workers);
    }
}
