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
    /// <summary>Moves the return in memory and says what to record: the audit event, the outbox event, or the refusal.</summary>
    public static (AuditEvent Audit, OutboxMessage? Event, string? Refusal) Plan(Return ret, ReturnStatus to, Actor actor, string? reason, DateTimeOffset now)
    {
        var from = ret.Status;
        if (!ret.TryMoveTo(to, now))
            return (Audit(ret, "transition_refused", from, to, actor, reason, now), null, Lifecycle.Refusal(from, to));
        var evt = OutboxMessage.Create(ret.MerchantId, "return." + Codes.Of(to),
            new ReturnEvent(ret.Id, ret.Rma, ret.OrderNumber, Codes.Of(from), Codes.Of(to), reason, now), now);
        return (Audit(ret, "status_changed", from, to, actor, reason, now), evt, null);
    }

    /// <summary>
    /// Returns null when the return moved, or the refusal (for a 409) when the lifecycle forbids it. A move into
    /// rejected, cancelled or expired gives the units back to the order lines (the return's lines must be loaded).
    /// </summary>
    public static async Task<string?> MoveAsync(RetourDb db, Return ret, ReturnStatus to, Actor actor, string? reason, DateTimeOffset now, CancellationToken ct)
    {
        var from = ret.Status;
        var (audit, evt, refusal) = Plan(ret, to, actor, reason, now);
        db.AuditEvents.Add(audit);
        if (evt is not null) db.OutboxMessages.Add(evt);
        if (refusal is null && Lifecycle.ReleasesQuantity(to) && !Lifecycle.ReleasesQuantity(from)) await ReleaseAsync(db, ret, ct);
        return refusal;
    }

    private static async Task ReleaseAsync(RetourDb db, Return ret, CancellationToken ct)
    {
        var ids = ret.Lines.Select(l => l.OrderLineId).ToList();
        var lines = await db.OrderLines.Where(l => ids.Contains(l.Id)).ToDictionaryAsync(l => l.Id, ct);
        foreach (var rl in ret.Lines)
            if (lines.TryGetValue(rl.OrderLineId, out var line)) line.ReturnedQuantity = Math.Max(0, line.ReturnedQuantity - rl.Quantity);
        // The version moves too, so a return judged on the old quantities cannot commit over this change.
        var order = await db.Orders.FirstAsync(o => o.Id == ret.OrderId, ct);
        order.Version++;
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
