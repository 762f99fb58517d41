using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Addresses;
using Retour.Core.Logistics;
using Retour.Core.Returns;
using Retour.Core.Tracking;
using Retour.Features.Policies;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Carriers;

/// <summary>What allocation reads besides the return: the registry, the rules, today's bookings and the measured performance.</summary>
public sealed record AllocationInputs(
    IReadOnlyList<CarrierProfile> Carriers, IReadOnlyDictionary<string, JsonElement?> Options, AllocationSettings Settings,
    IReadOnlyDictionary<string, int> BookedToday, IReadOnlyDictionary<string, CarrierPerformance> Performance,
    PostalAddress? ReturnAddress, DateTime LocalNow)
{
    public string? WarehouseCountry => ReturnAddress?.Country;
}

public static class Allocation
{
    public static async Task<AllocationInputs> InputsAsync(RetourDb db, CarrierStats stats, LogisticsDirectory logistics, MerchantInfo merchant, TimeProvider clock, CancellationToken ct)
    {
        var rows = await db.Carriers.AsNoTracking().OrderBy(c => c.Code).ToListAsync(ct);
        var now = clock.GetUtcNow();
        var localNow = TimeZoneInfo.ConvertTime(now, merchant.Zone).DateTime;
        // Capacity counts the parcels booked since midnight in the shop's time zone.
        var midnight = Retour.Core.Policies.Returnability.StartOfDay(DateOnly.FromDateTime(localNow), merchant.Zone);
        var booked = await db.Shipments.AsNoTracking().Where(s => s.CreatedAt >= midnight && s.CancelledAt == null)
            .GroupBy(s => s.CarrierCode).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct);
        var place = await logistics.GetAsync(merchant.Id, ct);
        return new AllocationInputs(
            [.. rows.Select(r => r.ToProfile())],
            rows.ToDictionary(r => r.Code, r => r.AdapterOptions),
            await CarrierEndpoints.SettingsAsync(db, ct), booked, await stats.PerformanceAsync(db, ct), place.ReturnAddress, localNow);
    }
}

/// <summary>
/// On approval (shipment.requested, raised only for returns that ship a parcel with a carrier): allocates the carrier,
/// books with it through its adapter (retries and a timeout per call), falls back to the next candidate when the
/// booking fails, and records the decision with every attempt on the shipment. The return moves to awaiting_shipment.
/// Runs from the outbox, outside the shopper's request; a redelivered message finds the shipment and does nothing.
/// </summary>
public sealed class ShipmentBooking(
    TrackingMaps maps, TimeProvider clock, CarrierAdapters adapters, CarrierCalls calls, CarrierStats stats, LogisticsDirectory logistics,
    MerchantDirectory merchants, PolicyBook policies, RetourSettings settings, ILogger<ShipmentBooking> log) : IOutboxHandler
{
    public const string NoCarrierFlag = "carrier_unavailable";
    /// <summary>How soon the poller first asks a carrier without webhooks for news.</summary>
    public static readonly TimeSpan FirstPoll = TimeSpan.FromSeconds(15);

    public string Name => "shipment_booking";
    public IReadOnlyCollection<string> Types { get; } = [ReturnTransitions.ShipmentRequested];

    public async Task HandleAsync(OutboxMessage message, RetourDb db, IServiceProvider services, CancellationToken ct)
    {
        var evt = Json.Deserialize<ReturnEvent>(message.Payload);
        if (evt is null) return;
        var ret = await db.Returns.Include(r => r.Lines).FirstOrDefaultAsync(r => r.Id == evt.ReturnId, ct);
        if (ret is null || ret.Status != ReturnStatus.Approved || ret.Method is not (ReturnMethod.Pickup or ReturnMethod.DropOff)) return;
        if (await db.Shipments.AnyAsync(s => s.ReturnId == ret.Id && s.CancelledAt == null, ct)) return;
        var merchant = await merchants.GetAsync(ret.MerchantId, ct) ?? throw new InvalidOperationException("No merchant.");
        var input = await Allocation.InputsAsync(db, stats, logistics, merchant, clock, ct);
        if (input.Carriers.Count == 0) return;

        var service = ret.BoxFree ? "box_free" : Codes.Of(ret.Method);
        var from = ret.FromAddressJson is null ? null : Json.Deserialize<PostalAddress>(ret.FromAddressJson);
        var lineIds = ret.Lines.Select(l => l.OrderLineId).ToArray();
        var grams = await db.OrderLines.AsNoTracking().Where(l => lineIds.Contains(l.Id)).Select(l => new { l.Id, l.Grams }).ToDictionaryAsync(l => l.Id, l => l.Grams, ct);
        var weight = ret.Lines.Sum(l => (grams.GetValueOrDefault(l.OrderLineId) ?? input.Settings.DefaultUnitGrams) * l.Quantity);
        var request = new AllocationRequest(ret.Id.ToString("N"), service, from, input.WarehouseCountry, Math.Max(1, weight),
            [.. ret.Lines.Select(l => l.Category).Distinct()], ret.PickupDate, input.LocalNow, merchant.Currency, ret.CarrierRequested ? ret.CarrierCode : null);
        var decision = CarrierAllocator.Allocate(request, input.Carriers, input.Settings, input.BookedToday, input.Performance);

        var now = clock.GetUtcNow();
        if (decision.Chosen is null)
        {
            ret.Flag(NoCarrierFlag);
            db.AuditEvents.Add(Audit(ret, "allocation_failed", Actor.System, decision.Explanation, decision, now));
            return; // nothing to retry: support chooses a carrier or changes the registry
        }

        foreach (var candidate in decision.Candidates)
        {
            var carrier = input.Carriers.First(c => c.Code == candidate.Carrier);
            var adapter = adapters.Find(carrier.Adapter);
            if (adapter is null)
            {
                decision = decision.WithAttempt(new BookingAttempt(carrier.Code, false, $"no adapter '{carrier.Adapter}' in this installation", clock.GetUtcNow()));
                continue;
            }
            var booking = new BookingRequest($"{ret.Id:N}:{carrier.Code}", ret.Id, ret.Rma, carrier, service, candidate.PickupDate ?? ret.PickupDate,
                from, input.ReturnAddress, request.Grams, input.Options.GetValueOrDefault(carrier.Code));
            Booking booked;
            try
            {
                booked = await calls.Pipeline.ExecuteAsync(async t => await adapter.BookAsync(booking, t), ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                log.LogWarning(e, "Booking return {Rma} with {Carrier} failed; trying the next carrier", ret.Rma, carrier.Code);
                decision = decision.WithAttempt(new BookingAttempt(carrier.Code, false, e is Polly.Timeout.TimeoutRejectedException ? $"timed out after {settings.CarrierTimeout.TotalSeconds:0.##} s" : e.Message, clock.GetUtcNow()));
                continue;
            }
            decision = decision.WithAttempt(new BookingAttempt(carrier.Code, true, null, clock.GetUtcNow()));
            await RecordAsync(db, ret, carrier, adapter, candidate, service, booked, decision, merchant, ct);
            return;
        }

        // Every candidate failed: keep the record, and let the outbox try the whole booking again later.
        db.AuditEvents.Add(Audit(ret, "shipment_booking_failed", Actor.System, $"Every carrier failed: {string.Join("; ", decision.Attempts.Select(a => $"{a.Carrier}: {a.Error}"))}", decision, now));
        await db.SaveChangesAsync(ct);
        throw new CarrierException($"Return {ret.Rma}: every candidate carrier failed to book.");
    }

    private async Task RecordAsync(RetourDb db, Return ret, CarrierProfile carrier, ICarrierAdapter adapter, CandidateScore candidate, string service,
        Booking booking, AllocationDecision decision, MerchantInfo merchant, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var mapping = maps.Current.Find("sandbox", carrier.Code, [booking.FirstCode]);
        var status = mapping?.Status ?? TrackingStatus.InfoReceived;
        var policy = await policies.GetAsync(db, ret.PolicyVersionId, ct);
        var labelExpires = service != "pickup" && policy.LabelValidDays is { } days ? now.AddDays(days) : (DateTimeOffset?)null;
        var shipment = new Shipment
        {
            ReturnId = ret.Id, CarrierCode = carrier.Code, Service = service, TrackingNumber = booking.TrackingNumber,
            PickupDate = service == "pickup" ? candidate.PickupDate ?? ret.PickupDate : null, PickupWindow = booking.PickupWindow,
            Status = Codes.Of(status), StatusAt = now, CreatedAt = now, UpdatedAt = now, PromisedDays = carrier.TransitDays,
            AllocationJson = Json.Serialize(decision),
            LabelExpiresAt = labelExpires,
            LabelReminderAt = labelExpires is { } expires ? CarrierWorker.ReminderAt(now, expires) : null,
            NextPollAt = !adapter.PushesEvents && settings.SandboxAutopilot ? now + FirstPoll : null,
            SimSeed = SandboxLife.SeedOf(booking.TrackingNumber),
        };
        db.Shipments.Add(shipment);
        db.TrackingEvents.Add(new TrackingEvent
        {
            ShipmentId = shipment.Id, Provider = adapter.Name, EventKey = booking.FirstCode.ToLowerInvariant(), Status = Codes.Of(status),
            RawCode = booking.FirstCode, Message = booking.FirstMessage, OccurredAt = now, ReceivedAt = now,
        });
        if (ret.CarrierCode != carrier.Code)
        {
            db.AuditEvents.Add(Audit(ret, "carrier_allocated", Actor.System, $"{ret.CarrierCode ?? "none"} → {carrier.Code}: {decision.Explanation}", null, now));
            ret.CarrierCode = carrier.Code;
        }
        var fallback = decision.Attempts.Count > 1 ? $" (after {string.Join(", ", decision.Attempts.Where(a => !a.Succeeded).Select(a => a.Carrier))} failed)" : "";
        await ReturnTransitions.MoveAsync(db, ret, ReturnStatus.AwaitingShipment, new Actor("carrier", carrier.Code, carrier.Name),
            $"{carrier.Name} {booking.TrackingNumber}: {booking.FirstMessage}{fallback}", now, ct);
    }

    private static AuditEvent Audit(Return ret, string action, Actor actor, string reason, AllocationDecision? decision, DateTimeOffset at) => new()
    {
        MerchantId = ret.MerchantId, EntityType = "return", EntityId = ret.Id, Action = action, ActorType = actor.Type, ActorId = actor.Id,
        ActorName = actor.Name, Reason = reason.Length > 1000 ? reason[..1000] : reason, DataJson = decision is null ? null : Json.Serialize(decision), OccurredAt = at,
    };
}
