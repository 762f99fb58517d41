using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Addresses;
using Retour.Core.Logistics;
using Retour.Core.Returns;
using Retour.Features.Policies;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Carriers;

public sealed record NdrCaseDto(
    Guid Id, Guid ReturnId, string Rma, string Carrier, int Attempt, string Reason, string RawCode, string? Message, NdrState State,
    DateTimeOffset FailedAt, DateTimeOffset? AnswerBy, RecoveryAction? Action, string? AnsweredBy, DateTimeOffset? AnsweredAt, DateOnly? RequestedDate,
    string? EscalationReason, DateTimeOffset? EscalatedAt, DateTimeOffset? RebookedAt, string? RebookError, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static NdrCaseDto From(NdrCase c) => new(c.Id, c.ReturnId, c.Rma, c.CarrierCode, c.Attempt, c.Reason, c.RawCode, c.Message, c.State, c.FailedAt,
        c.AnswerBy, c.Action, c.AnsweredBy, c.AnsweredAt, c.RequestedDate, c.EscalationReason, c.EscalatedAt, c.RebookedAt, c.RebookError, c.CreatedAt, c.UpdatedAt);
}

/// <summary>POST /api/v1/ndr-cases/{id}/rebook: support books the re-attempt for the shopper.</summary>
public sealed record RebookInput(string? Action, string? PickupDate, PostalAddress? Address);

/// <summary>
/// The failed-pickup (NDR) queue: GET /api/v1/ndr-cases (newest first; state=escalated is the support queue), one case,
/// and POST …/{id}/rebook for support to answer in the shopper's place (confirm or fix the address, choose the day).
/// </summary>
public static class NdrEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/ndr-cases", List).RequireScope(Scopes.ReturnsRead).WithName("ListNdrCases").WithTags("Carriers")
            .WithSummary("Failed pickups (NDR cases)")
            .WithDescription("Newest first. state takes one or more of awaiting_shopper, rebook_requested, rebooked, escalated, recovered, failed_again, closed " +
                             "(comma-separated); state=escalated is the support queue. carrier filters by carrier code. Cursor paging as on /returns.");
        api.MapGet("/ndr-cases/{id:guid}", Get).RequireScope(Scopes.ReturnsRead).WithName("GetNdrCase").WithTags("Carriers");
        api.MapPost("/ndr-cases/{id:guid}/rebook", Rebook).RequireScope(Scopes.ReturnsWrite).WithName("RebookPickup").WithTags("Carriers")
            .WithSummary("Book the re-attempt of a failed pickup")
            .WithDescription("Body: {\"action\": \"confirm\" | \"fix_address\", \"pickup_date\": \"YYYY-MM-DD\", \"address\": {…} (fix_address only)}. " +
                             "The day must be one the carrier collects (from its first pickup day, cut-off respected, Monday to Saturday); a corrected " +
                             "address is checked against its country's rules and the carrier's areas. The carrier is asked through the outbox; the case " +
                             "becomes rebook_requested, then rebooked (or escalated if the carrier refuses). Honours Idempotency-Key.");
    }

    public static async Task<Results<Ok<Page<NdrCaseDto>>, ProblemHttpResult>> List(
        RetourDb db, CancellationToken ct, string? state = null, string? carrier = null, string? cursor = null, string? limit = null)
    {
        var errors = new List<FieldError>();
        errors.AddRange(Cursor.Check(limit, cursor, 'd', out var take, out var after));
        var states = ListFilter.Parse<NdrState>(state, "state", errors, "state");
        if (errors.Count > 0) return Problems.Validation(errors);
        var q = db.NdrCases.AsNoTracking();
        if (states.Count > 0) q = q.Where(c => states.Contains(c.State));
        if (!string.IsNullOrWhiteSpace(carrier)) q = q.Where(c => c.CarrierCode == carrier.Trim());
        if (after is { } a) q = q.Where(c => c.CreatedAt < a.At || (c.CreatedAt == a.At && c.Id.CompareTo(a.Id) < 0));
        var rows = await q.OrderByDescending(c => c.CreatedAt).ThenByDescending(c => c.Id).Take(take + 1).ToListAsync(ct);
        var more = rows.Count > take;
        if (more) rows.RemoveAt(take);
        return TypedResults.Ok(new Page<NdrCaseDto>([.. rows.Select(NdrCaseDto.From)], more ? Cursor.Encode('d', rows[^1].CreatedAt, rows[^1].Id) : null, more));
    }

    public static async Task<Results<Ok<NdrCaseDto>, ProblemHttpResult>> Get(Guid id, RetourDb db, CancellationToken ct) =>
        await db.NdrCases.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id, ct) is { } c
            ? TypedResults.Ok(NdrCaseDto.From(c))
            : Problems.NotFound($"There is no failed pickup '{id}'.");

    public static async Task<Results<Ok<NdrCaseDto>, ProblemHttpResult>> Rebook(
        Guid id, HttpContext http, RetourDb db, PickupRecoveryFlow flow, IdempotencyScope idem, TimeProvider clock, CancellationToken ct)
    {
        var (input, problem) = await http.Request.ReadStrictJsonAsync<RebookInput>("Send {\"action\": \"confirm\", \"pickup_date\": \"YYYY-MM-DD\"}.", ct);
        if (input is null) return problem!;
        var errors = new List<FieldError>();
        if (!Codes.TryParse<RecoveryAction>(input.Action, out var action))
            errors.Add(new("action", $"Use one of: {string.Join(", ", Codes.All<RecoveryAction>())}."));
        DateOnly? day = null;
        if (input.PickupDate is { } text)
        {
            if (DateOnly.TryParseExact(text, "yyyy-MM-dd", out var d)) day = d;
            else errors.Add(new("pickup_date", "Use YYYY-MM-DD."));
        }
        else errors.Add(new("pickup_date", "Choose the day the carrier should come (YYYY-MM-DD)."));
        if (action != RecoveryAction.FixAddress && input.Address is not null && errors.Count == 0)
            errors.Add(new("address", "An address is only sent with action fix_address."));
        if (errors.Count > 0) return Problems.Validation(errors);

        var ndr = await db.NdrCases.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (ndr is null) return Problems.NotFound($"There is no failed pickup '{id}'.");
        if (!PickupRecovery.Open(ndr.State))
            return Problems.Result(409, "ndr_not_open", "This failed pickup is not open",
                $"The case is {Codes.Of(ndr.State)}; only awaiting_shopper and escalated cases can be re-booked.");
        var now = clock.GetUtcNow();
        var problems = await flow.AnswerAsync(db, ndr, action, day, input.Address, Actor.From(http.User), now, ct);
        if (problems.Count > 0) return Problems.Validation(problems);
        try
        {
            return await db.CommitAsync(idem, TypedResults.Ok(NdrCaseDto.From(ndr)), now, ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            return Problems.Result(409, "concurrent_update", "The failed pickup changed meanwhile", "Someone answered it or it moved on. Read it again.");
        }
    }
}
