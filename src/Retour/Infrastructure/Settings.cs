using Microsoft.Extensions.Configuration;

namespace Retour.Infrastructure;

public enum DbProvider { Sqlite, Postgres }

/// <summary>
/// What a process does (RETOUR_ROLE, or the command: `retour web`, `retour worker`): everything (the default, one
/// process), the web role (API, portal and console; no background work), or the worker role (background work: the
/// outbox and every worker loop; only the health endpoints over HTTP).
/// </summary>
public enum RetourRole { All, Web, Worker }

/// <summary>
/// Every setting Retour reads, with its environment variable. README.md's configuration reference lists the same names.
/// </summary>
public sealed record RetourSettings
{
    public DbProvider Provider { get; init; } = DbProvider.Sqlite;
    public required string ConnectionString { get; init; }
    public string DataDir { get; init; } = "./data";
    public const string DefaultUrls = "http://127.0.0.1:5080";
    public string Urls { get; init; } = DefaultUrls;
    /// <summary>Where shoppers reach this installation (links in events and messages); defaults to the first of <see cref="Urls"/>.</summary>
    public string PublicUrl { get; init; } = DefaultUrls;
    public bool SeedDemo { get; init; }
    public string? DemoApiKey { get; init; }
    /// <summary>RETOUR_DEMO_STAFF_PASSWORD: the demo staff's password (else made once and kept in the data directory).</summary>
    public string? DemoStaffPassword { get; init; }
    public string? DemoShopifySecret { get; init; }
    public string? DemoAftershipSecret { get; init; }
    public string? DemoEasypostSecret { get; init; }
    public string? DemoShippoToken { get; init; }
    /// <summary>Rows added to the built-in tracking map (a CSV file in the same columns); they win over built-in rows.</summary>
    public string? TrackingMapFile { get; init; }
    public RetourRole Role { get; init; } = RetourRole.All;
    /// <summary>How long a stopping node keeps serving after readiness turns 503 (RETOUR_SHUTDOWN_DELAY_MS, at most 25 s).</summary>
    public TimeSpan ShutdownDelay { get; init; }
    /// <summary>RETOUR_LOG_FORMAT=json: one JSON object per log line on standard output, and no start-up banner.</summary>
    public bool JsonLogs { get; init; }
    /// <summary>Whether this process does background work: not in the web role, and RETOUR_OUTBOX_RELAY=false turns it off.</summary>
    public bool RunOutboxRelay { get; init; } = true;
    /// <summary>RETOUR_RABBITMQ_URL: scaled mode's broker (amqp://user:password@host:5672/vhost). Unset: the outbox is delivered in process.</summary>
    public string? RabbitMqUrl { get; init; }
    /// <summary>RETOUR_RABBITMQ_QUEUE: the outbox queue's name (its retry and dead-letter queues are named after it).</summary>
    public string RabbitMqQueue { get; init; } = "retour.outbox";
    /// <summary>RETOUR_WORKER_CONCURRENCY: messages a worker handles at once from the broker.</summary>
    public int WorkerConcurrency { get; init; } = 4;
    /// <summary>RETOUR_OUTBOX_MAX_ATTEMPTS: deliveries of an event before it is dead-lettered (the console's dead letters).</summary>
    public int OutboxMaxAttempts { get; init; } = 12;
    /// <summary>Requests per second per API key; 0 turns the limit off.</summary>
    public int RateLimitPerSecond { get; init; } = 200;
    public bool MigrateOnStart { get; init; } = true;
    /// <summary>How long one call to a carrier may take before it counts as failed.</summary>
    public TimeSpan CarrierTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Retries of a failed carrier call before booking falls back to the next carrier.</summary>
    public int CarrierRetries { get; init; } = 2;
    /// <summary>Whether sandbox parcels live their simulated life (scans, pickups, delivery) on their own.</summary>
    public bool SandboxAutopilot { get; init; } = true;
    /// <summary>How much faster than real time the sandbox's clock runs (360: a simulated day passes in 4 minutes).</summary>
    public double SandboxSpeed { get; init; } = 360;
    /// <summary>How long one payment-provider call may take before its outcome counts as unknown (then the provider is asked).</summary>
    public TimeSpan PaymentTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Provider attempts for one refund before it is handed to support.</summary>
    public int RefundMaxAttempts { get; init; } = 6;
    /// <summary>The first retry waits this long; each next one twice as long (capped at an hour).</summary>
    public TimeSpan RefundRetryBase { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// How long a refund being paid is held by the caller before the worker may take it over (and ask the provider first):
    /// past two payment timeouts the caller has died. Taking over early is safe too, because every call carries the same key.
    /// </summary>
    /// <summary>Outgoing webhooks: one attempt's timeout, the first retry's wait (doubling, capped at an hour), and when to give up.</summary>
    public TimeSpan WebhookTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan WebhookRetryBase { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan WebhookGiveUpAfter { get; init; } = TimeSpan.FromHours(24);
    /// <summary>The SMTP server notifications are sent through (configuration Smtp:Host, Smtp:Port, Smtp:From; env Smtp__Host …); no host, no email.</summary>
    public string? SmtpHost { get; init; }
    public int SmtpPort { get; init; } = 25;
    public string SmtpFrom { get; init; } = "Retour <no-reply@retour.local>";
    /// <summary>
    /// The SMS provider (configuration Sms:Provider): "twilio" (Twilio's Messages API, or any service that speaks it, at
    /// Sms:BaseUrl with Sms:AccountSid and Sms:AuthToken) or "sandbox" (accepts without sending, with Twilio's test numbers'
    /// failures); none, no SMS. Sms:From is the sender number or alphanumeric sender id.
    /// </summary>
    public string? SmsProvider { get; init; }
    public string SmsFrom { get; init; } = "Retour";
    public string? SmsAccountSid { get; init; }
    public string? SmsAuthToken { get; init; }
    public string SmsBaseUrl { get; init; } = "https://api.twilio.com";
    /// <summary>Whether webhook URLs may point at this machine (localhost, 127.0.0.1): for development and tests only.</summary>
    public bool WebhookAllowLocal { get; init; }
    public TimeSpan RefundLease => PaymentTimeout * 2 + TimeSpan.FromSeconds(5);

    public static RetourSettings From(IConfiguration c)
    {
        var providerText = c["RETOUR_DB_PROVIDER"] ?? "sqlite";
        var provider = providerText.ToLowerInvariant() switch
        {
            "sqlite" => DbProvider.Sqlite,
            "postgres" or "postgresql" or "npgsql" => DbProvider.Postgres,
            _ => throw new InvalidOperationException($"RETOUR_DB_PROVIDER must be 'sqlite' or 'postgres', not '{providerText}'."),
        };
        var dataDir = c["RETOUR_DATA_DIR"] ?? "./data";
        var connection = c["RETOUR_DB"];
        if (string.IsNullOrWhiteSpace(connection))
        {
            if (provider == DbProvider.Postgres)
                throw new InvalidOperationException("RETOUR_DB must hold the PostgreSQL connection string when RETOUR_DB_PROVIDER=postgres.");
            connection = $"Data Source={Path.Combine(dataDir, "retour.db")}";
        }
        return new RetourSettings
        {
            Provider = provider,
            ConnectionString = connection,
            DataDir = dataDir,
            Urls = c["RETOUR_URLS"] ?? DefaultUrls,
            // A web or worker node's own address is not where shoppers reach Retour (a load balancer is): links need it said.
            PublicUrl = (Blank(c["RETOUR_PUBLIC_URL"]) ?? (RoleOf(c) == RetourRole.All ? (c["RETOUR_URLS"] ?? DefaultUrls).Split(';', StringSplitOptions.RemoveEmptyEntries)[0]
                : throw new InvalidOperationException("RETOUR_PUBLIC_URL must be set in the web and worker roles: the address shoppers reach Retour at (the load balancer's), for links in messages and events."))).TrimEnd('/'),
            SeedDemo = Bool(c["RETOUR_SEED_DEMO"], provider == DbProvider.Sqlite),
            DemoApiKey = Blank(c["RETOUR_DEMO_API_KEY"]),
            DemoStaffPassword = Blank(c["RETOUR_DEMO_STAFF_PASSWORD"]),
            DemoShopifySecret = Blank(c["RETOUR_DEMO_SHOPIFY_SECRET"]),
            DemoAftershipSecret = Blank(c["RETOUR_DEMO_AFTERSHIP_SECRET"]),
            DemoEasypostSecret = Blank(c["RETOUR_DEMO_EASYPOST_SECRET"]),
            DemoShippoToken = Blank(c["RETOUR_DEMO_SHIPPO_TOKEN"]),
            TrackingMapFile = Blank(c["RETOUR_TRACKING_MAP"]),
            Role = RoleOf(c),
            JsonLogs = JsonLogsOf(c),
            ShutdownDelay = TimeSpan.FromMilliseconds(int.TryParse(c["RETOUR_SHUTDOWN_DELAY_MS"], out var sd) && sd is >= 0 and <= 25_000 ? sd : 0),
            RunOutboxRelay = Bool(c["RETOUR_OUTBOX_RELAY"], true) && RoleOf(c) != RetourRole.Web,
            RabbitMqUrl = RabbitUrlOf(c),
            RabbitMqQueue = Blank(c["RETOUR_RABBITMQ_QUEUE"])?.Trim() is { } q
                ? (q.Length <= 200 && q.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '.' or '_' or '-') ? q
                    : throw new InvalidOperationException("RETOUR_RABBITMQ_QUEUE may hold letters, digits, '.', '_' and '-' (at most 200)."))
                : "retour.outbox",
            OutboxMaxAttempts = int.TryParse(c["RETOUR_OUTBOX_MAX_ATTEMPTS"], out var oma) && oma is >= 1 and <= 50 ? oma : 12,
            WorkerConcurrency = int.TryParse(c["RETOUR_WORKER_CONCURRENCY"], out var wc) && wc is >= 1 and <= 64 ? wc : 4,
            RateLimitPerSecond = int.TryParse(c["RETOUR_RATE_LIMIT"], out var rl) && rl >= 0 ? rl : 200,
            MigrateOnStart = Bool(c["RETOUR_MIGRATE_ON_START"], true),
            CarrierTimeout = TimeSpan.FromMilliseconds(int.TryParse(c["RETOUR_CARRIER_TIMEOUT_MS"], out var ct) && ct is >= 10 and <= 600_000 ? ct : 10_000),
            CarrierRetries = int.TryParse(c["RETOUR_CARRIER_RETRIES"], out var cr) && cr is >= 0 and <= 10 ? cr : 2,
            SandboxAutopilot = Bool(c["RETOUR_SANDBOX_AUTOPILOT"], true),
            PaymentTimeout = TimeSpan.FromMilliseconds(int.TryParse(c["RETOUR_PAYMENT_TIMEOUT_MS"], out var pt) && pt is >= 10 and <= 600_000 ? pt : 10_000),
            RefundMaxAttempts = int.TryParse(c["RETOUR_REFUND_MAX_ATTEMPTS"], out var rm) && rm is >= 1 and <= 50 ? rm : 6,
            RefundRetryBase = TimeSpan.FromMilliseconds(int.TryParse(c["RETOUR_REFUND_RETRY_MS"], out var rr) && rr is >= 10 and <= 3_600_000 ? rr : 30_000),
            SmtpHost = Blank(c["Smtp:Host"]),
            SmtpPort = int.TryParse(c["Smtp:Port"], out var smtpPort) && smtpPort is > 0 and < 65536 ? smtpPort : 25,
            SmtpFrom = Blank(c["Smtp:From"]) ?? "Retour <no-reply@retour.local>",
            SmsProvider = Blank(c["Sms:Provider"])?.Trim().ToLowerInvariant(),
            SmsFrom = Blank(c["Sms:From"]) ?? "Retour",
            SmsAccountSid = Blank(c["Sms:AccountSid"]),
            SmsAuthToken = Blank(c["Sms:AuthToken"]),
            SmsBaseUrl = (Blank(c["Sms:BaseUrl"]) ?? "https://api.twilio.com").TrimEnd('/'),
            WebhookAllowLocal = string.Equals(c["RETOUR_WEBHOOK_ALLOW_LOCAL"], "true", StringComparison.OrdinalIgnoreCase),
            WebhookTimeout = TimeSpan.FromMilliseconds(int.TryParse(c["RETOUR_WEBHOOK_TIMEOUT_MS"], out var wt) && wt is >= 100 and <= 60_000 ? wt : 10_000),
            WebhookRetryBase = TimeSpan.FromMilliseconds(int.TryParse(c["RETOUR_WEBHOOK_RETRY_MS"], out var wr) && wr is >= 10 and <= 3_600_000 ? wr : 30_000),
            WebhookGiveUpAfter = TimeSpan.FromMilliseconds(long.TryParse(c["RETOUR_WEBHOOK_GIVE_UP_MS"], out var wg) && wg is >= 1000 and <= 7L * 86_400_000 ? wg : 86_400_000),
            SandboxSpeed = double.TryParse(c["RETOUR_SANDBOX_SPEED"], System.Globalization.CultureInfo.InvariantCulture, out var sp) && sp is >= 1 and <= 1_000_000 ? sp : 360,
        };
    }

    /// <summary>RETOUR_RABBITMQ_URL, checked at start: a typo must not surface as a worker that never delivers.</summary>
    private static string? RabbitUrlOf(IConfiguration c)
    {
        var url = Blank(c["RETOUR_RABBITMQ_URL"])?.Trim();
        if (url is null) return null;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("amqp" or "amqps"))
            throw new InvalidOperationException("RETOUR_RABBITMQ_URL must be an amqp:// or amqps:// URL, such as amqp://guest:guest@127.0.0.1:5672/.");
        return url;
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    /// <summary>RETOUR_LOG_FORMAT: text (the default) or json.</summary>
    public static bool JsonLogsOf(IConfiguration c) => (c["RETOUR_LOG_FORMAT"] ?? "text").Trim().Equals("json", StringComparison.OrdinalIgnoreCase);

    /// <summary>RETOUR_ROLE: all (the default), web or worker.</summary>
    public static RetourRole RoleOf(IConfiguration c) => (c["RETOUR_ROLE"] ?? "all").Trim().ToLowerInvariant() switch
    {
        "all" or "" => RetourRole.All,
        "web" => RetourRole.Web,
        "worker" => RetourRole.Worker,
        var other => throw new InvalidOperationException($"RETOUR_ROLE must be 'all', 'web' or 'worker', not '{other}'."),
    };

    private static bool Bool(string? s, bool fallback) => s?.Trim().ToLowerInvariant() switch
    {
        "1" or "true" or "yes" or "on" => true,
        "0" or "false" or "no" or "off" => false,
        _ => fallback,
    };
}
