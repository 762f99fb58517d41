using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Returns;
using Retour.Core.Tracking;
using Retour.Features.Returns;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Carriers;

/// <summary>What a carrier answered to a booking.</summary>
public sealed record Booking(string TrackingNumber, string FirstCode, string FirstMessage);

/// <summary>
/// Retour's built-in carrier, for the demo and tests: it books at once and offline. Its tracking numbers are derived from
/// the return, so a redelivered approval books the same parcel again rather than a second one.
/// </summary>
public static class SandboxCarrier
{
    public static Booking Book(Return ret, string service)
    {
        var digits = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(ret.Id.ToString("N"))))[..12];
        return service == "pickup"
            ? new Booking("SBX" + digits, "PU_BOOKED", $"Pickup booked for {ret.PickupDate:yyyy-MM-dd}")
            : new Booking("SBX" + digits, "LABEL", service == "box_free" ? "QR code issued for box-free drop-off" : "Label created");
    }
}

/// <summary>
/// On approval (shipment.requested, raised only for returns that ship a parcel with a carrier), books the return's parcel with its carrier: a shipment with a tracking number and a first event, and the
/// return moves to awaiting_shipment (label issued or pickup booked). Runs from the outbox, outside the shopper's request.
/// </summary>
public sealed class ShipmentBooking(TrackingMaps maps, TimeProvider clock) : IOutboxHandler
{
    public string Name => "shipment_booking";
    public IReadOnlyCollection<string> Types { get; } = [ReturnTransitions.ShipmentRequested];

    public async Task HandleAsync(OutboxMessage message, RetourDb db, IServiceProvider services, CancellationToken ct)
    {
        var evt = Json.Deserialize<ReturnEvent>(message.Payload);
        if (evt is null) return;
        var ret = await db.Returns.FirstOrDefaultAsync(r => r.Id == evt.ReturnId, ct);
        if (ret is null || ret.Status != ReturnStatus.Approved || ret.CarrierCode is null || ret.Method is not (ReturnMethod.Pickup or ReturnMethod.DropOff)) return;
        if (await db.Shipments.AnyAsync(s => s.ReturnId == ret.Id && s.CancelledAt == null, ct)) return;
        var carrier = await db.Carriers.AsNoTracking().FirstOrDefaultAsync(c => c.Code == ret.CarrierCode, ct);
        if (carrier is null || carrier.Adapter != "sandbox") return; // other adapters arrive with the carrier registry

        var service = ret.BoxFree ? "box_free" : Codes.Of(ret.Method);
        var booking = SandboxCarrier.Book(ret, service);
        var now = clock.GetUtcNow();
        var mapping = maps.Current.Find("sandbox", carrier.Code, [booking.FirstCode]);
        var status = mapping?.Status ?? TrackingStatus.InfoReceived;
        var shipment = new Shipment
        {
            ReturnId = ret.Id, CarrierCode = carrier.Code, Service = service, TrackingNumber = booking.TrackingNumber, PickupDate = ret.PickupDate,
            Status = Codes.Of(status), StatusAt = now, CreatedAt = now, UpdatedAt = now,
        };
        db.Shipments.Add(shipment);
        db.TrackingEvents.Add(new TrackingEvent
        {
            ShipmentId = shipment.Id, Provider = "sandbox", EventKey = booking.FirstCode.ToLowerInvariant(), Status = Codes.Of(status),
            RawCode = booking.FirstCode, Message = booking.FirstMessage, OccurredAt = now, ReceivedAt = now,
        });
        await ReturnTransitions.MoveAsync(db, ret, ReturnStatus.AwaitingShipment, new Actor("carrier", carrier.Code, carrier.Name),
            $"{carrier.Name} {booking.TrackingNumber}: {booking.FirstMessage}", now, ct);
    }
}
