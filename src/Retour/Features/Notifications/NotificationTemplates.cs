using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using HandlebarsDotNet;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Retour.Core.Notifications;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Localization;

namespace Retour.Features.Notifications;

public static class Channels
{
    public const string Email = "email";
    public const string Sms = "sms";
    /// <summary>Templated channels. The third channel, webhooks, carries the event itself (docs/webhooks.md), not a text.</summary>
    public static readonly string[] Templated = [Email, Sms];
}

/// <summary>One message a shopper can get: the events that send it and the variables its template may use.</summary>
public sealed record TemplateDef(string Key, IReadOnlyList<string> Events, IReadOnlyList<string> Variables);

/// <summary>
/// The shopper messages, one per step, each with a default per channel and language (Resources/{locale}.json:
/// email.{key}.subject/body and sms.{key}), which a merchant may replace. Templates are Handlebars ({{rma}},
/// {{#if reason}}…{{/if}}); the defaults are the localised texts with their {name} placeholders read as {{name}}.
/// </summary>
public static class NotificationTemplates
{
    public static readonly IReadOnlyList<string> Common = ["shop", "rma", "order", "name", "greeting", "carrier", "status", "status_url", "portal_url"];

    public static readonly IReadOnlyList<TemplateDef> All =
    [
        new("return_created", ["return.requested"], Common),
        new("return_approved", ["return.approved"], Common),
        new("return_rejected", ["return.rejected"], [.. Common, "reason"]),
        new("label_ready", ["return.awaiting_shipment"], Common),
        new("pickup_scheduled", ["return.awaiting_shipment"], [.. Common, "date"]),
        new("pickup_failed", ["return.pickup_failed"], [.. Common, "pickup_url"]),
        new("in_transit", ["return.in_transit"], Common),
        new("arrived", ["return.delivered", "return.received"], Common),
        new("inspected", ["return.inspected"], Common),
        new("refund_issued", ["refund.issued"], [.. Common, "amount", "method"]),
        new("credit_issued", ["refund.issued"], [.. Common, "amount", "code", "expires"]),
        new("exchange_created", ["exchange.order_created"], [.. Common, "exchange", "difference"]),
        new("exchange_shipped", ["exchange.shipped"], [.. Common, "exchange", "tracking"]),
        new("label_expiring", ["return.label_expiring"], [.. Common, "date"]),
        new("label_expired", ["return.label_expired"], Common),
    ];

    public static readonly IReadOnlyDictionary<string, TemplateDef> ByKey = All.ToDictionary(t => t.Key);

    /// <summary>What goes by SMS once a merchant turns SMS on: the steps that ask the shopper to act, and money.</summary>
    public static readonly IReadOnlyList<string> SmsDefaults =
        ["label_ready", "pickup_scheduled", "pickup_failed", "refund_issued", "credit_issued", "exchange_shipped", "label_expiring"];

    public const int MaxSubject = 200;
    public const int MaxBody = 5000;

    /// <summary>The built-in template, as Handlebars.</summary>
    public static (string? Subject, string Body) Default(Texts texts, string key, string channel, string locale) => channel == Channels.Sms
        ? (null, Handlebarise(texts.Get(locale, $"sms.{key}")))
        : (Handlebarise(texts.Get(locale, $"email.{key}.subject")), "{{greeting}}\n\n" + Handlebarise(texts.Get(locale, $"email.{key}.body")));

    private static readonly Regex Placeholder = new(@"\{([a-z_]+)\}", RegexOptions.Compiled | RegexOptions.CultureInvariant);
    public static string Handlebarise(string text) => Placeholder.Replace(text, "{{$1}}");

    /// <summary>Made-up values for previews without a return, in the preview's language where it matters.</summary>
    public static Dictionary<string, object> Sample(Texts texts, string shop, string locale)
    {
        var culture = Texts.Culture(locale);
        var vars = new Dictionary<string, object>
        {
            ["shop"] = shop, ["rma"] = "RT-2025-000123", ["order"] = "#1042", ["name"] = "Alex Example",
            ["greeting"] = texts.Get(locale, "email.greeting", ("name", "Alex Example")), ["carrier"] = "DHL Express",
            ["status"] = texts.Get(locale, "status.approved"), ["status_url"] = "https://returns.example/r/shop/returns/RT-2025-000123?t=…",
            ["portal_url"] = "https://returns.example/r/shop", ["pickup_url"] = "https://returns.example/r/shop/returns/RT-2025-000123/pickup?t=…",
            ["date"] = DateTime.Today.AddDays(3).ToString("D", culture), ["reason"] = "", ["amount"] = 49.90m.ToString("C", culture),
            ["method"] = texts.Get(locale, "email.method.original_payment"), ["code"] = "GC-7F3K-92QD", ["expires"] = "",
            ["exchange"] = "EX-2025-000123", ["difference"] = "", ["tracking"] = "JD014600006281230423",
        };
        return vars;
    }
}

/// <summary>
/// Renders Handlebars templates as plain text (no HTML escaping: emails and SMS are text). Compiled templates are
/// cached by their source. <see cref="Check"/> refuses a template that does not parse or names a variable the message
/// does not have, so a typo is caught when it is saved, not when a shopper gets "Hello ,".
/// </summary>
public sealed class TemplateRenderer
{
    private readonly IHandlebars _lenient = Handlebars.Create(new HandlebarsConfiguration { NoEscape = true });
    private readonly IHandlebars _strict = Handlebars.Create(new HandlebarsConfiguration { NoEscape = true, ThrowOnUnresolvedBindingExpression = true });
    private readonly ConcurrentDictionary<string, HandlebarsTemplate<object, object>> _cache = new();

    public string Render(string source, IReadOnlyDictionary<string, object> vars)
    {
        if (_cache.Count > 2000) _cache.Clear();
        var template = _cache.GetOrAdd(source, s => _lenient.Compile(s));
        return template(vars);
    }

    /// <summary>Null when <paramref name="source"/> renders with exactly <paramref name="variables"/>; otherwise what is wrong, for a person.</summary>
    public string? Check(string source, IReadOnlyList<string> variables)
    {
        try
        {
            var vars = variables.ToDictionary(v => v, v => (object)"x");
            _strict.Compile(source)(vars);
            return null;
        }
        catch (HandlebarsDotNet.Compiler.HandlebarsUndefinedBindingException e)
        {
            return $"'{{{{{e.MissingKey}}}}}' is not a variable of this message. Use one of: {string.Join(", ", variables.Select(v => "{{" + v + "}}"))}.";
        }
        catch (HandlebarsException e)
        {
            var first = e.Message.Split('\n')[0];
            var cut = first.IndexOf(". ", StringComparison.Ordinal);
            return "The template cannot be used: " + (cut > 0 ? first[..(cut + 1)] : first);
        }
    }
}

/// <summary>A merchant's own text for one message, channel and language; without one the default is used.</summary>
public sealed class NotificationTemplate : ITenantOwned
{
    public Guid Id { get; init; } = Guid.CreateVersion7();
    public Guid MerchantId { get; set; }
    public required string Template { get; init; }
    public required string Channel { get; init; }
    public required string Locale { get; init; }
    public string? Subject { get; set; }
    public required string Body { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public required string UpdatedBy { get; set; }

    internal sealed class Config : IEntityTypeConfiguration<NotificationTemplate>
    {
        public void Configure(EntityTypeBuilder<NotificationTemplate> b)
        {
            b.HasKey(x => x.Id);
            b.HasOne<Merchant>().WithMany().HasForeignKey(x => x.MerchantId).OnDelete(DeleteBehavior.Restrict);
            b.HasIndex(x => new { x.MerchantId, x.Template, x.Channel, x.Locale }).IsUnique();
            b.Property(x => x.Template).HasMaxLength(64);
            b.Property(x => x.Channel).HasMaxLength(16);
            b.Property(x => x.Locale).HasMaxLength(10);
            b.Property(x => x.Subject).HasMaxLength(500);
            b.Property(x => x.Body).HasMaxLength(20000);
            b.Property(x => x.UpdatedBy).HasMaxLength(320);
        }
    }
}

/// <summary>Which messages go out on which channel, per merchant (merchants.notification_settings_json).</summary>
public sealed record NotificationSettings(bool SmsEnabled, IReadOnlyList<string> EmailTemplates, IReadOnlyList<string> SmsTemplates)
{
    public static NotificationSettings Default { get; } = new(false, [.. NotificationTemplates.All.Select(t => t.Key)], NotificationTemplates.SmsDefaults);

    public static NotificationSettings Parse(string? json) =>
        string.IsNullOrEmpty(json) ? Default : Infrastructure.Http.Json.Deserialize<NotificationSettings>(json) ?? Default;

    public bool Sends(string channel, string template) => channel switch
    {
        Channels.Email => EmailTemplates.Contains(template),
        Channels.Sms => SmsEnabled && SmsTemplates.Contains(template),
        _ => false,
    };
}
