using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Webhooks;

public sealed record WebhookInput(string? Url, List<string?>? Events, string? Description, bool? Active);

public sealed record WebhookEndpointDto(Guid Id, string Url, IReadOnlyList<string> Events, string? Description, bool Active, string? DisabledReason,
    DateTimeOffset? DisabledAt, int ConsecutiveFailures, DateTimeOffset? LastSuccessAt, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? Secret)
{
    public static WebhookEndpointDto From(WebhookEndpoint e, bool withSecret = false) => new(e.Id, e.Url, JsonSerializer.Deserialize<string[]>(e.EventsJson) ?? [],
        e.Description, e.Active, e.DisabledReason, e.DisabledAt, e.ConsecutiveFailures, e.LastSuccessAt, e.CreatedAt, e.UpdatedAt, withSecret ? e.Secret : null);
}

public sealed record WebhookDeliveryDto(Guid Id, Guid EndpointId, Guid EventId, string EventType, string Status, int Attempts, int? LastStatusCode,
    string? LastError, string? LastResponse, double? LastDurationMs, DateTimeOffset? LastAttemptAt, DateTimeOffset? NextAttemptAt, DateTimeOffset? DeliveredAt,
    DateTimeOffset? ReplayedAt, DateTimeOffset CreatedAt, JsonElement? Payload)
{
    public static WebhookDeliveryDto From(WebhookDelivery d, bool withBody = false) => new(d.Id, d.EndpointId, d.EventId, d.EventType, d.Status, d.Attempts,
        d.LastStatusCode, d.LastError, d.LastResponse, d.LastDurationMs, d.LastAttemptAt, d.NextAttemptAt, d.DeliveredAt, d.ReplayedAt, d.CreatedAt,
        withBody ? JsonDocument.Parse(d.Body).RootElement.Clone() : null);
}

/// <summary>
/// Outgoing webhooks: POST/GET /api/v1/webhooks, GET/PATCH/DELETE /webhooks/{id}, POST /webhooks/{id}/rotate-secret,
/// GET /webhooks/{id}/deliveries (the delivery log), GET /webhooks/{id}/deliveries/{deliveryId} (with the body sent) and
/// POST …/replay. The secret is shown once, when the endpoint is made or the secret rotated.
/// </summary>
public static class WebhookEndpoints
{
    public const int MaxEndpoints = 20;

    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("/webhooks").WithTags("Webhooks");
        g.MapPost("", Create).RequireScope(Scopes.WebhooksWrite).WithName("CreateWebhook").WithSummary("Subscribe a URL to events")
            .WithDescription("Body: {\"url\": \"https://…\", \"events\": [\"return.requested\", \"return.approved\", …] (or [\"*\"]), \"description\": \"…\"}. " +
                             "Answers 201 with id and secret (shown once). Deliveries are POSTs signed with Retour-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>.");
        g.MapGet("", List).RequireScope(Scopes.WebhooksRead).WithName("ListWebhooks");
        g.MapGet("/events", () => TypedResults.Ok(WebhookEvents.Types)).RequireScope(Scopes.WebhooksRead).WithName("WebhookEventTypes").WithSummary("The event types one can subscribe to");
        g.MapGet("/{id:guid}", Get).RequireScope(Scopes.WebhooksRead).WithName("GetWebhook");
        g.MapMethods("/{id:guid}", ["PATCH"], Update).RequireScope(Scopes.WebhooksWrite).WithName("UpdateWebhook")
            .WithDescription("Any of url, events, description, active. Re-activating an endpoint Retour disabled clears its failure count.");
        g.MapDelete("/{id:guid}", Delete).RequireScope(Scopes.WebhooksWrite).WithName("DeleteWebhook");
        g.MapPost("/{id:guid}/rotate-secret", Rotate).RequireScope(Scopes.WebhooksWrite).WithName("RotateWebhookSecret").WithSummary("A new secret, shown once; the old one stops signing at once");
        g.MapGet("/{id:guid}/deliveries", Deliveries).RequireScope(Scopes.WebhooksRead).WithName("ListWebhookDeliveries")
            .WithSummary("The delivery log, newest first").WithDescription("status=pending|delivered|failed|dead (comma-separated); cursor and limit page it.");
        g.MapGet("/{id:guid}/deliveries/{deliveryId:guid}", Delivery).RequireScope(Scopes.WebhooksRead).WithName("GetWebhookDelivery");
        g.MapPost("/{id:guid}/deliveries/{deliveryId:guid}/replay", Replay).RequireScope(Scopes.WebhooksWrite).WithName("ReplayWebhookDelivery")
            .WithSummary("Send a delivery again now").WithDescription("The same body and event id; receivers that already have it deduplicate by Retour-Event-Id.");
    }

    /// <summary>https, or http to this machine (for development and tests). No credentials in the URL, no fragment.</summary>
    public static string? UrlProblem(string? url, bool allowLocal)
    {
        if (string.IsNullOrWhiteSpace(url)) return "Give the URL to send events to.";
        if (url.Length > 2000) return "At most 2000 characters.";
        if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("https" or "http")) return "Use an absolute https:// URL.";
        if (!string.IsNullOrEmpty(u.UserInfo)) return "Leave credentials out of the URL; deliveries are authenticated by their signature.";
        if (!string.IsNullOrEmpty(u.Fragment)) return "A URL with a #fragment cannot be posted to.";
        var local = u.IsLoopback || u.Host is "localhost" || u.Host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);
        if (local && !allowLocal) return "This server does not send webhooks to itself (set RETOUR_WEBHOOK_ALLOW_LOCAL=true for development).";
        if (u.Scheme == "http" && !local) return "Use https://; plain http is only accepted for this machine, in development.";
        if (!local && IPAddress.TryParse(u.Host.Trim('[', ']'), out var ip) && IsPrivate(ip)) return "A private network address cannot receive webhooks; use a public https:// URL.";
        return null;
    }

    public static bool IsPrivate(IPAddress ip)
    {
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        if (IPAddress.IsLoopback(ip) || ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any) || ip.Equals(IPAddress.IPv6None)) return true;
        if (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6) return ip.IsIPv6LinkLocal || ip.IsIPv6SiteLocal || ip.IsIPv6UniqueLocal;
        var b = ip.GetAddressBytes();
        return b[0] == 10 || b[0] == 0 || (b[0] == 172 && b[1] is >= 16 and < 32) || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] is >= 64 and < 128);
    }

    private static List<FieldError> Check(WebhookInput input, bool creating, bool allowLocal, out List<string> events)
    {
        var errors = new List<FieldError>();
        events = [];
        if (creating || input.Url is not null)
            if (UrlProblem(input.Url, allowLocal) is { } p) errors.Add(new("url", p));
        if (creating || input.Events is not null)
        {
            if (input.Events is not { Count: > 0 }) errors.Add(new("events", "Name at least one event, or \"*\" for all of them (GET /api/v1/webhooks/events lists them)."));
            else
                for (var i = 0; i < input.Events.Count; i++)
                {
                    var e = input.Events[i]?.Trim();
                    if (e == WebhookEvents.All || (e is not null && WebhookEvents.Types.Contains(e))) { if (!events.Contains(e)) events.Add(e); }
                    else errors.Add(new($"events[{i}]", $"Unknown event '{input.Events[i]}'. Use \"*\" or one of: {string.Join(", ", WebhookEvents.Types)}."));
                }
        }
        if (input.Description is { Length: > 500 }) errors.Add(new("description", "At most 500 characters."));
        return errors;
    }

    private static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');

    public static async Task<Results<Created<WebhookEndpointDto>, ProblemHttpResult>> Create(HttpContext http, RetourDb db, WebhookDirectory directory,
        Infrastructure.RetourSettings settings, TimeProvider clock, CancellationToken ct)
    {
        var (input, problem) = await http.Request.ReadStrictJsonAsync<WebhookInput>("Send {\"url\": \"https://…\", \"events\": [\"return.requested\"]}.", ct);
        if (problem is not null) return problem;
        var errors = Check(input!, creating: true, settings.WebhookAllowLocal, out var events);
        if (errors.Count > 0) return Problems.Validation(errors);
        if (await db.WebhookEndpoints.CountAsync(ct) >= MaxEndpoints)
            return Problems.Result(409, "too_many_webhooks", "Too many webhook endpoints", $"A shop has at most {MaxEndpoints}; remove one first.");
        var now = clock.GetUtcNow();
        var e = new WebhookEndpoint
        {
            Url = input!.Url!.Trim(), EventsJson = JsonSerializer.Serialize(events), Description = input.Description?.Trim(), Secret = NewSecret(),
            Active = input.Active ?? true, CreatedAt = now, UpdatedAt = now,
        };
        db.WebhookEndpoints.Add(e);
        Audit(db, http, e.Id, "webhook_created", $"{e.Url} for {string.Join(", ", events)}", now);
        await db.SaveChangesAsync(ct);
        directory.Forget(db.Tenant.MerchantId);
        return TypedResults.Created($"/api/v1/webhooks/{e.Id}", WebhookEndpointDto.From(e, withSecret: true));
    }

    public static async Task<Ok<List<WebhookEndpointDto>>> List(RetourDb db, CancellationToken ct) =>
        TypedResults.Ok((await db.WebhookEndpoints.AsNoTracking().OrderBy(e => e.CreatedAt).ToListAsync(ct)).Select(e => WebhookEndpointDto.From(e)).ToList());

    public static async Task<Results<Ok<WebhookEndpointDto>, ProblemHttpResult>> Get(Guid id, RetourDb db, CancellationToken ct) =>
        await db.WebhookEndpoints.AsNoTracking().FirstOrDefaultAsync(e => e.Id == id, ct) is { } e
            ? TypedResults.Ok(WebhookEndpointDto.From(e)) : Problems.NotFound($"There is no webhook endpoint '{id}'.");

    public static async Task<Results<Ok<WebhookEndpointDto>, ProblemHttpResult>> Update(Guid id, HttpContext http, RetourDb db, WebhookDirectory directory,
        Infrastructure.RetourSettings settings, TimeProvider clock, CancellationToken ct)
    {
        var (input, problem) = await http.Request.ReadStrictJsonAsync<WebhookInput>("Send any of {\"url\", \"events\", \"description\", \"active\"}.", ct);
        if (problem is not null) return problem;
        var e = await db.WebhookEndpoints.FirstOrDefaultAsync(x => x.Id == id, ct);
        if (e is null) return Problems.NotFound($"There is no webhook endpoint '{id}'.");
        var errors = Check(input!, creating: false, settings.WebhookAllowLocal, out var events);
        if (errors.Count > 0) return Problems.Validation(errors);
        var now = clock.GetUtcNow();
        if (input!.Url is not null) e.Url = input.Url.Trim();
        if (input.Events is not null) e.EventsJson = JsonSerializer.Serialize(events);
        if (input.Description is not null) e.Description = input.Description.Trim();
        if (input.Active is { } active && active != e.Active)
        {
            e.Active = active;
            e.DisabledAt = active ? null : now;
            e.DisabledReason = null;
            if (active) e.ConsecutiveFailures = 0;
        }
        e.UpdatedAt = now;
        Audit(db, http, e.Id, "webhook_updated", $"{e.Url}; active {e.Active}", now);
        await db.SaveChangesAsync(ct);
        directory.Forget(db.Tenant.MerchantId);
        return TypedResults.Ok(WebhookEndpointDto.From(e));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> Delete(Guid id, HttpContext http, RetourDb db, WebhookDirectory directory, TimeProvider clock, CancellationToken ct)
    {
        var e = await db.WebhookEndpoints.FirstOrDefaultAsync(x => x.Id == id, ct);
        if (e is null) return Problems.NotFound($"There is no webhook endpoint '{id}'.");
        db.WebhookEndpoints.Remove(e); // its delivery log goes with it
        Audit(db, http, e.Id, "webhook_deleted", e.Url, clock.GetUtcNow());
        await db.SaveChangesAsync(ct);
        directory.Forget(db.Tenant.MerchantId);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<WebhookEndpointDto>, ProblemHttpResult>> Rotate(Guid id, HttpContext http, RetourDb db, TimeProvider clock, CancellationToken ct)
    {
        var e = await db.WebhookEndpoints.FirstOrDefaultAsync(x => x.Id == id, ct);
        if (e is null) return Problems.NotFound($"There is no webhook endpoint '{id}'.");
        var now = clock.GetUtcNow();
        (e.Secret, e.UpdatedAt) = (NewSecret(), now);
        Audit(db, http, e.Id, "webhook_secret_rotated", e.Url, now);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(WebhookEndpointDto.From(e, withSecret: true));
    }

    public static async Task<Results<Ok<Page<WebhookDeliveryDto>>, ProblemHttpResult>> Deliveries(Guid id, RetourDb db, CancellationToken ct,
        string? status = null, string? cursor = null, string? limit = null)
    {
        if (!await db.WebhookEndpoints.AnyAsync(e => e.Id == id, ct)) return Problems.NotFound($"There is no webhook endpoint '{id}'.");
        var errors = new List<FieldError>();
        errors.AddRange(Cursor.Check(limit, cursor, 'w', out var take, out var after));
        var statuses = ListFilter.Parse(status, DeliveryStatus.All, "status", errors);
        if (errors.Count > 0) return Problems.Validation(errors);
        var q = db.WebhookDeliveries.AsNoTracking().Where(d => d.EndpointId == id);
        if (statuses.Count > 0) q = q.Where(d => statuses.Contains(d.Status));
        if (after is { } a) q = q.Where(d => d.CreatedAt < a.At || (d.CreatedAt == a.At && d.Id.CompareTo(a.Id) < 0));
        var rows = await q.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id).Take(take + 1).ToListAsync(ct);
        var more = rows.Count > take;
        if (more) rows.RemoveAt(take);
        return TypedResults.Ok(new Page<WebhookDeliveryDto>([.. rows.Select(d => WebhookDeliveryDto.From(d))], more ? Cursor.Encode('w', rows[^1].CreatedAt, rows[^1].Id) : null, more));
    }

    public static async Task<Results<Ok<WebhookDeliveryDto>, ProblemHttpResult>> Delivery(Guid id, Guid deliveryId, RetourDb db, CancellationToken ct) =>
        await db.WebhookDeliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deliveryId && d.EndpointId == id, ct) is { } d
            ? TypedResults.Ok(WebhookDeliveryDto.From(d, withBody: true)) : Problems.NotFound($"There is no delivery '{deliveryId}' for this endpoint.");

    public static async Task<Results<Ok<WebhookDeliveryDto>, ProblemHttpResult>> Replay(Guid id, Guid deliveryId, HttpContext http, RetourDb db, TimeProvider clock, CancellationToken ct)
    {
        var d = await db.WebhookDeliveries.FirstOrDefaultAsync(x => x.Id == deliveryId && x.EndpointId == id, ct);
        if (d is null) return Problems.NotFound($"There is no delivery '{deliveryId}' for this endpoint.");
        var e = await db.WebhookEndpoints.AsNoTracking().FirstAsync(x => x.Id == id, ct);
        if (!e.Active) return Problems.Result(409, "webhook_disabled", "The endpoint is disabled", "Activate it first (PATCH {\"active\": true}), then replay.");
        if (d.Status == DeliveryStatus.Sending && d.NextAttemptAt > clock.GetUtcNow())
            return Problems.Result(409, "delivery_in_flight", "This delivery is being sent right now", "Read it again in a moment.");
        var now = clock.GetUtcNow();
        (d.Status, d.NextAttemptAt, d.ReplayedAt, d.UpdatedAt) = (DeliveryStatus.Pending, now, now, now); // a new 24-hour window
        Audit(db, http, e.Id, "webhook_replayed", $"{d.EventType} {d.EventId}", now);
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateConcurrencyException) { return Problems.Result(409, "delivery_in_flight", "This delivery is being sent right now", "Read it again in a moment."); }
        return TypedResults.Ok(WebhookDeliveryDto.From(d));
    }

    private static void Audit(RetourDb db, HttpContext http, Guid endpointId, string action, string reason, DateTimeOffset at)
    {
        var actor = Actor.From(http.User);
        db.AuditEvents.Add(new AuditEvent
        {
            EntityType = "webhook", EntityId = endpointId, Action = action, ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name, Reason = reason, OccurredAt = at,
        });
    }
}
