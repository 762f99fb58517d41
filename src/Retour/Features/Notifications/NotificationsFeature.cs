using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Outbox;

namespace Retour.Features.Notifications;

public sealed record NotificationDto(Guid Id, Guid? ReturnId, string Template, string Channel, string Recipient, string Locale, string Subject, string Body,
    string Status, int Attempts, string? LastError, DateTimeOffset? NextAttemptAt, DateTimeOffset? SentAt, DateTimeOffset CreatedAt, string? ProviderRef)
{
    public static NotificationDto From(Notification n) => new(n.Id, n.ReturnId, n.Template, n.Channel, n.Recipient, n.Locale, n.Subject, n.Body, n.Status,
        n.Attempts, n.LastError, n.NextAttemptAt, n.SentAt, n.CreatedAt, n.ProviderRef);
}

public static class NotificationsFeature
{
    public static IServiceCollection AddNotifications(this IServiceCollection s)
    {
        s.AddHttpClient("sms", c => c.Timeout = TimeSpan.FromSeconds(15));
        return s
            .AddSingleton<TemplateRenderer>()
            .AddSingleton(sp => new NotificationSender(sp.GetRequiredService<IServiceScopeFactory>(), sp.GetRequiredService<Infrastructure.RetourSettings>(),
                sp.GetRequiredService<MerchantDirectory>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<NotificationSender>>(),
                SmsProviders.From(sp.GetRequiredService<Infrastructure.RetourSettings>(), sp.GetRequiredService<IHttpClientFactory>())))
            .AddHostedService<NotificationSenderHost>()
            .AddSingleton<IOutboxHandler, NotifyShopper>()
            .AddSingleton<IOutboxHandler, NotifyAdmins>();
    }

    /// <summary>GET /api/v1/notifications?return=&amp;status=: the delivery log of messages to shoppers, newest first; POST /returns/{id}/messages: support writes to the shopper.</summary>
    public static void MapNotifications(this WebApplication app, RouteGroupBuilder api)
    {
        TemplateEndpoints.Map(api);
        api.MapGet("/notifications", List).RequireScope(Scopes.ReturnsRead).WithName("ListNotifications").WithTags("Notifications")
            .WithSummary("Messages sent to shoppers, newest first").WithDescription("return=<id or RMA>, status=pending|sending|sent|failed|dead|skipped (comma-separated), cursor, limit.");
        api.MapPost("/notifications/{id:guid}/resend", Resend).RequireScope(Scopes.ReturnsWrite).WithName("ResendNotification").WithTags("Notifications")
            .WithSummary("Send a failed or dead email or SMS again now").WithDescription("The same message; 409 while it is pending or being sent, or when it was skipped (no address).");
        api.MapPost("/returns/{idOrRma}/messages", Message).RequireScope(Scopes.ReturnsWrite).WithName("MessageShopper").WithTags("Notifications")
            .WithSummary("Email the shopper about their return")
            .WithDescription("Body: {\"subject\": \"…\", \"body\": \"…\"}. Sent from the shop, greeted in the return's language, with the link to its status page; " +
                             "listed in GET /notifications?return=. Honours Idempotency-Key. 409 when the order has no email or no SMTP server is configured.");
    }

    public sealed record MessageInput(string? Subject, string? Body);

    public static async Task<Results<Ok<NotificationDto>, ProblemHttpResult>> Resend(Guid id, HttpContext http, RetourDb db, NotificationSender sender,
        TimeProvider clock, CancellationToken ct)
    {
        var n = await db.Notifications.FirstOrDefaultAsync(x => x.Id == id, ct);
        if (n is null) return Problems.NotFound($"There is no notification '{id}'.");
        if (n.Status is NotificationStatus.Skipped)
            return Problems.Result(409, "notification_skipped", "This message was never meant to go out", n.LastError ?? "It has no recipient.");
        if (n.Status is NotificationStatus.Pending or NotificationStatus.Sending)
            return Problems.Result(409, "notification_in_flight", "This message is on its way", "It is queued or being sent right now.");
        if (!sender.CanSend(n.Channel))
            return n.Channel == Channels.Sms
                ? Problems.Result(409, "sms_not_configured", "SMS is not set up", "Configure an SMS provider (Sms:Provider) to text shoppers.")
                : Problems.Result(409, "email_not_configured", "Email is not set up", "Configure an SMTP server (Smtp:Host) to write to shoppers.");
        var now = clock.GetUtcNow();
        (n.Status, n.Attempts, n.NextAttemptAt, n.UpdatedAt) = (NotificationStatus.Pending, 0, now, now);
        var actor = Infrastructure.Audit.Actor.From(http.User);
        if (n.ReturnId is { } returnId)
            db.AuditEvents.Add(new Infrastructure.Audit.AuditEvent
            {
                EntityType = "return", EntityId = returnId, Action = "notification_resent", ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name,
                Reason = $"{n.Template} to {n.Recipient}", OccurredAt = now,
            });
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateConcurrencyException) { return Problems.Result(409, "notification_in_flight", "This message is on its way", "Read it again in a moment."); }
        return TypedResults.Ok(NotificationDto.From(n));
    }

    public static async Task<IResult> Message(string idOrRma, HttpContext http, RetourDb db, IdempotencyScope idem, Infrastructure.RetourSettings settings,
        Infrastructure.Localization.Texts texts, MerchantDirectory merchants, Microsoft.AspNetCore.DataProtection.IDataProtectionProvider protection,
        TimeProvider clock, CancellationToken ct)
    {
        var (input, problem) = await http.Request.ReadStrictJsonAsync<MessageInput>("Send {\"subject\": \"…\", \"body\": \"…\"}.", ct);
        if (problem is not null) return problem;
        var errors = new List<FieldError>();
        var subject = input!.Subject?.Trim();
        var body = input.Body?.Trim();
        if (string.IsNullOrEmpty(subject)) errors.Add(new("subject", "Give the email a subject."));
        else if (subject.Length > 200 || subject.Any(char.IsControl)) errors.Add(new("subject", "One line of at most 200 characters."));
        if (string.IsNullOrEmpty(body)) errors.Add(new("body", "Write the message."));
        else if (body.Length > 5000) errors.Add(new("body", "At most 5000 characters."));
        if (errors.Count > 0) return Problems.Validation(errors);
        var ret = await ReadReturns.FindAsync(db.Returns.AsNoTracking(), idOrRma, ct);
        if (ret is null) return Problems.NotFound($"There is no return '{idOrRma}'.");
        if (string.IsNullOrWhiteSpace(ret.CustomerEmail))
            return Problems.Result(409, "no_customer_email", "The shopper has no email address", "The order came without one; reach the shopper another way.");
        if (settings.SmtpHost is null)
            return Problems.Result(409, "email_not_configured", "Email is not set up", "Configure an SMTP server (Smtp:Host) to write to shoppers.");

        var merchant = (await merchants.GetAsync(db.Tenant.MerchantId, ct))!;
        var shopper = await ShopperContext.ForAsync(db, texts, merchant, protection, settings, ret, ct);
        var now = clock.GetUtcNow();
        var actor = Infrastructure.Audit.Actor.From(http.User);
        var n = new Notification
        {
            ReturnId = ret.Id, EventId = Guid.CreateVersion7(), Template = "staff_message", Channel = "email", Recipient = ret.CustomerEmail.Trim(), Locale = shopper.Locale,
            Subject = subject!, Body = $"{shopper.Greeting}\n\n{body}\n\n{ret.Rma}: {shopper.StatusUrl}\n\n{merchant.Name}", NextAttemptAt = now, CreatedAt = now, UpdatedAt = now,
        };
        db.Notifications.Add(n);
        db.AuditEvents.Add(new Infrastructure.Audit.AuditEvent
        {
            EntityType = "return", EntityId = ret.Id, Action = "shopper_messaged", ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name,
            Reason = subject, DataJson = Infrastructure.Http.Json.Serialize(new { notification_id = n.Id }), OccurredAt = now,
        });
        return await db.CommitAsync(idem, TypedResults.Created($"/api/v1/notifications?return={ret.Id}", NotificationDto.From(n)), now, ct);
    }

    public static async Task<Results<Ok<Page<NotificationDto>>, ProblemHttpResult>> List(RetourDb db, CancellationToken ct,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "return")] string? returnId = null, string? status = null, string? cursor = null, string? limit = null)
    {
        var errors = new List<FieldError>();
        errors.AddRange(Cursor.Check(limit, cursor, 'n', out var take, out var after));
        var statuses = ListFilter.Parse(status, NotificationStatus.All, "status", errors);
        if (errors.Count > 0) return Problems.Validation(errors);
        var q = db.Notifications.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(returnId))
        {
            var ret = await ReadReturns.FindAsync(db.Returns.AsNoTracking(), returnId, ct);
            if (ret is null) return Problems.NotFound($"There is no return '{returnId}'.");
            q = q.Where(n => n.ReturnId == ret.Id);
        }
        if (statuses.Count > 0) q = q.Where(n => statuses.Contains(n.Status));
        if (after is { } a) q = q.Where(n => n.CreatedAt < a.At || (n.CreatedAt == a.At && n.Id.CompareTo(a.Id) < 0));
        var rows = await q.OrderByDescending(n => n.CreatedAt).ThenByDescending(n => n.Id).Take(take + 1).ToListAsync(ct);
        var more = rows.Count > take;
        if (more) rows.RemoveAt(take);
        return TypedResults.Ok(new Page<NotificationDto>([.. rows.Select(NotificationDto.From)], more ? Cursor.Encode('n', rows[^1].CreatedAt, rows[^1].Id) : null, more));
    }
}
