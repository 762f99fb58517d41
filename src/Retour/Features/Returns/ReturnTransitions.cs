using Retour.Core.Returns;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;

namespace Retour.Features.Returns;

public sealed record ReturnEvent(Guid ReturnId, string Rma, string OrderNumber, string? From, string To, string? Reason, DateTimeOffset OccurredAt);

/// <summary>
/// The only way a return's status changes: checked against the lifecycle table, audited, and announced through
/// the outbox in the caller's unit of work. A refused move is audited too, so the timeline shows the attempt.
/// </summary>
public static class ReturnTransitions
{
    /// <summary>Returns null when the return moved, or the refusal (for a 409) when the lifecycle forbids it.</summary>
    public static string? Move(RetourDb db, Return ret, ReturnStatus to, Actor actor, string? reason, DateTimeOffset now)
    {
        var from = ret.Status;
        if (!ret.TryMoveTo(to, now))
        {
            db.AuditEvents.Add(Audit(ret, "transition_refused", from, to, actor, reason, now));
            return Lifecycle.Refusal(from, to);
        }
        db.AuditEvents.Add(Audit(ret, "status_changed", from, to, actor, reason, now));
        db.Publish("return." + Codes.Of(to), new ReturnEvent(ret.Id, ret.Rma, ret.OrderNumber, Codes.Of(from), Codes.Of(to), reason, now), now);
        return null;
    }

    /// <summary>Records the creation of a return (status requested) with what was asked for.</summary>
    public static void Created(RetourDb db, Return ret, Actor actor, object request, DateTimeOffset now)
    {
        db.AuditEvents.Add(new AuditEvent
        {
            EntityType = "return", EntityId = ret.Id, Action = "created", ToState = Codes.Of(ret.Status),
            ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name,
            DataJson = Infrastructure.Http.Json.Serialize(request), OccurredAt = now,
        });
        db.Publish("return.requested", new ReturnEvent(ret.Id, ret.Rma, ret.OrderNumber, null, Codes.Of(ret.Status), null, now), now);
    }

    private static AuditEvent Audit(Return ret, string action, ReturnStatus from, ReturnStatus to, Actor actor, string? reason, DateTimeOffset now) => new()
    {
        EntityType = "return", EntityId = ret.Id, Action = action, FromState = Codes.Of(from), ToState = Codes.Of(to),
        ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name, Reason = reason, OccurredAt = now,
    };
}
