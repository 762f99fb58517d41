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
    string Status, int Attempts, string? LastError, DateTimeOffset? NextAttemptAt, DateTimeOffset? SentAt, DateTimeOffset CreatedAt)
{
    public static NotificationDto From(Notification n) => new(n.Id, n.ReturnId, n.Template, n.Channel, n.Recipient, n.Locale, n.Subject, n.Body, n.Status,
        n.Attempts, n.LastError, n.NextAttemptAt, n.SentAt, n.CreatedAt);
}

public static class NotificationsFeature
{
    public static IServiceCollection AddNotifications(this IServiceCollection s) => s
        .AddSingleton<MerchantDirectoryAccessor>()
        .AddSingleton<EmailSender>()
        .AddHostedService<EmailSenderHost>()
        .AddSingleton<IOutboxHandler, NotifyShopper>();

    /// <summary>GET /api/v1/notifications?return=&amp;status=: the delivery log of messages to shoppers, newest first.</summary>
    public static void MapNotifications(this WebApplication app, RouteGroupBuilder api) =>
        api.MapGet("/notifications", List).RequireScope(Scopes.ReturnsRead).WithName("ListNotifications").WithTags("Notifications")
            .WithSummary("Messages sent to shoppers, newest first").WithDescription("return=<id or RMA>, status=pending|sending|sent|failed|dead|skipped (comma-separated), cursor, limit.");

    public static async Task<Results<Ok<Page<NotificationDto>>, ProblemHttpResult>> List(RetourDb db, CancellationToken ct,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "return")] string? returnId = null, string? status = null, string? cursor = null, string? limit = null)
    {
        var errors = new List<FieldError>();
        errors.AddRange(Cursor.Check(limit, cursor, 'n', out var take, out var after));
        var statuses = (status ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (var s in statuses.Where(s => !NotificationStatus.All.Contains(s)))
            errors.Add(new("status", $"Unknown status '{s}'. Use one of: {string.Join(", ", NotificationStatus.All)}."));
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
