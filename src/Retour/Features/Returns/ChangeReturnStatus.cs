using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Returns;

public sealed record StatusChangeRequest(string? Reason);

/// <summary>POST /api/v1/returns/{id}/approve | reject | cancel, each with a reason. An illegal move is 409 and names the allowed next states.</summary>
public static class ChangeReturnStatus
{
    public static void Map(RouteGroupBuilder api)
    {
        Map(api, "approve", ReturnStatus.Approved, reasonRequired: false);
        Map(api, "reject", ReturnStatus.Rejected, reasonRequired: true);
        Map(api, "cancel", ReturnStatus.Cancelled, reasonRequired: true);
    }

    private static void Map(RouteGroupBuilder api, string action, ReturnStatus target, bool reasonRequired) =>
        api.MapPost($"/returns/{{idOrRma}}/{action}",
                (string idOrRma, StatusChangeRequest? body, HttpContext http, RetourDb db, IdempotencyScope idem, TimeProvider clock, CancellationToken ct) =>
                    Handle(idOrRma, body, target, reasonRequired, http, db, idem, clock, ct))
            .RequireScope(Scopes.ReturnsWrite).WithName($"{char.ToUpperInvariant(action[0])}{action[1..]}Return").WithTags("Returns")
            .WithSummary($"{char.ToUpperInvariant(action[0])}{action[1..]} a return")
            .WithDescription(reasonRequired
                ? "Body: {\"reason\": \"…\"} (required: the shopper and the audit trail see it). 409 names the allowed next states."
                : "Body: {\"reason\": \"…\"} (optional). 409 names the allowed next states.");

    public static async Task<Results<Ok<ReturnDto>, ProblemHttpResult>> Handle(
        string idOrRma, StatusChangeRequest? body, ReturnStatus target, bool reasonRequired,
        HttpContext http, RetourDb db, IdempotencyScope idem, TimeProvider clock, CancellationToken ct)
    {
        var reason = body?.Reason?.Trim();
        if (reasonRequired && string.IsNullOrEmpty(reason))
            return Problems.Validation("reason", "Give a reason; the shopper and the audit trail will see it.");
        if (reason is { Length: > 2000 }) return Problems.Validation("reason", "At most 2000 characters.");

        // Moves that give units back change the order's lines too; they run in one transaction (see ReturnTransitions).
        await using var tx = Lifecycle.ReleasesQuantity(target) ? await db.Database.BeginTransactionAsync(ct) : null;
        var ret = await ReadReturns.FindAsync(db.Returns, idOrRma, ct);
        if (ret is null) return Problems.NotFound($"There is no return '{idOrRma}'.");
        var now = clock.GetUtcNow();
        var refusal = await ReturnTransitions.MoveAsync(db, ret, target, Actor.From(http.User), reason, now, ct);
        if (refusal is not null)
        {
            await db.SaveChangesAsync(ct); // the refused attempt stays in the audit trail
            if (tx is not null) await tx.CommitAsync(ct);
            return Problems.Result(409, "illegal_transition", "This status change is not allowed", refusal,
                new Dictionary<string, object?>
                {
                    ["current_status"] = Codes.Of(ret.Status),
                    ["requested_status"] = Codes.Of(target),
                    ["allowed_next_states"] = Lifecycle.NextStates(ret.Status).Select(Codes.Of).ToArray(),
                });
        }
        try
        {
            var result = await db.CommitAsync(idem, TypedResults.Ok(ReturnDto.From(ret)), now, ct);
            if (tx is not null) await tx.CommitAsync(ct);
            return result;
        }
        catch (Exception e) when (e is DbUpdateConcurrencyException || DbErrors.IsTransient(e))
        {
            return Problems.Result(409, "concurrent_update", "The return changed meanwhile", "Another change to this return committed first. Read it again and retry.");
        }
    }
}
