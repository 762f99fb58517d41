using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Notifications;
using Retour.Features.Tenancy;
using Retour.Infrastructure;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Localization;

namespace Retour.Features.Notifications;

public sealed record TemplateDto(string Template, string Channel, string Locale, string? Subject, string Body, bool Customized, string? DefaultSubject,
    string DefaultBody, IReadOnlyList<string> Variables, IReadOnlyList<string> Events, DateTimeOffset? UpdatedAt, string? UpdatedBy);

public sealed record ChannelUse(bool Sent, IReadOnlyList<string> Customized);
public sealed record TemplateSummary(string Template, IReadOnlyList<string> Events, IReadOnlyList<string> Variables, ChannelUse Email, ChannelUse Sms);
public sealed record NotificationSettingsDto(bool SmsEnabled, IReadOnlyList<string> EmailTemplates, IReadOnlyList<string> SmsTemplates, bool EmailAvailable,
    bool SmsAvailable, string? SmsProvider);
public sealed record TemplateCatalogDto(IReadOnlyList<string> Channels, IReadOnlyList<string> Locales, NotificationSettingsDto Settings, IReadOnlyList<TemplateSummary> Templates);
public sealed record PreviewDto(string? Subject, string Body, SmsSegments? Sms);

/// <summary>
/// The merchant's shopper messages: GET /notification-templates (all, with what is customised), GET|PUT|DELETE
/// /notification-templates/{template}/{channel}/{locale} (read, replace, back to the default), POST
/// /notification-templates/preview (render a draft with sample data) and GET|PUT /notification-settings (which message goes
/// on which channel).
/// </summary>
public static class TemplateEndpoints
{
    public sealed record TemplateInput(string? Subject, string? Body);
    public sealed record PreviewInput(string? Template, string? Channel, string? Locale, string? Subject, string? Body);
    public sealed record SettingsInput(bool? SmsEnabled, List<string?>? EmailTemplates, List<string?>? SmsTemplates);

    public static void Map(RouteGroupBuilder api)
    {
        var g = api.MapGroup("").WithTags("Notifications");
        g.MapGet("/notification-templates", List).RequireScope(Scopes.PolicyRead).WithName("ListNotificationTemplates")
            .WithSummary("Every shopper message with its events, variables, channels and customised languages");
        g.MapGet("/notification-templates/{template}/{channel}/{locale}", Get).RequireScope(Scopes.PolicyRead).WithName("GetNotificationTemplate");
        g.MapPut("/notification-templates/{template}/{channel}/{locale}", Put).RequireScope(Scopes.PolicyWrite).WithName("PutNotificationTemplate")
            .WithSummary("Replace a message's text for one channel and language")
            .WithDescription("Body: {\"subject\": \"…\" (email only), \"body\": \"…\"}. Handlebars: {{rma}}, {{#if reason}}…{{/if}}. A variable the message does not have is refused.");
        g.MapDelete("/notification-templates/{template}/{channel}/{locale}", Reset).RequireScope(Scopes.PolicyWrite).WithName("ResetNotificationTemplate")
            .WithSummary("Go back to the default text");
        g.MapPost("/notification-templates/preview", Preview).RequireScope(Scopes.PolicyRead).WithName("PreviewNotificationTemplate")
            .WithSummary("Render a draft with sample data").WithDescription("Body: {\"template\", \"channel\", \"locale\", \"subject\", \"body\"}; without subject and body, the saved text. SMS previews count the parts.");
        g.MapGet("/notification-settings", GetSettings).RequireScope(Scopes.PolicyRead).WithName("GetNotificationSettings");
        g.MapPut("/notification-settings", PutSettings).RequireScope(Scopes.PolicyWrite).WithName("PutNotificationSettings")
            .WithDescription("Body: {\"sms_enabled\": true, \"email_templates\": [\"return_created\", …], \"sms_templates\": [\"label_ready\", …]}; omitted fields keep their value.");
    }

    private static NotificationSettingsDto SettingsDto(NotificationSettings s, NotificationSender sender, RetourSettings settings) =>
        new(s.SmsEnabled, s.EmailTemplates, s.SmsTemplates, sender.CanSend(Channels.Email), sender.CanSend(Channels.Sms), settings.SmsProvider);

    private static async Task<NotificationSettings> SettingsAsync(RetourDb db, CancellationToken ct) =>
        NotificationSettings.Parse(await db.Merchants.AsNoTracking().Where(m => m.Id == db.Tenant.MerchantId).Select(m => m.NotificationSettingsJson).FirstOrDefaultAsync(ct));

    public static async Task<IResult> List(RetourDb db, NotificationSender sender, RetourSettings settings, CancellationToken ct)
    {
        var choice = await SettingsAsync(db, ct);
        var custom = await db.NotificationTemplates.AsNoTracking().Select(t => new { t.Template, t.Channel, t.Locale }).ToListAsync(ct);
        IReadOnlyList<string> Customised(string template, string channel) =>
            [.. custom.Where(c => c.Template == template && c.Channel == channel).Select(c => c.Locale).OrderBy(l => l)];
        var rows = NotificationTemplates.All.Select(t => new TemplateSummary(t.Key, t.Events, t.Variables,
            new ChannelUse(choice.Sends(Channels.Email, t.Key), Customised(t.Key, Channels.Email)),
            new ChannelUse(choice.SmsTemplates.Contains(t.Key), Customised(t.Key, Channels.Sms)))).ToList();
        return TypedResults.Ok(new TemplateCatalogDto(Channels.Templated, Texts.Locales, SettingsDto(choice, sender, settings), rows));
    }

    /// <summary>What is wrong with a (message, channel, language) triple: field errors in a preview, a 404 in a URL.</summary>
    private static List<FieldError> KeyErrors(string template, string channel, string locale) =>
    [
        .. new[]
        {
            NotificationTemplates.ByKey.ContainsKey(template) ? null : new FieldError("template", $"There is no message '{template}'. Use one of: {string.Join(", ", NotificationTemplates.ByKey.Keys)}."),
            Channels.Templated.Contains(channel) ? null : new FieldError("channel", $"'{channel}' is not a channel with templates. Use email or sms."),
            Texts.Locales.Contains(locale) ? null : new FieldError("locale", $"'{locale}' is not a shopper language. Use one of: {string.Join(", ", Texts.Locales)}."),
        }.OfType<FieldError>(),
    ];

    private static IResult? Unknown(string template, string channel, string locale) =>
        KeyErrors(template, channel, locale) is [var first, ..] ? Problems.NotFound(first.Message) : null;

    private static Task<NotificationTemplate?> RowAsync(IQueryable<NotificationTemplate> rows, string template, string channel, string locale, CancellationToken ct) =>
        rows.FirstOrDefaultAsync(t => t.Template == template && t.Channel == channel && t.Locale == locale, ct);

    private static TemplateDto Dto(Texts texts, string template, string channel, string locale, NotificationTemplate? row)
    {
        var def = NotificationTemplates.ByKey[template];
        var (subject, body) = NotificationTemplates.Default(texts, template, channel, locale);
        return new TemplateDto(template, channel, locale, row is null ? subject : row.Subject, row?.Body ?? body, row is not null, subject, body, def.Variables, def.Events,
            row?.UpdatedAt, row?.UpdatedBy);
    }

    public static async Task<IResult> Get(string template, string channel, string locale, RetourDb db, Texts texts, CancellationToken ct)
    {
        if (Unknown(template, channel, locale) is { } notFound) return notFound;
        return TypedResults.Ok(Dto(texts, template, channel, locale, await RowAsync(db.NotificationTemplates.AsNoTracking(), template, channel, locale, ct)));
    }

    /// <summary>What is wrong with a draft, field by field (empty when it can be saved).</summary>
    public static List<FieldError> Check(TemplateRenderer renderer, string template, string channel, string? subject, string? body)
    {
        var errors = new List<FieldError>();
        var variables = NotificationTemplates.ByKey[template].Variables;
        if (channel == Channels.Email)
        {
            if (string.IsNullOrWhiteSpace(subject)) errors.Add(new("subject", "An email needs a subject."));
            else if (subject.Length > NotificationTemplates.MaxSubject || subject.Contains('\n')) errors.Add(new("subject", $"One line of at most {NotificationTemplates.MaxSubject} characters."));
            else if (renderer.Check(subject, variables) is { } problem) errors.Add(new("subject", problem));
        }
        else if (!string.IsNullOrEmpty(subject)) errors.Add(new("subject", "An SMS has no subject; leave it out."));
        var max = channel == Channels.Sms ? 1000 : NotificationTemplates.MaxBody;
        if (string.IsNullOrWhiteSpace(body)) errors.Add(new("body", "Write the message."));
        else if (body.Length > max) errors.Add(new("body", $"At most {max} characters."));
        else if (renderer.Check(body, variables) is { } problem) errors.Add(new("body", problem));
        return errors;
    }

    public static async Task<IResult> Put(string template, string channel, string locale, HttpContext http, RetourDb db, Texts texts, TemplateRenderer renderer,
        TimeProvider clock, CancellationToken ct)
    {
        if (Unknown(template, channel, locale) is { } notFound) return notFound;
        var (input, problem) = await http.Request.ReadStrictJsonAsync<TemplateInput>("Send {\"subject\": \"…\", \"body\": \"…\"}.", ct);
        if (problem is not null) return problem;
        var subject = input!.Subject?.Trim();
        var body = input.Body?.Replace("\r\n", "\n").Trim();
        var errors = Check(renderer, template, channel, subject, body);
        if (errors.Count > 0) return Problems.Validation(errors);

        var now = clock.GetUtcNow();
        var actor = Actor.From(http.User);
        var row = await RowAsync(db.NotificationTemplates, template, channel, locale, ct);
        if (row is null)
        {
            row = new NotificationTemplate { Template = template, Channel = channel, Locale = locale, Body = body!, UpdatedBy = actor.Label };
            db.NotificationTemplates.Add(row);
        }
        (row.Subject, row.Body, row.UpdatedAt, row.UpdatedBy) = (channel == Channels.Email ? subject : null, body!, now, actor.Label);
        db.AuditEvents.Add(AuditEvent.Of("notification_template", row.Id, "template_saved", actor, now, $"{template} {channel} {locale}"));
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e, "notification_templates"))
        {
            return Problems.Result(409, "template_changed", "Someone saved this template at the same moment", "Load it again and repeat your change.");
        }
        return TypedResults.Ok(Dto(texts, template, channel, locale, row));
    }

    public static async Task<IResult> Reset(string template, string channel, string locale, HttpContext http, RetourDb db, Texts texts, TimeProvider clock, CancellationToken ct)
    {
        if (Unknown(template, channel, locale) is { } notFound) return notFound;
        var row = await RowAsync(db.NotificationTemplates, template, channel, locale, ct);
        if (row is not null)
        {
            db.NotificationTemplates.Remove(row);
            db.AuditEvents.Add(AuditEvent.Of("notification_template", row.Id, "template_reset", Actor.From(http.User), clock.GetUtcNow(), $"{template} {channel} {locale}"));
            await db.SaveChangesAsync(ct);
        }
        return TypedResults.Ok(Dto(texts, template, channel, locale, null));
    }

    public static async Task<IResult> Preview(HttpContext http, RetourDb db, Texts texts, TemplateRenderer renderer, MerchantDirectory merchants, CancellationToken ct)
    {
        var (input, problem) = await http.Request.ReadStrictJsonAsync<PreviewInput>("Send {\"template\", \"channel\", \"locale\", \"subject\", \"body\"}.", ct);
        if (problem is not null) return problem;
        var (template, channel, locale) = (input!.Template ?? "", input.Channel ?? Channels.Email, input.Locale ?? "en");
        if (KeyErrors(template, channel, locale) is { Count: > 0 } keyErrors) return Problems.Validation(keyErrors);
        string? subject = input.Subject;
        string? body = input.Body?.Replace("\r\n", "\n");
        if (body is null)
        {
            var saved = Dto(texts, template, channel, locale, await RowAsync(db.NotificationTemplates.AsNoTracking(), template, channel, locale, ct));
            (subject, body) = (saved.Subject, saved.Body);
        }
        var errors = Check(renderer, template, channel, subject?.Trim(), body.Trim());
        if (errors.Count > 0) return Problems.Validation(errors);
        var merchant = (await merchants.GetAsync(db.Tenant.MerchantId, ct))!;
        var vars = NotificationTemplates.Sample(texts, merchant.Name, locale);
        var text = renderer.Render(body.Trim(), vars).Trim();
        return TypedResults.Ok(new PreviewDto(subject is null || channel == Channels.Sms ? null : renderer.Render(subject.Trim(), vars).Trim(), text,
            channel == Channels.Sms ? Sms.Measure(text) : null));
    }

    public static async Task<IResult> GetSettings(RetourDb db, NotificationSender sender, RetourSettings settings, CancellationToken ct) =>
        TypedResults.Ok(SettingsDto(await SettingsAsync(db, ct), sender, settings));

    public static async Task<IResult> PutSettings(HttpContext http, RetourDb db, NotificationSender sender, RetourSettings settings, MerchantDirectory merchants,
        TimeProvider clock, CancellationToken ct)
    {
        var (input, problem) = await http.Request.ReadStrictJsonAsync<SettingsInput>("Send {\"sms_enabled\": true, \"email_templates\": […], \"sms_templates\": […]}.", ct);
        if (problem is not null) return problem;
        var errors = new List<FieldError>();
        IReadOnlyList<string>? Keys(List<string?>? list, string field)
        {
            if (list is null) return null;
            var bad = list.Where(k => k is null || !NotificationTemplates.ByKey.ContainsKey(k)).ToList();
            if (bad.Count > 0) errors.Add(new(field, $"Unknown message(s) {string.Join(", ", bad.Select(b => b ?? "null"))}. Use: {string.Join(", ", NotificationTemplates.ByKey.Keys)}."));
            return [.. list.OfType<string>().Distinct()];
        }
        var email = Keys(input!.EmailTemplates, "email_templates");
        var sms = Keys(input.SmsTemplates, "sms_templates");
        if (input.SmsEnabled == true && !sender.CanSend(Channels.Sms))
            errors.Add(new("sms_enabled", "This server has no SMS provider. Set Sms:Provider (twilio or sandbox) first."));
        if (errors.Count > 0) return Problems.Validation(errors);
        var merchant = await db.Merchants.FirstAsync(m => m.Id == db.Tenant.MerchantId, ct);
        var current = NotificationSettings.Parse(merchant.NotificationSettingsJson);
        var next = new NotificationSettings(input.SmsEnabled ?? current.SmsEnabled, email ?? current.EmailTemplates, sms ?? current.SmsTemplates);
        merchant.NotificationSettingsJson = Json.Serialize(next);
        db.AuditEvents.Add(AuditEvent.Of("merchant", merchant.Id, "notification_settings_changed", Actor.From(http.User), clock.GetUtcNow(),
            $"sms {(next.SmsEnabled ? "on" : "off")}; email {next.EmailTemplates.Count}, sms {next.SmsTemplates.Count} messages"));
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(SettingsDto(next, sender, settings));
    }
}
