using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Returns;
using Retour.Features.Carriers;
using Retour.Features.Refunds;
using Retour.Features.Returns;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Webhooks;

/// <summary>The events a merchant can subscribe to: every status a return reaches, and what happens to money, stock and parcels.</summary>
public static class WebhookEvents
{
    public const string All = "*";

    public static readonly IReadOnlyList<string> Types =
    [
        "return.requested", .. Codes.All<ReturnStatus>().Where(s => s != "requested").Select(s => "return." + s), CarrierWorker.ExpiredEvent, CarrierWorker.ExpiringEvent,
        "refund.created", "refund.issued", "refund.failed", "refund.needs_attention",
        "store_credit.issued", "store_credit.redeemed", "exchange.order_created", "exchange.payment_requested", "exchange.shipped",
        "disposition.confirmed", "inventory.adjusted", "rtv_batch.shipped", "warehouse.unmatched_parcel",
        "order.created", "order.updated", "policy.updated",
    ];

    public static bool Matches(IReadOnlyCollection<string> subscribed, string type) => subscribed.Contains(All) || subscribed.Contains(type);
}

/// <summary>
/// Which merchants subscribe to what, cached for a few seconds so the outbox relay can pass over events nobody listens to
/// without a query each. Changes through the API forget the merchant at once; another process sees them within <see cref="Ttl"/>.
/// </summary>
public sealed class WebhookDirectory(IServiceScopeFactory scopes, TimeProvider clock)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(3);
    private readonly ConcurrentDictionary<Guid, (DateTimeOffset At, string[][] Subscriptions)> _cache = new();
    private long _generation;

    public async ValueTask<bool> AnyFor(Guid merchantId, string type, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (!_cache.TryGetValue(merchantId, out var entry) || now - entry.At > Ttl)
        {
            var generation = Interlocked.Read(ref _generation);
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(merchantId);
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            var events = await db.WebhookEndpoints.AsNoTracking().Where(e => e.Active).Select(e => e.EventsJson).ToListAsync(ct);
            entry = (now, [.. events.Select(j => JsonSerializer.Deserialize<string[]>(j) ?? [])]);
            // A change committed while this read ran (Forget bumped the generation) may be missing from it: use it once, keep nothing.
            if (Interlocked.Read(ref _generation) == generation) _cache[merchantId] = entry;
        }
        return entry.Subscriptions.Any(s => WebhookEvents.Matches(s, type));
    }

    public void Forget(Guid merchantId)
    {
        Interlocked.Increment(ref _generation);
        _cache.TryRemove(merchantId, out _);
        _anyAnywhere = true; // a new or changed endpoint: claim events again until the next look says otherwise
    }

    private volatile bool _anyAnywhere = true;
    private long _anyCheckedTicks;
    private int _checking;

    /// <summary>
    /// Whether any merchant has an active endpoint (refreshed in the background every <see cref="Ttl"/>): while none does,
    /// the relay does not claim events for webhooks at all.
    /// </summary>
    public bool AnyAnywhere
    {
        get
        {
            var now = clock.GetUtcNow().UtcTicks;
            if (now - Interlocked.Read(ref _anyCheckedTicks) > Ttl.Ticks && Interlocked.CompareExchange(ref _checking, 1, 0) == 0)
                _ = Task.Run(async () =>
                {
                    try
                    {
                        var generation = Interlocked.Read(ref _generation);
                        await using var scope = scopes.CreateAsyncScope();
                        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
                        var any = await db.WebhookEndpoints.IgnoreQueryFilters().AnyAsync(e => e.Active);
                        if (Interlocked.Read(ref _generation) == generation) _anyAnywhere = any;
                        Interlocked.Exchange(ref _anyCheckedTicks, clock.GetUtcNow().UtcTicks);
                    }
                    catch (Exception) { _anyAnywhere = true; } // unsure: claim
                    finally { Interlocked.Exchange(ref _checking, 0); }
                });
            return _anyAnywhere;
        }
    }
}

/// <summary>
/// Turns an event into one delivery per subscribed endpoint, in the relay's unit of work (so a redelivered message adds
/// nothing: the inbox row and the unique endpoint × event pair). The body is built once here, with the resource as it is
/// now (the return or the refund), and sent unchanged by every attempt and replay.
/// </summary>
public sealed class WebhookFanOut(WebhookDirectory directory, TimeProvider clock) : IOutboxHandler
{
    public string Name => "webhooks";
    public IReadOnlyCollection<string> Types => WebhookEvents.Types;

    public ValueTask<bool> WantsAsync(OutboxMessage message, CancellationToken ct) => directory.AnyFor(message.MerchantId, message.Type, ct);
    public bool IsActive => directory.AnyAnywhere;

    public async Task HandleAsync(OutboxMessage message, RetourDb db, IServiceProvider services, CancellationToken ct)
    {
        var endpoints = (await db.WebhookEndpoints.AsNoTracking().Where(e => e.Active).Select(e => new { e.Id, e.EventsJson }).ToListAsync(ct))
            .Where(e => WebhookEvents.Matches(JsonSerializer.Deserialize<string[]>(e.EventsJson) ?? [], message.Type)).ToList();
        if (endpoints.Count == 0) return;
        var body = JsonSerializer.Serialize(new
        {
            id = message.Id, type = message.Type, created_at = message.CreatedAt, data = await ResourceAsync(db, message, ct),
        }, Json.Options);
        var now = clock.GetUtcNow();
        var already = await db.WebhookDeliveries.AsNoTracking().Where(d => d.EventId == message.Id).Select(d => d.EndpointId).ToListAsync(ct);
        foreach (var e in endpoints.Where(e => !already.Contains(e.Id)))
            db.WebhookDeliveries.Add(new WebhookDelivery
            {
                EndpointId = e.Id, EventId = message.Id, EventType = message.Type, Body = body, NextAttemptAt = now, CreatedAt = now, UpdatedAt = now,
            });
    }

    /// <summary>The resource the event is about, as the API shows it: the return for return.*, the refund for refund.*, else the event's own data.</summary>
    private static async Task<object?> ResourceAsync(RetourDb db, OutboxMessage message, CancellationToken ct)
    {
        using var doc = JsonDocument.Parse(message.Payload);
        var root = doc.RootElement;
        if (message.Type.StartsWith("return.", StringComparison.Ordinal) && root.TryGetProperty("return_id", out var rid) && rid.TryGetGuid(out var returnId)
            && await db.Returns.AsNoTracking().Include(r => r.Lines).FirstOrDefaultAsync(r => r.Id == returnId, ct) is { } ret)
            return ReturnDto.From(ret);
        if (message.Type.StartsWith("refund.", StringComparison.Ordinal) && root.TryGetProperty("refund_id", out var fid) && fid.TryGetGuid(out var refundId)
            && await db.Refunds.AsNoTracking().FirstOrDefaultAsync(r => r.Id == refundId, ct) is { } refund)
            return RefundDto.From(refund);
        return root.Clone();
    }
}
