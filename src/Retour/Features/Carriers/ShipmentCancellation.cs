using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Returns;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Carriers;

/// <summary>
/// When a return is cancelled, its shipment is cancelled with the carrier (label voided, pickup called off), polling stops
/// and the shipment records it. A carrier that does not answer is retried by the outbox with backoff.
/// </summary>
public sealed class ShipmentCancellation(CarrierAdapters adapters, CarrierCalls calls, TimeProvider clock) : IOutboxHandler
{
    public string Name => "shipment_cancellation";
    public IReadOnlyCollection<string> Types { get; } = ["return.cancelled"];

    public async Task HandleAsync(OutboxMessage message, RetourDb db, IServiceProvider services, CancellationToken ct)
    {
        var evt = Json.Deserialize<ReturnEvent>(message.Payload);
        if (evt is null) return;
        var shipments = await db.Shipments.Where(s => s.ReturnId == evt.ReturnId && s.CancelledAt == null).ToListAsync(ct);
        foreach (var s in shipments)
        {
            var carrier = await db.Carriers.AsNoTracking().FirstOrDefaultAsync(c => c.Code == s.CarrierCode, ct);
            if (carrier is not null && adapters.Find(carrier.Adapter) is { } adapter)
            {
                await calls.Pipeline.ExecuteAsync(async t => await adapter.CancelAsync(s.TrackingNumber, carrier.AdapterOptions, t), ct);
            }
            var now = clock.GetUtcNow();
            s.CancelledAt = now;
            s.NextPollAt = null;
            s.LabelExpiresAt = null;
            s.UpdatedAt = now;
            var what = s.Service == "pickup" ? $"pickup on {s.PickupDate:yyyy-MM-dd} called off" : "label voided";
            db.TrackingEvents.Add(new TrackingEvent
            {
                ShipmentId = s.Id, Provider = "retour", EventKey = "cancelled", RawCode = "CANCELLED",
                Message = $"Shipment cancelled with the return: {what}", OccurredAt = now, ReceivedAt = now,
            });
            db.AuditEvents.Add(new AuditEvent
            {
                EntityType = "return", EntityId = s.ReturnId, Action = "shipment_cancelled", ActorType = "carrier", ActorId = s.CarrierCode,
                ActorName = carrier?.Name ?? s.CarrierCode, Reason = $"{s.TrackingNumber}: {what}", OccurredAt = now,
            });
        }
    }
}
