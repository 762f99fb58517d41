using Retour.Core;
using System.Diagnostics;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Webhooks;
using Retour.Infrastructure;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Webhooks;

/// <summary>
/// Sends due deliveries. Each is leased first (next_attempt_at moved under the row's concurrency token) so two senders
/// never post the same one at once; a 2xx delivers it, anything else retries with exponential backoff until 24 hours
/// after the event, when it is dead and the endpoint is switched off (its admin is told through the
/// webhook_endpoint.disabled event). Delivery is at least once: receivers deduplicate on Retour-Event-Id.
/// </summary>
public sealed class WebhookSender(IServiceScopeFactory scopes, IHttpClientFactory http, RetourSettings settings, WebhookDirectory directory,
    TimeProvider clock, ILogger<WebhookSender> log)
{
    public const string ClientName = "webhooks";
    private TimeSpan Lease => settings.WebhookTimeout * 2 + TimeSpan.FromSeconds(5);

    public async Task<int> RunDueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        List<(Guid Id, Guid MerchantId)> due;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            // At most 5 per endpoint in a batch, so one slow receiver holds up others by one round at most.
            due = (await db.WebhookDeliveries.IgnoreQueryFilters().AsNoTracking()
                .Where(d => (d.Status == DeliveryStatus.Pending || d.Status == DeliveryStatus.Failed || d.Status == DeliveryStatus.Sending)
                            && d.NextAttemptAt != null && d.NextAttemptAt <= now)
                .OrderBy(d => d.NextAttemptAt).Take(200).Select(d => new { d.Id, d.MerchantId, d.EndpointId }).ToListAsync(ct))
                .GroupBy(d => d.EndpointId).SelectMany(g => g.Take(5)).Take(50).Select(d => (d.Id, d.MerchantId)).ToList();
        }
        if (due.Count == 0) return 0;
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (d, token) =>
        {
            try { await SendAsync(d.Id, d.MerchantId, token); }
            catch (Exception e) when (e is not OperationCanceledException) { log.LogRetried(e, "Webhook delivery {Delivery} failed; its lease ends and it is tried again", d.Id); }
        });
        return due.Count;
    }

    private async Task SendAsync(Guid id, Guid merchantId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(merchantId);
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        var now = clock.GetUtcNow();
        var delivery = await db.WebhookDeliveries.FirstOrDefaultAsync(d => d.Id == id, ct);
        if (delivery is null || delivery.NextAttemptAt is not { } at || at > now || delivery.Status is DeliveryStatus.Delivered or DeliveryStatus.Dead) return;
        var endpoint = await db.WebhookEndpoints.AsNoTracking().FirstOrDefaultAsync(e => e.Id == delivery.EndpointId, ct);
        delivery.UpdatedAt = now;
        if (endpoint is null || !endpoint.Active)
        {
            (delivery.Status, delivery.NextAttemptAt, delivery.LastError) = (DeliveryStatus.Dead, null, "The endpoint is disabled; replay it once the endpoint is active again.");
            await SaveAsync(db, ct);
            return;
        }
        (delivery.Status, delivery.NextAttemptAt) = (DeliveryStatus.Sending, now + Lease);
        if (!await SaveAsync(db, ct)) return; // another sender leased it (or a replay changed it)

        var (status, error, response, ms) = await PostAsync(endpoint, delivery, ct);
        now = clock.GetUtcNow();
        delivery.Attempts++;
        (delivery.LastStatusCode, delivery.LastError, delivery.LastResponse, delivery.LastDurationMs, delivery.LastAttemptAt) = (status, error, response, ms, now);
        delivery.UpdatedAt = now;
        var ok = status is >= 200 and < 300;
        var giveUp = false;
        if (ok) (delivery.Status, delivery.DeliveredAt, delivery.NextAttemptAt) = (DeliveryStatus.Delivered, now, null);
        else
        {
            var next = now + Backoff.Exponential(delivery.Attempts, settings.WebhookRetryBase, Backoff.Hour);
            giveUp = next - delivery.WindowStart > settings.WebhookGiveUpAfter;
            (delivery.Status, delivery.NextAttemptAt) = giveUp ? (DeliveryStatus.Dead, (DateTimeOffset?)null) : (DeliveryStatus.Failed, next);
        }
        // The endpoint's counters and its switch-off are conditional updates in the same transaction: several deliveries
        // finish at once, and only the one that actually switches it off tells the merchant.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (!await SaveAsync(db, ct)) return;
        var id2 = endpoint.Id;
        if (ok)
            await db.WebhookEndpoints.Where(e => e.Id == id2).ExecuteUpdateAsync(u => u.SetProperty(e => e.ConsecutiveFailures, 0).SetProperty(e => e.LastSuccessAt, now), ct);
        else
        {
            await db.WebhookEndpoints.Where(e => e.Id == id2).ExecuteUpdateAsync(u => u.SetProperty(e => e.ConsecutiveFailures, e => e.ConsecutiveFailures + 1), ct);
            if (giveUp)
            {
                // Nothing got through for the whole retry window: switch the endpoint off so its queue stops growing, and
                // tell the merchant's admins. An endpoint that still answers other deliveries stays on.
                var reason = Trim($"Deliveries failed for {settings.WebhookGiveUpAfter.TotalHours:0.#} hours (last: {error ?? $"HTTP {status}"}).", 500);
                var since = delivery.WindowStart;
                // Nor one a person changed (re-activated, pointed elsewhere) since this delivery's window began.
                var switched = await db.WebhookEndpoints.Where(e => e.Id == id2 && e.Active && (e.LastSuccessAt == null || e.LastSuccessAt < since) && e.UpdatedAt <= since)
                    .ExecuteUpdateAsync(u => u
                    .SetProperty(e => e.Active, false).SetProperty(e => e.DisabledAt, now).SetProperty(e => e.DisabledReason, reason).SetProperty(e => e.UpdatedAt, now), ct);
                if (switched == 1)
                {
                    db.Publish("webhook_endpoint.disabled", new { endpoint_id = id2, endpoint.Url, reason }, now);
                    await db.SaveChangesAsync(ct);
                    log.LogWarning("Webhook endpoint {Endpoint} of merchant {Merchant} disabled: {Reason}", id2, merchantId, reason);
                }
            }
        }
        await tx.CommitAsync(ct);
        if (giveUp) directory.Forget(merchantId);
    }

    private async Task<(int? Status, string? Error, string? Response, double Ms)> PostAsync(WebhookEndpoint endpoint, WebhookDelivery delivery, CancellationToken ct)
    {
        var body = Encoding.UTF8.GetBytes(delivery.Body);
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("Retour-Event-Id", delivery.EventId.ToString());
        request.Headers.Add("Retour-Event-Type", delivery.EventType);
        request.Headers.Add("Retour-Delivery-Id", delivery.Id.ToString());
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(endpoint.Secret, clock.GetUtcNow(), body));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(settings.WebhookTimeout);
        var clockStart = Stopwatch.GetTimestamp();
        try
        {
            using var res = await http.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            var text = await ReadSomeAsync(res, cts.Token);
            var ms = Stopwatch.GetElapsedTime(clockStart).TotalMilliseconds;
            return ((int)res.StatusCode, res.IsSuccessStatusCode ? null : $"HTTP {(int)res.StatusCode}", text, ms);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return (null, $"no answer within {settings.WebhookTimeout.TotalSeconds:0.#} s", null, Stopwatch.GetElapsedTime(clockStart).TotalMilliseconds);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            return (null, Trim(e.Message, 1000), null, Stopwatch.GetElapsedTime(clockStart).TotalMilliseconds);
        }
    }

    /// <summary>The first 1,000 characters of the receiver's answer, for the delivery log.</summary>
    private static async Task<string?> ReadSomeAsync(HttpResponseMessage res, CancellationToken ct)
    {
        var buffer = new char[1000];
        using var reader = new StreamReader(await res.Content.ReadAsStreamAsync(ct));
        var n = await reader.ReadBlockAsync(buffer, ct);
        return n == 0 ? null : new string(buffer, 0, n);
    }

    private static async Task<bool> SaveAsync(RetourDb db, CancellationToken ct)
    {
        try { await db.SaveChangesAsync(ct); return true; }
        catch (DbUpdateConcurrencyException) { return false; }
    }

    private static string Trim(string s, int max) => s.Length <= max ? s : s[..max];
}

public sealed class WebhookSenderHost(WebhookSender sender, RetourSettings settings, ILogger<WebhookSenderHost> log) : PollingHost(settings, log)
{
    protected override string What => "Webhook sending";
    protected override TimeSpan Idle => TimeSpan.FromMilliseconds(250);
    protected override async Task<bool> RunOnceAsync(CancellationToken stop) => await sender.RunDueAsync(stop) > 0;
}
