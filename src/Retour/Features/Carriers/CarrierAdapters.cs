using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Polly;
using Polly.Retry;
using Polly.Timeout;
using Retour.Core;
using Retour.Core.Addresses;
using Retour.Core.Logistics;
using Retour.Core.Tracking;
using Retour.Infrastructure;

namespace Retour.Features.Carriers;

/// <summary>What Retour asks a carrier to book. <see cref="IdempotencyKey"/> is the same on every retry of the same booking.</summary>
public sealed record BookingRequest(
    string IdempotencyKey, Guid ReturnId, string Rma, CarrierProfile Carrier, string Service, DateOnly? PickupDate,
    PostalAddress? From, PostalAddress? To, int Grams, JsonElement? Options);

/// <summary>What a carrier answered to a booking.</summary>
public sealed record Booking(string TrackingNumber, string FirstCode, string FirstMessage, string? PickupWindow = null);

/// <summary>A carrier's API as Retour uses it. New carriers are adapters registered in DI; the sandbox is built in.</summary>
public interface ICarrierAdapter
{
    string Name { get; }
    /// <summary>Whether the carrier (or its tracking provider) pushes events by webhook; otherwise Retour polls it.</summary>
    bool PushesEvents { get; }
    /// <summary>Validates the carrier's adapter_options; returns the errors.</summary>
    IReadOnlyList<FieldError> CheckOptions(JsonElement? options);
    Task<Booking> BookAsync(BookingRequest request, CancellationToken ct);
    Task CancelAsync(string trackingNumber, JsonElement? options, CancellationToken ct);
    /// <summary>Asks the carrier to try a failed pickup again on <paramref name="date"/>.</summary>
    Task<Booking> RebookPickupAsync(string trackingNumber, DateOnly date, PostalAddress from, JsonElement? options, CancellationToken ct);
}

/// <summary>A booking the carrier refused (as opposed to a timeout or a transport error).</summary>
public sealed class CarrierException(string message) : Exception(message);

/// <summary>The adapters known to this process, by name.</summary>
public sealed class CarrierAdapters(IEnumerable<ICarrierAdapter> adapters)
{
    private readonly Dictionary<string, ICarrierAdapter> _byName = adapters.ToDictionary(a => a.Name, StringComparer.Ordinal);

    public ICarrierAdapter? Find(string name) => _byName.GetValueOrDefault(name);

    public IReadOnlyCollection<string> Names => _byName.Keys;
}

/// <summary>
/// Calls to carriers go through one resilience pipeline: a timeout per attempt and retries with exponential backoff and
/// jitter for errors and timeouts. When it gives up, booking falls back to the next candidate carrier.
/// </summary>
public sealed class CarrierCalls
{
    public ResiliencePipeline Pipeline { get; }

    public CarrierCalls(RetourSettings settings, ILogger<CarrierCalls> log) =>
        Pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = settings.CarrierRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                ShouldHandle = new PredicateBuilder().Handle<TimeoutRejectedException>().Handle<HttpRequestException>().Handle<CarrierException>(),
                OnRetry = a => { log.LogWarning(a.Outcome.Exception, "Carrier call failed (attempt {Attempt}); retrying in {Delay}", a.AttemptNumber + 1, a.RetryDelay); return ValueTask.CompletedTask; },
            })
            .AddTimeout(settings.CarrierTimeout)
            .Build();
}

/// <summary>The sandbox adapter's settings (adapter_options), all optional. Rates are 0..1.</summary>
public sealed record SandboxOptions
{
    public double PickupSuccessRate { get; init; } = 0.9;
    public double ExceptionRate { get; init; } = 0.03;
    public double DamageRate { get; init; } = 0.01;
    public double DelayRate { get; init; } = 0.1;
    public double DuplicateRate { get; init; } = 0.05;
    public double OutOfOrderRate { get; init; } = 0.05;
    /// <summary>Share of bookings the sandbox refuses (to see fallback to the next carrier).</summary>
    public double BookFailureRate { get; init; }
    /// <summary>How long a booking takes; above the carrier timeout it times out.</summary>
    public int BookDelayMs { get; init; }

    public SandboxBehaviour Behaviour => new(PickupSuccessRate, ExceptionRate, DamageRate, DelayRate, DuplicateRate, OutOfOrderRate);

    public static SandboxOptions From(JsonElement? options) =>
        options is { ValueKind: JsonValueKind.Object } o ? o.Deserialize<SandboxOptions>(Infrastructure.Http.Json.Options) ?? new() : new();
}

/// <summary>
/// Retour's built-in carrier, for the demo and tests: it books offline, answers at once unless told to be slow or to fail,
/// and its parcels then live a simulated life (SandboxLife) that the poller reads. Tracking numbers are derived from the
/// idempotency key, so a retried booking gets the same parcel rather than a second one.
/// </summary>
public sealed class SandboxCarrier : ICarrierAdapter
{
    public string Name => "sandbox";
    public bool PushesEvents => false;

    public IReadOnlyList<FieldError> CheckOptions(JsonElement? options)
    {
        if (options is null || options.Value.ValueKind == JsonValueKind.Null) return [];
        if (options.Value.ValueKind != JsonValueKind.Object) return [new("adapter_options", "Send an object, for example {\"pickup_success_rate\": 0.9}.")];
        SandboxOptions o;
        try { o = options.Value.Deserialize<SandboxOptions>(Infrastructure.Http.Json.Options) ?? new(); }
        catch (JsonException e) { return [new("adapter_options", e.Message)]; }
        var known = typeof(SandboxOptions).GetProperties().Select(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name)).ToHashSet();
        var errors = options.Value.EnumerateObject().Where(p => !known.Contains(p.Name))
            .Select(p => new FieldError($"adapter_options.{p.Name}", $"The sandbox has no option '{p.Name}'. It knows: {string.Join(", ", known.Order())}.")).ToList();
        foreach (var (name, rate) in new[] { ("pickup_success_rate", o.PickupSuccessRate), ("exception_rate", o.ExceptionRate), ("damage_rate", o.DamageRate),
                     ("delay_rate", o.DelayRate), ("duplicate_rate", o.DuplicateRate), ("out_of_order_rate", o.OutOfOrderRate), ("book_failure_rate", o.BookFailureRate) })
            if (rate is < 0 or > 1 || double.IsNaN(rate)) errors.Add(new($"adapter_options.{name}", "A rate is from 0 to 1."));
        if (o.BookDelayMs is < 0 or > 120_000) errors.Add(new("adapter_options.book_delay_ms", "Use 0 to 120000 milliseconds."));
        return errors;
    }

    public static string TrackingNumber(string idempotencyKey) =>
        "SBX" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(idempotencyKey)))[..12];

    public async Task<Booking> BookAsync(BookingRequest r, CancellationToken ct)
    {
        var o = SandboxOptions.From(r.Options);
        if (o.BookDelayMs > 0) await Task.Delay(o.BookDelayMs, ct);
        if (o.BookFailureRate >= 1 || (o.BookFailureRate > 0 && Random.Shared.NextDouble() < o.BookFailureRate))
            throw new CarrierException($"{r.Carrier.Name} refused the booking (sandbox book_failure_rate {o.BookFailureRate}).");
        var number = TrackingNumber(r.IdempotencyKey);
        return r.Service switch
        {
            "pickup" => new Booking(number, "PU_BOOKED", $"Pickup booked for {r.PickupDate:yyyy-MM-dd}, 09:00-13:00", "09:00-13:00"),
            "box_free" => new Booking(number, "LABEL", "QR code issued for box-free drop-off"),
            _ => new Booking(number, "LABEL", "Label created"),
        };
    }

    public Task CancelAsync(string trackingNumber, JsonElement? options, CancellationToken ct) => Task.CompletedTask;

    public Task<Booking> RebookPickupAsync(string trackingNumber, DateOnly date, PostalAddress from, JsonElement? options, CancellationToken ct) =>
        Task.FromResult(new Booking(trackingNumber, "PU_BOOKED", $"Pickup re-booked for {date:yyyy-MM-dd}, 09:00-13:00", "09:00-13:00"));
}
