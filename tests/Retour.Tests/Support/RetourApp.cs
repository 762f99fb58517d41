using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Retour.Core.Policies;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Tests.Support;

/// <summary>
/// The real host (Program) on a fresh database of its own. Tests isolate themselves further by each making their
/// own merchants, which tenancy keeps apart — the very property the tenancy tests prove.
/// </summary>
public class RetourApp : WebApplicationFactory<Program>
{
    public string ConnectionString { get; }
    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "retour-tests", "data-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    public RetourApp() : this(null) { }

    protected RetourApp(string? connectionString, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        ConnectionString = connectionString ?? TestDb.NewDatabase(GetType().Name.ToLowerInvariant()[..Math.Min(12, GetType().Name.Length)]);
        _settings = new Dictionary<string, string?>
        {
            ["RETOUR_DB_PROVIDER"] = TestDb.ProviderSetting,
            ["RETOUR_DB"] = ConnectionString,
            ["RETOUR_SEED_DEMO"] = "false",
            ["RETOUR_DATA_DIR"] = DataDir,
            ["RETOUR_RATE_LIMIT"] = "0",
            // Tests drive the sandbox's events themselves (or call the poller); its simulated life would race them.
            ["RETOUR_SANDBOX_AUTOPILOT"] = "false",
        };
        if (settings is not null) foreach (var (k, v) in settings) _settings[k] = v;
        _services = services;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (k, v) in _settings) builder.UseSetting(k, v);
        builder.UseEnvironment("Testing");
        builder.ConfigureLogging(l => l.AddProvider(new ErrorLog(Errors)));
        if (_services is not null) builder.ConfigureTestServices(_services);
    }

    /// <summary>The host's warnings and errors, newest last (the last 50), for a failing test's message.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Errors { get; } = new();

    public string RecentErrors => Errors.IsEmpty ? "(the host logged no warnings or errors)" : "the host logged:\n" + string.Join("\n", Errors);

    private sealed class ErrorLog(System.Collections.Concurrent.ConcurrentQueue<string> into) : Microsoft.Extensions.Logging.ILoggerProvider, Microsoft.Extensions.Logging.ILogger
    {
        public Microsoft.Extensions.Logging.ILogger CreateLogger(string categoryName) => this;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => logLevel >= Microsoft.Extensions.Logging.LogLevel.Warning;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            into.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.GetType().Name + ": " + exception.Message)}");
            while (into.Count > 50) into.TryDequeue(out _);
        }
        public void Dispose() { }
    }

    public async Task<TestMerchant> NewMerchantAsync(ReturnPolicy? policy = null, string? shopifySecret = null, string currency = "EUR",
        string timeZone = "Europe/Berlin", string locale = "en")
    {
        var slug = "m-" + Guid.NewGuid().ToString("N")[..10];
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        var (merchant, key) = await MerchantSetup.CreateAsync(db,
            new NewMerchant(slug, "Test shop " + slug, currency, timeZone, locale, null, shopifySecret is null ? null : slug + ".myshopify.com", shopifySecret, policy),
            DateTimeOffset.UtcNow, CancellationToken.None);
        return new TestMerchant(merchant.Id, slug, key, Client(key));
    }

    /// <summary>
    /// Closes this host's idle PostgreSQL connections when it goes: a pool outlives its host by minutes otherwise, and
    /// with a database per test class the suite would run out of server connections.
    /// </summary>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && TestDb.IsPostgres)
            using (var conn = new Npgsql.NpgsqlConnection(Retour.Infrastructure.Db.DbSetup.PostgresConnectionString(ConnectionString)))
                Npgsql.NpgsqlConnection.ClearPool(conn);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (TestDb.IsPostgres)
            await using (var conn = new Npgsql.NpgsqlConnection(Retour.Infrastructure.Db.DbSetup.PostgresConnectionString(ConnectionString)))
                Npgsql.NpgsqlConnection.ClearPool(conn);
    }

    public HttpClient Client(string? apiKey)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (apiKey is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    /// <summary>Runs <paramref name="work"/> with a DbContext acting for <paramref name="merchantId"/>.</summary>
    public async Task<T> WithDb<T>(Guid merchantId, Func<RetourDb, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(merchantId);
        return await work(scope.ServiceProvider.GetRequiredService<RetourDb>());
    }
}

/// <summary>A host with its own settings or services (xunit fixtures may have only one public constructor, so this is separate).</summary>
public sealed class ConfiguredRetourApp(string? connectionString, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    : RetourApp(connectionString, settings, services);

public sealed record TestMerchant(Guid Id, string Slug, string ApiKey, HttpClient Client);
