using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Staff;

public sealed record NoteInput(string? Body);
public sealed record NoteDto(Guid Id, string Author, string Body, DateTimeOffset CreatedAt)
{
    public static NoteDto From(ReturnNote n) => new(n.Id, n.Author, n.Body, n.CreatedAt);
}

/// <summary>Internal notes on a return: GET and POST /api/v1/returns/{id}/notes. Staff only; never shown to shoppers.</summary>
public static class NotesEndpoints
{
    public const int MaxLength = 5000;

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/returns/{idOrRma}/notes", List).RequireScope(Scopes.ReturnsRead).WithName("ListReturnNotes").WithTags("Returns")
            .WithSummary("Internal notes on a return, oldest first");
        api.MapPost("/returns/{idOrRma}/notes", Add).RequireScope(Scopes.ReturnsWrite).WithName("AddReturnNote").WithTags("Returns")
            .WithSummary("Add an internal note").WithDescription("Body: {\"body\": \"…\"} (at most 5000 characters). Staff see it on the return; the shopper never does.");
    }

    public static async Task<Results<Ok<IReadOnlyList<NoteDto>>, ProblemHttpResult>> List(string idOrRma, RetourDb db, CancellationToken ct)
    {
        var ret = await ReadReturns.FindAsync(db.Returns.AsNoTracking(), idOrRma, ct);
        if (ret is null) return Problems.NotFound($"There is no return '{idOrRma}'.");
        var notes = await db.ReturnNotes.AsNoTracking().Where(n => n.ReturnId == ret.Id).OrderBy(n => n.CreatedAt).ThenBy(n => n.Id).ToListAsync(ct);
        return TypedResults.Ok<IReadOnlyList<NoteDto>>([.. notes.Select(NoteDto.From)]);
    }

    public static async Task<IResult> Add(string idOrRma, NoteInput? input, HttpContext http, RetourDb db, IdempotencyScope idem, TimeProvider clock, CancellationToken ct)
    {
        var body = input?.Body?.Trim();
        if (string.IsNullOrEmpty(body)) return Problems.Validation("body", "Write the note.");
        if (body.Length > MaxLength) return Problems.Validation("body", $"At most {MaxLength} characters.");
        var ret = await ReadReturns.FindAsync(db.Returns.AsNoTracking(), idOrRma, ct);
        if (ret is null) return Problems.NotFound($"There is no return '{idOrRma}'.");
        var now = clock.GetUtcNow();
        var actor = Actor.From(http.User);
        var note = new ReturnNote { ReturnId = ret.Id, Author = actor.Label, Body = body, CreatedAt = now };
        db.ReturnNotes.Add(note);
        db.AuditEvents.Add(AuditEvent.Of("return", ret.Id, "note_added", actor, now));
        return await db.CommitAsync(idem, TypedResults.Created($"/api/v1/returns/{ret.Id}/notes", NoteDto.From(note)), now, ct);
    }
}
