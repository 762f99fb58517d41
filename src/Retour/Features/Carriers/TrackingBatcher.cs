using Retour.Core.Tracking;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;

namespace Retour.Features.Carriers;

/// <summary>One delivery of tracking events and who sent it.</summary>
public sealed record IngestItem(IReadOnlyList<TrackingUpdate> Updates, Actor Actor);

/// <summary>
/// Group commit for tracking webhooks (as ADR 11 does for returns): deliveries that arrive while the previous batch is in
/// the database are stored together, one transaction per merchant, with one INSERT for all their events. Each delivery still
/// gets its own counts; a batch that fails as a whole is retried delivery by delivery.
/// </summary>
public sealed class TrackingBatcher : IAsyncDisposable
{
    private readonly BatchQueue<(Guid Merchant, IngestItem Item), IngestResult> _queue;
    private readonly IServiceScopeFactory _scopes;
    private readonly TrackingIngest _ingest;

    public TrackingBatcher(IServiceScopeFactory scopes, TrackingIngest ingest, ILogger<TrackingBatcher> log)
    {
        _scopes = scopes;
        _ingest = ingest;
        _queue = new BatchQueue<(Guid, IngestItem), IngestResult>(ProcessAsync, log);
    }

    public Task<IngestResult> SubmitAsync(Guid merchantId, IReadOnlyList<TrackingUpdate> updates, Actor actor, CancellationToken ct) =>
        _queue.SubmitAsync((merchantId, new IngestItem(updates, actor)), ct);

    private async Task<IReadOnlyList<IngestResult>> ProcessAsync(IReadOnlyList<(Guid Merchant, IngestItem Item)> batch)
    {
        var results = new IngestResult[batch.Count];
        foreach (var group in batch.Select((b, i) => (b.Merchant, b.Item, Index: i)).GroupBy(x => x.Merchant))
        {
            await using var scope = _scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(group.Key);
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            var list = group.ToList();
            var stored = await _ingest.IngestManyAsync(db, [.. list.Select(x => x.Item)], CancellationToken.None);
            for (var k = 0; k < list.Count; k++) results[list[k].Index] = stored[k];
        }
        return results;
    }

    public ValueTask DisposeAsync() => _queue.DisposeAsync();
}
