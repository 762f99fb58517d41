using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Addresses;
using Retour.Core.Logistics;
using Retour.Core.Returns;
using Retour.Features.Portal;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Carriers;

/// <summary>
/// What the failed-pickup events carry: the case, why the pickup failed, and the signed link where the shopper answers
/// (RespondUrl, absolute; the notification puts it in the message). Escalated says support has it.
/// </summary>
public sealed record NdrEvent(
    Guid CaseId, Guid ReturnId, string Rma, string Carrier, string TrackingNumber, int Attempt, string Reason, string? Message,
    string State, string? RespondUrl, DateTimeOffset? AnswerBy, DateOnly? PickupDate, string? EscalationReason, DateTimeOffset OccurredAt);

/// <summary>A request to book a failed pickup again, handled by <see cref="PickupRebooking"/> from the outbox.</summary>
public sealed record RebookRequest(Guid CaseId, Guid ShipmentId, DateOnly PickupDate);

/// <summary>
/// The failed-pickup (NDR) flow around <see cref="PickupRecovery"/>: a case per failed attempt, opened by tracking; the
/// shopper's (or support's) answer, which books a re-attempt through the outbox; escalation to support when attempts or
/// time run out. Every step is audited on the return and announced through the outbox.
/// </summary>
public sealed class PickupRecoveryFlow(MerchantDirectory merchants, IDataProtectionProvider protection, RetourSettings settings)
{
    public const string FailedEvent = "shipment.pickup_failed";
    public const string EscalatedEvent = "shipment.pickup_escalated";
    public const string RebookedEvent = "shipment.pickup_rebooked";
    public const string RebookRequested = "shipment.rebook_requested";
    /// <summary>The return's flag while support owns the failed pickup (the support queue filters on it).</summary>
    public const string EscalatedFlag = "pickup_escalated";

    /// <summary>Where the shopper answers: the pickup page of the return, opened by the same signed token as its status page.</summary>
    public string RespondUrl(string slug, Guid merchantId, string rma) =>
        $"{settings.PublicUrl}/r/{slug}/returns/{rma}/pickup?t={Uri.EscapeDataString(PortalPage.StatusToken(protection, merchantId, rma))}";

    /// <summary>
    /// After tracking applied a delivery's events to a shipment: a new failure opens a case (escalated at once when the
    /// attempts are used up) and closes the one before; a collection marks the open cases recovered.
    /// </summary>
    public async Task OnTrackingAsync(RetourDb db, Shipment s, Return ret, TrackingEvent? latestFailure, DateTimeOffset now, CancellationToken ct)
    {
        var cases = await db.NdrCases.Where(c => c.ShipmentId == s.Id && c.State != NdrState.Recovered && c.State != NdrState.FailedAgain && c.State != NdrState.Closed).ToListAsync(ct);
        if (s.PickedUpAt is not null)
        {
            foreach (var c in cases)
            {
                c.State = NdrState.Recovered;
                c.AnswerBy = null;
                c.UpdatedAt = now;
                Audit(db, ret, "pickup_recovered", Actor.System, $"{s.CarrierCode} collected the parcel after failed attempt {c.Attempt}", now);
            }
            if (cases.Count > 0) ret.Unflag(EscalatedFlag);
            return;
        }
        // Only a failure that is the parcel's latest news opens a case (a late report from before a re-booking does not).
        if (latestFailure is null || s.CancelledAt is not null || s.Status != Codes.Of(Core.Tracking.TrackingStatus.PickupFailed)
            || cases.Any(c => c.Attempt >= s.PickupFailures)) return;
        foreach (var c in cases)
        {
            c.State = NdrState.FailedAgain;
            c.AnswerBy = null;
            c.UpdatedAt = now;
        }
        var merchant = await merchants.GetAsync(ret.MerchantId, ct) ?? throw new InvalidOperationException("No merchant.");
        var step = PickupRecovery.OnFailure(s.PickupFailures, now, merchant.PickupRecovery);
        var ndr = new NdrCase
        {
            MerchantId = ret.MerchantId, ReturnId = ret.Id, ShipmentId = s.Id, Rma = ret.Rma, CarrierCode = s.CarrierCode, Attempt = s.PickupFailures,
            Reason = PickupRecovery.ReasonOf(latestFailure.Incident), RawCode = latestFailure.RawCode, Message = latestFailure.Message,
            FailedAt = latestFailure.OccurredAt, CreatedAt = now, UpdatedAt = now, AnswerBy = step.AnswerBy,
        };
        db.NdrCases.Add(ndr);
        var why = $"attempt {ndr.Attempt}, {ndr.Reason.Replace('_', ' ')}: {ndr.Message ?? ndr.RawCode}";
        if (step.Escalate)
        {
            Escalate(db, ndr, ret, step.EscalationReason!, now);
            return;
        }
        Audit(db, ret, "pickup_failed", new Actor("carrier", s.CarrierCode, s.CarrierCode),
            $"{why}. The shopper was asked to confirm or fix the address and choose a day, by {ndr.AnswerBy:yyyy-MM-dd HH:mm} UTC.", now);
        db.OutboxMessages.Add(OutboxMessage.Create(ret.MerchantId, FailedEvent, Event(ndr, s, RespondUrl(merchant.Slug, merchant.Id, ret.Rma), null), now));
    }

    /// <summary>Hands the case to support: the state, the return's flag, the audit and the event.</summary>
    public static void Escalate(RetourDb db, NdrCase ndr, Return ret, string reason, DateTimeOffset now)
    {
        ndr.State = NdrState.Escalated;
        ndr.EscalationReason = reason;
        ndr.EscalatedAt = now;
        ndr.AnswerBy = null;
        ndr.UpdatedAt = now;
        ret.Flag(EscalatedFlag);
        Audit(db, ret, "pickup_escalated", Actor.System, $"Failed pickup (attempt {ndr.Attempt}, {ndr.Reason.Replace('_', ' ')}) handed to support: {reason}", now);
        db.OutboxMessages.Add(OutboxMessage.Create(ret.MerchantId, EscalatedEvent, new NdrEvent(ndr.Id, ret.Id, ret.Rma, ndr.CarrierCode, "", ndr.Attempt,
            ndr.Reason, ndr.Message, Codes.Of(ndr.State), null, null, null, reason, now), now));
    }

    /// <summary>
    /// The answer to a case, from the shopper's page or from support through the API: checked (the day, and a corrected
    /// address against its country's rules and the carrier's areas), recorded, and sent to the carrier through the outbox.
    /// Returns the field errors, or none when the re-attempt was requested.
    /// </summary>
    public async Task<IReadOnlyList<FieldError>> AnswerAsync(
        RetourDb db, NdrCase ndr, RecoveryAction action, DateOnly? day, PostalAddress? address, Actor actor, DateTimeOffset now, CancellationToken ct)
    {
        if (!PickupRecovery.Open(ndr.State))
            return [new FieldError("state", $"This failed pickup is {Codes.Of(ndr.State).Replace('_', ' ')}; there is nothing to answer.")];
        var carrierRow = await db.Carriers.AsNoTracking().FirstOrDefaultAsync(c => c.Code == ndr.CarrierCode, ct);
        if (carrierRow is null) return [new FieldError("carrier", $"The carrier '{ndr.CarrierCode}' is no longer in the registry; support must book another.")];
        var carrier = carrierRow.ToProfile();
        var merchant = await merchants.GetAsync(ndr.MerchantId, ct) ?? throw new InvalidOperationException("No merchant.");
        var localNow = TimeZoneInfo.ConvertTime(now, merchant.Zone).DateTime;
        var normalized = address is null ? null : AddressRules.Normalize(address);
        var errors = PickupRecovery.Check(action, day, normalized, carrier, localNow);
        if (errors.Count > 0) return errors;

        var ret = await db.Returns.FirstAsync(r => r.Id == ndr.ReturnId, ct);
        if (action == RecoveryAction.FixAddress)
        {
            var before = ret.FromAddressJson is null ? null : Json.Deserialize<PostalAddress>(ret.FromAddressJson);
            ret.FromAddressJson = Json.Serialize(normalized);
            Audit(db, ret, "pickup_address_changed", actor,
                $"{Describe(before)} → {Describe(normalized)}", now);
        }
        ndr.Action = action;
        ndr.AnsweredBy = actor.Type == "shopper" ? "shopper" : $"{actor.Type}:{actor.Label}";
        ndr.AnsweredAt = now;
        ndr.RequestedDate = day;
        ndr.AnswerBy = null;
        ndr.State = NdrState.RebookRequested;
        ndr.UpdatedAt = now;
        ret.Unflag(EscalatedFlag);
        Audit(db, ret, "pickup_rebook_requested", actor,
            $"{(action == RecoveryAction.Confirm ? "Address confirmed" : "Address corrected")}; re-attempt asked for {day:yyyy-MM-dd}", now);
        db.OutboxMessages.Add(OutboxMessage.Create(ret.MerchantId, RebookRequested, new RebookRequest(ndr.Id, ndr.ShipmentId, day!.Value), now));
        return [];
    }

    public static NdrEvent Event(NdrCase c, Shipment s, string? respondUrl, DateOnly? pickupDate) =>
        new(c.Id, c.ReturnId, c.Rma, c.CarrierCode, s.TrackingNumber, c.Attempt, c.Reason, c.Message, Codes.Of(c.State), respondUrl, c.AnswerBy,
            pickupDate, c.EscalationReason, c.UpdatedAt);

    private static string Describe(PostalAddress? a) =>
        a is null ? "the order's address" : string.Join(", ", new[] { a.Line1, a.PostalCode, a.City, a.Country }.Where(x => !string.IsNullOrWhiteSpace(x)));

    public static void Audit(RetourDb db, Return ret, string action, Actor actor, string reason, DateTimeOffset at) => db.AuditEvents.Add(new AuditEvent
    {
        MerchantId = ret.MerchantId, EntityType = "return", EntityId = ret.Id, Action = action, ActorType = actor.Type, ActorId = actor.Id,
        ActorName = actor.Name, Reason = reason.Length > 1000 ? reason[..1000] : reason, OccurredAt = at,
    });
}

/// <summary>
/// Books the re-attempt of a failed pickup with the carrier (shipment.rebook_requested): through the resilience pipeline,
/// once (a redelivered message finds the case rebooked). The shipment gets the new day, the parcel's simulated life a new
/// plan, and the pickup_scheduled event moves the return back to awaiting_shipment. A carrier that refuses hands the case
/// to support; one that does not answer is retried by the outbox.
/// </summary>
public sealed class PickupRebooking(CarrierAdapters adapters, CarrierCalls calls, TrackingMaps maps, RetourSettings settings, TimeProvider clock) : IOutboxHandler
{
    public string Name => "pickup_rebooking";
    public IReadOnlyCollection<string> Types { get; } = [PickupRecoveryFlow.RebookRequested];

    public async Task HandleAsync(OutboxMessage message, RetourDb db, IServiceProvider services, CancellationToken ct)
    {
        var req = Json.Deserialize<RebookRequest>(message.Payload);
        if (req is null) return;
        var ndr = await db.NdrCases.FirstOrDefaultAsync(c => c.Id == req.CaseId, ct);
        if (ndr is null || ndr.State != NdrState.RebookRequested) return;
        var s = await db.Shipments.FirstAsync(x => x.Id == req.ShipmentId, ct);
        var ret = await db.Returns.Include(r => r.Lines).FirstAsync(r => r.Id == ndr.ReturnId, ct);
        var now = clock.GetUtcNow();
        if (s.CancelledAt is not null || ret.Status != ReturnStatus.PickupFailed)
        {
            ndr.State = NdrState.Closed;
            ndr.UpdatedAt = now;
            PickupRecoveryFlow.Audit(db, ret, "pickup_rebook_skipped", Actor.System, $"The return is {Codes.Of(ret.Status)}; no re-attempt was booked.", now);
            return;
        }
        var carrier = await db.Carriers.AsNoTracking().FirstOrDefaultAsync(c => c.Code == s.CarrierCode, ct);
        var adapter = carrier is null ? null : adapters.Find(carrier.Adapter);
        var from = ret.FromAddressJson is null ? null : Json.Deserialize<PostalAddress>(ret.FromAddressJson);
        Booking? booked = null;
        string? refusal = adapter is null ? $"no adapter for carrier '{s.CarrierCode}'" : from is null ? "the return has no pickup address" : null;
        if (refusal is null)
        {
            try { booked = await calls.Pipeline.ExecuteAsync(async t => await adapter!.RebookPickupAsync(s.TrackingNumber, req.PickupDate, from!, carrier!.AdapterOptions, t), ct); }
            catch (CarrierException e) { refusal = e.Message; }
        }
        if (booked is null)
        {
            ndr.RebookError = refusal;
            PickupRecoveryFlow.Escalate(db, ndr, ret, $"{s.CarrierCode} refused the re-attempt: {refusal}", now);
            return;
        }

        var status = maps.Current.Find(adapter!.Name, s.CarrierCode, [booked.FirstCode])?.Status ?? Core.Tracking.TrackingStatus.PickupScheduled;
        await RecordAsync(db, ndr, s, ret, carrier!.Name, req.PickupDate, booked with { PickupWindow = booked.PickupWindow ?? s.PickupWindow }, status, now, ct);
        if (!adapter.PushesEvents && settings.SandboxAutopilot) s.NextPollAt = now + ShipmentBooking.FirstPoll;
        db.OutboxMessages.Add(OutboxMessage.Create(ret.MerchantId, PickupRecoveryFlow.RebookedEvent, PickupRecoveryFlow.Event(ndr, s, null, req.PickupDate), now));
    }

    /// <summary>
    /// What a re-booked pickup changes, wherever it was booked (here, or in the demo's history): the shipment's day, window
    /// and plan, the carrier's confirmation as a tracking event, the case, and the return back to awaiting_shipment.
    /// </summary>
    public static async Task RecordAsync(RetourDb db, NdrCase ndr, Shipment s, Return ret, string carrierName, DateOnly day, Booking booked,
        Core.Tracking.TrackingStatus status, DateTimeOffset at, CancellationToken ct)
    {
        s.PickupDate = day;
        s.PickupWindow = booked.PickupWindow;
        s.PickupRebooks++;
        s.RebookedAt = at;
        s.UpdatedAt = at;
        s.PollFailures = 0;
        s.Status = Codes.Of(status);
        s.StatusAt = at;
        db.TrackingEvents.Add(new TrackingEvent
        {
            MerchantId = s.MerchantId, ShipmentId = s.Id, Provider = "retour", EventKey = $"rebook-{ndr.Id:N}", Status = Codes.Of(status), RawCode = booked.FirstCode,
            Message = booked.FirstMessage, OccurredAt = at, ReceivedAt = at,
        });
        ndr.State = NdrState.Rebooked;
        ndr.RebookedAt = at;
        ndr.UpdatedAt = at;
        await ReturnTransitions.MoveAsync(db, ret, ReturnStatus.AwaitingShipment, new Actor("carrier", s.CarrierCode, carrierName),
            $"{carrierName} {s.TrackingNumber}: {booked.FirstMessage} (after failed attempt {ndr.Attempt})", at, ct);
    }
}
