using Microsoft.Extensions.Logging.Abstractions;
using Retour.Infrastructure.Db;
using Xunit;

namespace Retour.Tests.Infrastructure;

public sealed class BatchQueueTests
{
    [Fact]
    public async Task ItemsSubmittedTogether_AreProcessedTogether_AndEachGetsItsOwnResult()
    {
        var sizes = new List<int>();
        var gate = new TaskCompletionSource();
        await using var queue = new BatchQueue<int, int>(async items =>
        {
            lock (sizes) sizes.Add(items.Count);
            await gate.Task;
            return [.. items.Select(i => i * 10)];
        }, NullLogger.Instance);

        var first = queue.SubmitAsync(0, CancellationToken.None);       // occupies the workers' first batch
        var more = Enumerable.Range(1, 20).Select(i => queue.SubmitAsync(i, CancellationToken.None)).ToList();
        await Task.Delay(100);
        gate.SetResult();
        Assert.Equal(0, await first);
        Assert.Equal(Enumerable.Range(1, 20).Select(i => i * 10), await Task.WhenAll(more));
        Assert.True(sizes.Count < 21, $"expected grouping, got batches of {string.Join(",", sizes)}");
    }

    [Fact]
    public async Task WhenABatchFails_EachItemIsTriedAlone_AndOnlyTheBadOneFails()
    {
        var block = new TaskCompletionSource();
        await using var queue = new BatchQueue<int, int>(async items =>
        {
            await block.Task;
            if (items.Contains(13)) throw new InvalidOperationException("unlucky");
            return [.. items];
        }, NullLogger.Instance);

        var tasks = Enumerable.Range(10, 6).Select(i => queue.SubmitAsync(i, CancellationToken.None)).ToList();
        await Task.Delay(50);
        block.SetResult();
        foreach (var (task, i) in tasks.Select((t, k) => (t, k + 10)))
        {
            if (i == 13) await Assert.ThrowsAsync<InvalidOperationException>(() => task);
            else Assert.Equal(i, await task);
        }
    }
}
