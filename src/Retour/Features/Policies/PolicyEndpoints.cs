using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Policies;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Policies;

public sealed record PolicyDto(int Version, string AppliesTo, DateTimeOffset EffectiveFrom, DateTimeOffset CreatedAt, string CreatedBy, ReturnPolicy Policy)
{
    public static PolicyDto From(PolicyVersion row, ReturnPolicy policy) => new(
        row.Version, row.EffectiveFrom == DateTimeOffset.UnixEpoch ? AllOrders : NewOrders, row.EffectiveFrom, row.CreatedAt, row.CreatedBy, policy);

    public const string NewOrders = "new_orders";
    public const string AllOrders = "all_orders";
}

/// <summary>
/// The body of PUT /api/v1/policy. A GET's answer can be edited and sent back as it is: its descriptive fields
/// (version, applies_to, …) are ignored, and only <c>apply_to</c> chooses which orders the new version judges, so
/// echoing a version that applied to all orders never silently re-judges them.
/// </summary>
public sealed record PolicyUpdate(
    ReturnPolicy? Policy, string? ApplyTo = null,
    int? Version = null, string? AppliesTo = null, DateTimeOffset? EffectiveFrom = null, DateTimeOffset? CreatedAt = null, string? CreatedBy = null);

/// <summary>GET /api/v1/policy (the current version) and PUT /api/v1/policy (a new version; returns in flight keep theirs).</summary>
public static class PolicyEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/policy", Get).RequireScope(Scopes.PolicyRead).WithName("GetPolicy").WithTags("Policy");
        api.MapPut("/policy", Put).RequireScope(Scopes.PolicyWrite).WithName("PutPolicy").WithTags("Policy")
            .Accepts<PolicyUpdate>("application/json")
            .WithSummary("Create a new policy version")
            .WithDescription("Body: {\"policy\": {…}, \"apply_to\": \"new_orders\" | \"all_orders\"}. new_orders (default) judges orders placed from now on by this version; all_orders also judges earlier orders. Returns already made keep their version. A GET answer can be sent back as it is. Unknown fields are refused.");
        api.MapPost("/policy/check", Check).RequireScope(Scopes.PolicyRead).RequireScope(Scopes.OrdersRead).WithName("CheckPolicy").WithTags("Policy")
            .WithSummary("What would happen to this order under a draft policy")
            .WithDescription("Body: {\"order_number\": \"…\", \"policy\": {…} (a draft; omitted: the current version), \"at\": \"2026-01-15T10:00:00Z\" (omitted: now)}. " +
                             "Answers, per line, the verdict under the policy that judges the order today and under the draft, and which lines change. Nothing is saved.");
    }

    public sealed record CheckInput(string? OrderNumber, ReturnPolicy? Policy, DateTimeOffset? At);
    public sealed record CheckLine(string OrderLineId, string Title, string Category, int Quantity, LineReturnabilityDto Current, LineReturnabilityDto Draft, bool Changed);
    public sealed record CheckResult(string OrderNumber, DateTimeOffset At, int CurrentVersion, IReadOnlyList<CheckLine> Lines, int Changed);

    public static async Task<IResult> Check(HttpContext http, RetourDb db, ReturnServices services, Infrastructure.Localization.Texts texts, TimeProvider clock,
        CancellationToken ct, string? lang = null)
    {
        CheckInput? input;
        try { input = await JsonSerializer.DeserializeAsync<CheckInput>(http.Request.Body, PolicyBook.StrictJson, ct); }
        catch (JsonException e) { return Problems.Validation(e.Path is { Length: > 2 } path ? path[2..] : "body", "This is not valid here: " + e.Message.Split('.')[0] + "."); }
        var errors = new List<Retour.Core.FieldError>();
        if (string.IsNullOrWhiteSpace(input?.OrderNumber)) errors.Add(new("order_number", "Which order? Give its number."));
        if (input?.Policy is { } draftPolicy) errors.AddRange(PolicyValidator.Validate(draftPolicy).Select(e => e with { Field = "policy." + e.Field }));
        if (errors.Count > 0) return Problems.Validation(errors);
        var (state, _) = await ReturnableOrder.LoadAsync(db, services, input!.OrderNumber!.Trim(), null, ct);
        if (state is null) return Problems.NotFound($"There is no order '{input.OrderNumber}'.");
        var at = input.At ?? clock.GetUtcNow();
        var locale = Infrastructure.Localization.Texts.Choose(lang, http.Request.Headers.AcceptLanguage, null, state.Merchant.DefaultLocale);
        var current = state.Judge(at);
        var draft = Returnability.Evaluate(state.Facts, input.Policy ?? state.Policy.Policy, at, state.Merchant.Zone);
        var lines = current.Zip(draft, (c, d) =>
        {
            var (cd, dd) = (GetReturnability.ToDto(c, state, locale, texts), GetReturnability.ToDto(d, state, locale, texts));
            var changed = cd.Returnable != dd.Returnable || cd.ReturnableQuantity != dd.ReturnableQuantity || cd.Deadline != dd.Deadline
                          || !cd.Resolutions.SequenceEqual(dd.Resolutions) || !cd.Methods.SequenceEqual(dd.Methods) || cd.ReasonCode != dd.ReasonCode;
            return new CheckLine(cd.OrderLineId, cd.Title, cd.Category, cd.Quantity, cd, dd, changed);
        }).ToList();
        return TypedResults.Ok(new CheckResult(state.Order.Number, at, state.Policy.Version, lines, lines.Count(l => l.Changed)));
    }

    public static async Task<Results<Ok<PolicyDto>, ProblemHttpResult>> Get(RetourDb db, PolicyBook book, CancellationToken ct)
    {
        var current = await book.CurrentAsync(db, ct);
        return current is { } c ? TypedResults.Ok(PolicyDto.From(c.Row, c.Policy)) : Problems.NotFound("This merchant has no policy yet.");
    }

    public static async Task<Results<Ok<PolicyDto>, ProblemHttpResult>> Put(
        HttpContext http, RetourDb db, PolicyBook book, TimeProvider clock, CancellationToken ct)
    {
        // Read by hand with the strict options: unknown fields are errors here, unlike elsewhere in the API.
        var update = await JsonSerializer.DeserializeAsync<PolicyUpdate>(http.Request.Body, PolicyBook.StrictJson, ct);
        if (update?.Policy is null) return Problems.Validation("policy", "Send the policy document under \"policy\".");
        var appliesTo = update.ApplyTo ?? PolicyDto.NewOrders;
        if (appliesTo is not (PolicyDto.NewOrders or PolicyDto.AllOrders))
            return Problems.Validation("apply_to", "Use 'new_orders' (the default) or 'all_orders'.");
        var errors = PolicyValidator.Validate(update.Policy);
        if (errors.Count > 0) return Problems.Validation(errors.Select(e => e with { Field = "policy." + e.Field }));

        var now = clock.GetUtcNow();
        var actor = Actor.From(http.User);
        var latest = await db.PolicyVersions.MaxAsync(p => (int?)p.Version, ct) ?? 0;
        var row = new PolicyVersion
        {
            Version = latest + 1,
            DocumentJson = Json.Serialize(update.Policy),
            EffectiveFrom = appliesTo == PolicyDto.AllOrders ? DateTimeOffset.UnixEpoch : now,
            CreatedAt = now,
            CreatedBy = actor.Label,
        };
        db.PolicyVersions.Add(row);
        db.AuditEvents.Add(new AuditEvent
        {
            EntityType = "policy", EntityId = row.Id, Action = "version_created", ToState = row.Version.ToString(),
            ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name, Reason = appliesTo, OccurredAt = now,
        });
        db.Publish("policy.updated", new { version = row.Version, applies_to = appliesTo }, now);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e, "policy_versions"))
        {
            return Problems.Result(409, "concurrent_update", "Another policy version was saved at the same moment", "Read the policy again and retry.");
        }
        return TypedResults.Ok(PolicyDto.From(row, update.Policy));
    }
}
