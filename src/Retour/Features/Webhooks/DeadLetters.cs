using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Webhooks;

/// <summary>An event that failed every delivery attempt (RETOUR_OUTBOX_MAX_ATTEMPTS), as a merchant sees it.</summary>
public sealed record DeadLetterDto(Guid Id, string Type, int Attempts, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? DeadAt, string? Payload)
{
    public static DeadLetterDto From(OutboxMessage m, bool withPayload = false) =>
        new(m.Id, m.Type, m.Attempts, m.LastError, m.CreatedAt, m.DeadAt, withPayload ? m.Payload : null);
}

/// <summary>
/// The dead-letter queue, per merchant: GET /api/v1/dead-letters (newest first, paged), GET /api/v1/dead-letters/{id}
/// (with the payload) and POST /api/v1/dead-letters/{id}/retry, which queues the event again with a fresh set of attempts.
/// The outbox row is the record in both modes (in scaled mode RabbitMQ's dead-letter queue holds a copy for operators),
/// so what a merchant sees is only ever their own events.
/// </summary>
public static class DeadLetterEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("/dead-letters").WithTags("Webhooks");
        g.MapGet("", List).RequireScope(Scopes.WebhooksRead).WithName("ListDeadLetters")
            .WithSummary("Events that failed every delivery attempt").WithDescription("Newest first; cursor and limit page it. type=… narrows it to one event type.");
        g.MapGet("/{id:guid}", Get).RequireScope(Scopes.WebhooksRead).WithName("GetDeadLetter");
        g.MapPost("/{id:guid}/retry", Retry).RequireScope(Scopes.WebhooksWrite).WithName("RetryDeadLetter")
            .WithSummary("Deliver a dead event again").WithDescription("It gets a fresh set of attempts; handlers that already ran for it are skipped (the inbox).");
    }

    /// <summary>This merchant's dead events (the outbox has no tenant filter of its own, so every reader goes through here).</summary>
    public static IQueryable<OutboxMessage> Dead(RetourDb db) =>
        db.OutboxMessages.AsNoTracking().Where(m => m.MerchantId == db.Tenant.MerchantId && m.DeadAt != null);

    public static async Task<Results<Ok<Page<DeadLetterDto>>, ProblemHttpResult>> List(RetourDb db, CancellationToken ct,
        string? type = null, string? cursor = null, string? limit = null)
    {
        var errors = new List<FieldError>(Cursor.Check(limit, cursor, 'd', out var take, out var after));
        if (type is { Length: > 64 }) errors.Add(new("type", "At most 64 characters."));
        if (errors.Count > 0) return Problems.Validation(errors);
        var q = Dead(db);
        if (!string.IsNullOrWhiteSpace(type)) q = q.Where(m => m.Type == type.Trim());
        if (after is { } a) q = q.Where(m => m.CreatedAt < a.At || (m.CreatedAt == a.At && m.Id.CompareTo(a.Id) < 0));
        var rows = await q.OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).Take(take + 1).ToListAsync(ct);
        var more = rows.Count > take;
        if (more) rows.RemoveAt(take);
        return TypedResults.Ok(new Page<DeadLetterDto>([.. rows.Select(m => DeadLetterDto.From(m))], more ? Cursor.Encode('d', rows[^1].CreatedAt, rows[^1].Id) : null, more));
    }

    public static async Task<Results<Ok<DeadLetterDto>, ProblemHttpResult>> Get(Guid id, RetourDb db, CancellationToken ct) =>
        await Dead(db).FirstOrDefaultAsync(m => m.Id == id, ct) is { } m
            ? TypedResults.Ok(DeadLetterDto.From(m, withPayload: true)) : Problems.NotFound($"There is no dead event '{id}'.");

    public static async Task<Results<Accepted<DeadLetterDto>, ProblemHttpResult>> Retry(Guid id, HttpContext http, RetourDb db, OutboxSignal signal,
        TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var m = await Dead(db).FirstOrDefaultAsync(x => x.Id == id, ct);
        if (m is null) return Problems.NotFound($"There is no dead event '{id}' (it may have been retried already).");
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // Only a row still dead is revived: two retries at once queue it once.
        var revived = await db.OutboxMessages.Where(x => x.Id == id && x.MerchantId == db.Tenant.MerchantId && x.DeadAt != null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.DeadAt, (DateTimeOffset?)null).SetProperty(x => x.Attempts, 0).SetProperty(x => x.AvailableAt, now), ct);
        if (revived == 0) return Problems.NotFound($"There is no dead event '{id}' (it may have been retried already).");
        db.AuditEvents.Add(AuditEvent.Of("event", id, "dead_letter_retried", Actor.From(http.User), now, $"{m.Type} after {m.Attempts} attempts"));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        signal.Notify();
        return TypedResults.Accepted($"/api/v1/dead-letters/{id}", DeadLetterDto.From(m) with { DeadAt = null, Attempts = 0 });
    }
}
