using Microsoft.EntityFrameworkCore;
using Retour.Core.Returns;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Returns;

public sealed record ReturnEvent(Guid ReturnId, string Rma, string OrderNumber, string? From, string To, string? Reason, DateTimeOffset OccurredAt);

/// <summary>
/// The only way a return's status changes: checked against the lifecycle table, audited, and announced through
/// the outbox in the caller's unit of work. A refused move is audited too, so the timeline shows the attempt.
/// </summary>
public static class ReturnTransitions
{
    /// <summary>Asks the carrier to book the parcel of an approved return that travels with one (see ShipmentBooking).</summary>
    public const string ShipmentRequested = "shipment.requested";

    /// <summary>A keep-it return was approved: its refund is due now (see RefundOnEvents). Only those approvals cost the refund handler anything.</summary>
    public const string RefundDue = "refund.due";

    /// <summary>
    /// Moves the return in memory and says what to record: the audit event and the outbox events, or the refusal. The
    /// events are return.{status}, and on approval of a return that ships a parcel with a carrier, shipment.requested
    /// (of a keep-it return, refund.due): only those returns cost the booking (or refund) handler anything, the others are
    /// skipped by type in the relay's claim.
    /// </summary>
    public static (AuditEvent Audit, IReadOnlyList<OutboxMessage> Events, string? Refusal) Plan(Return ret, ReturnStatus to, Actor actor, string? reason, DateTimeOffset now)
    {
        var from = ret.Status;
        if (!ret.TryMoveTo(to, now))
            return (Audit(ret, "transition_refused", from, to, actor, reason, now), [], Lifecycle.Refusal(from, to));
        var payload = new ReturnEvent(ret.Id, ret.Rma, ret.OrderNumber, Codes.Of(from), Codes.Of(to), reason, now);
        var evt = OutboxMessage.Create(ret.MerchantId, "return." + Codes.Of(to), payload, now);
        var ships = to == ReturnStatus.Approved && ret.CarrierCode is not null && ret.Method is ReturnMethod.Pickup or ReturnMethod.DropOff;
        var settles = to == ReturnStatus.Approved && ret.Method == ReturnMethod.Keep;
        return (Audit(ret, "status_changed", from, to, actor, reason, now),
            ships ? [evt, OutboxMessage.Create(ret.MerchantId, ShipmentRequested, payload, now)]
            : settles ? [evt, OutboxMessage.Create(ret.MerchantId, RefundDue, payload, now)]
            : [evt], null);
    }

    /// <summary>
    /// Returns null when the return moved, or the refusal (for a 409) when the lifecycle forbids it. A move into
    /// rejected, cancelled or expired gives the units back to the order lines (the return's lines must be loaded).
    /// </summary>
    public static async Task<string?> MoveAsync(RetourDb db, Return ret, ReturnStatus to, Actor actor, string? reason, DateTimeOffset now, CancellationToken ct)
    {
        var from = ret.Status;
        var (audit, events, refusal) = Plan(ret, to, actor, reason, now);
        db.AuditEvents.Add(audit);
        db.OutboxMessages.AddRange(events);
        if (refusal is null && Lifecycle.ReleasesQuantity(to) && !Lifecycle.ReleasesQuantity(from)) await ReleaseAsync(db, ret, ct);
        return refusal;
    }

    /// <summary>
    /// Gives the return's units back to its order lines. It runs inside the caller's transaction and takes the locks in
    /// the order the return write takes them (the order, then its lines), so the two can never deadlock each other.
    /// The version moves too, so a return judged on the old quantities cannot commit over this change.
    /// </summary>
    private static async Task ReleaseAsync(RetourDb db, Return ret, CancellationToken ct)
    {
        if (db.Database.CurrentTransaction is null)
            throw new InvalidOperationException("Releasing a return's units needs a transaction; begin one before moving it.");
        var orderId = ret.OrderId;
        await db.Orders.Where(o => o.Id == orderId).ExecuteUpdateAsync(s => s.SetProperty(o => o.Version, o => o.Version + 1), ct);
        foreach (var line in ret.Lines.GroupBy(l => l.OrderLineId).Select(g => (Id: g.Key, Quantity: g.Sum(l => l.Quantity))))
            await db.OrderLines.Where(l => l.Id == line.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.ReturnedQuantity, l => Math.Max(0, l.ReturnedQuantity - line.Quantity)), ct);
    }

    /// <summary>The creation of a return (status requested) with what was asked for.</summary>
    public static (AuditEvent Audit, OutboxMessage Event) Created(Return ret, Actor actor, object request, DateTimeOffset now) =>
    (
        new AuditEvent
        {
            MerchantId = ret.MerchantId, EntityType = "return", EntityId = ret.Id, Action = "created", ToState = Codes.Of(ret.Status),
            ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name,
            DataJson = Infrastructure.Http.Json.Serialize(request), OccurredAt = now,
        },
        OutboxMessage.Create(ret.MerchantId, "return.requested", new ReturnEvent(ret.Id, ret.Rma, ret.OrderNumber, null, Codes.Of(ret.Status), null, now), now)
    );

    private static AuditEvent Audit(Return ret, string action, ReturnStatus from, ReturnStatus to, Actor actor, string? reason, DateTimeOffset now) => new()
    {
        MerchantId = ret.MerchantId, EntityType = "return", EntityId = ret.Id, Action = action, FromState = Codes.Of(from), ToState = Codes.Of(to),
        ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name, Reason = reason, OccurredAt = now,
    };
}
