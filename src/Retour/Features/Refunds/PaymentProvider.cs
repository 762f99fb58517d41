using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Money;
using Retour.Features.Policies;
using Retour.Features.Tenancy;
using Retour.Infrastructure;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Refunds;

public sealed record PaymentRefundRequest(Guid MerchantId, string IdempotencyKey, string? PaymentReference, decimal Amount, string Currency);

/// <summary>What a provider call came to. Unknown (a timeout, a dropped connection) means it may or may not have paid.</summary>
public abstract record PaymentOutcome
{
    public sealed record Paid(string Reference) : PaymentOutcome;
    public sealed record Declined(string Error) : PaymentOutcome;
    public sealed record Unknown(string Error) : PaymentOutcome;
}

/// <summary>What the provider said about a key: it paid (with its reference), it did not, or it could not be asked.</summary>
public abstract record PaymentLookup
{
    public sealed record Found(string Reference) : PaymentLookup;
    public sealed record NotFound : PaymentLookup;
    public sealed record Failed(string Error) : PaymentLookup;
}

/// <summary>A payment provider that refunds to the original payment. Every call carries Retour's idempotency key, and the provider pays once per key.</summary>
public interface IPaymentProvider
{
    Task<PaymentOutcome> RefundAsync(PaymentRefundRequest request, CancellationToken ct);
    /// <summary>The provider's reference for a refund made with this key, or null if it made none (the reconciliation question).</summary>
    Task<string?> FindAsync(Guid merchantId, string idempotencyKey, CancellationToken ct);
}

/// <summary>How the sandbox provider behaves for a merchant: its latency, and how often it declines, times out, or pays and loses the answer.</summary>
public sealed record SandboxPaymentOptions
{
    public int LatencyMs { get; init; } = 40;
    public decimal DeclineRate { get; init; }
    /// <summary>The call hangs past Retour's timeout without paying.</summary>
    public decimal TimeoutRate { get; init; }
    /// <summary>The provider pays, then the answer is lost (a timeout or a crash between "paid" and "recorded").</summary>
    public decimal LostResponseRate { get; init; }

    /// <summary>The current merchant's settings (the defaults until changed).</summary>
    public static async Task<SandboxPaymentOptions> LoadAsync(RetourDb db, CancellationToken ct)
    {
        var id = db.Tenant.MerchantId;
        var json = await db.Merchants.AsNoTracking().Where(m => m.Id == id).Select(m => m.PaymentSandboxJson).FirstOrDefaultAsync(ct);
        return json is null ? new SandboxPaymentOptions() : JsonSerializer.Deserialize<SandboxPaymentOptions>(json, Json.Options)!;
    }

    public IReadOnlyList<FieldError> Validate()
    {
        var errors = new List<FieldError>();
        if (LatencyMs is < 0 or > 60_000) errors.Add(new("latency_ms", "Must be between 0 and 60000."));
        foreach (var (f, v) in new[] { ("decline_rate", DeclineRate), ("timeout_rate", TimeoutRate), ("lost_response_rate", LostResponseRate) })
            if (v is < 0 or > 1) errors.Add(new(f, "Must be between 0 and 1."));
        return errors;
    }
}

/// <summary>
/// The built-in sandbox provider. Its ledger (sandbox_payments) is its own books, written in its own transaction the
/// way a real provider's would be, keyed by the caller's idempotency key: the same key never pays twice.
/// </summary>
public sealed class SandboxPaymentProvider(IServiceScopeFactory scopes) : IPaymentProvider
{
    public async Task<PaymentOutcome> RefundAsync(PaymentRefundRequest r, CancellationToken ct)
    {
        var options = await OptionsAsync(r.MerchantId, ct);
        if (options.LatencyMs > 0) await Task.Delay(Random.Shared.Next(options.LatencyMs / 2, options.LatencyMs + 1), ct);
        // A key that already paid gets that payment back, as a real provider replays an idempotent request: never a decline.
        if (await FindAsync(r.MerchantId, r.IdempotencyKey, ct) is { } paid) return new PaymentOutcome.Paid(paid);
        if (Roll(options.DeclineRate)) return new PaymentOutcome.Declined("card_declined: the issuer refused the refund (sandbox)");
        if (Roll(options.TimeoutRate)) await Task.Delay(Timeout.Infinite, ct); // the caller's timeout ends it
        var reference = await PayAsync(r, ct);
        if (Roll(options.LostResponseRate)) await Task.Delay(Timeout.Infinite, ct);
        return new PaymentOutcome.Paid(reference);
    }

    public async Task<string?> FindAsync(Guid merchantId, string key, CancellationToken ct)
    {
        await using var scope = Scope(merchantId, out var db);
        return await db.SandboxPayments.AsNoTracking().Where(p => p.IdempotencyKey == key).Select(p => p.Reference).FirstOrDefaultAsync(ct);
    }

    private async Task<string> PayAsync(PaymentRefundRequest r, CancellationToken ct)
    {
        await using var scope = Scope(r.MerchantId, out var db);
        var existing = await db.SandboxPayments.AsNoTracking().Where(p => p.IdempotencyKey == r.IdempotencyKey).Select(p => p.Reference).FirstOrDefaultAsync(CancellationToken.None);
        if (existing is not null) return existing;
        var payment = new SandboxPayment
        {
            IdempotencyKey = r.IdempotencyKey, Reference = "sbx_re_" + Guid.NewGuid().ToString("N")[..20], PaymentReference = r.PaymentReference,
            Amount = r.Amount, Currency = r.Currency, CreatedAt = DateTimeOffset.UtcNow,
        };
        db.SandboxPayments.Add(payment);
        try
        {
            // Once the provider has started paying, the caller giving up does not stop it (as with a real provider).
            await db.SaveChangesAsync(CancellationToken.None);
            return payment.Reference;
        }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e, "sandbox_payments"))
        {
            db.ChangeTracker.Clear();
            return await db.SandboxPayments.AsNoTracking().Where(p => p.IdempotencyKey == r.IdempotencyKey).Select(p => p.Reference).FirstAsync(CancellationToken.None);
        }
    }

    private async Task<SandboxPaymentOptions> OptionsAsync(Guid merchantId, CancellationToken ct)
    {
        await using var scope = Scope(merchantId, out var db);
        return await SandboxPaymentOptions.LoadAsync(db, ct);
    }

    private AsyncServiceScope Scope(Guid merchantId, out RetourDb db)
    {
        var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(merchantId);
        db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        return scope;
    }

    private static bool Roll(decimal rate) => rate > 0 && (rate >= 1 || (decimal)Random.Shared.NextDouble() < rate);
}

/// <summary>Calls the provider with Retour's timeout: past it, the outcome is unknown and the reconciliation asks.</summary>
public sealed class PaymentCalls(IPaymentProvider provider, RetourSettings settings, ILogger<PaymentCalls> log)
{
    public IPaymentProvider Provider => provider;

    /// <summary>Asks the provider about a key, with the same timeout as a call; a failure to ask is not a "no".</summary>
    public async Task<PaymentLookup> FindAsync(Guid merchantId, string key, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(settings.PaymentTimeout);
        try
        {
            return await provider.FindAsync(merchantId, key, cts.Token) is { } reference ? new PaymentLookup.Found(reference) : new PaymentLookup.NotFound();
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            log.LogWarning("Asking the payment provider about {Key}: no answer within {Ms:0} ms", key, settings.PaymentTimeout.TotalMilliseconds);
            return new PaymentLookup.Failed($"no answer within {settings.PaymentTimeout.TotalMilliseconds:0} ms");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or DbUpdateException or InvalidOperationException or System.Data.Common.DbException)
        {
            // Recorded on the refund and asked again by the reconciliation; logged here with the exception, once per call.
            // The sandbox keeps its ledger in Retour's database: an outage there is the caller's to log, once.
            if (!DbErrors.IsUnavailable(e)) log.LogWarning(e, "Asking the payment provider about {Key} failed", key);
            return new PaymentLookup.Failed(e.Message);
        }
    }

    public async Task<PaymentOutcome> RefundAsync(PaymentRefundRequest request, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(settings.PaymentTimeout);
        try
        {
            return await provider.RefundAsync(request, cts.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            log.LogWarning("Refund {Key} at the payment provider: no answer within {Ms:0} ms; the reconciliation asks again", request.IdempotencyKey, settings.PaymentTimeout.TotalMilliseconds);
            return new PaymentOutcome.Unknown($"no answer within {settings.PaymentTimeout.TotalMilliseconds:0} ms");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or DbUpdateException or InvalidOperationException)
        {
            if (!DbErrors.IsUnavailable(e)) log.LogWarning(e, "Refund {Key} at the payment provider: no clear answer; the reconciliation asks again", request.IdempotencyKey);
            return new PaymentOutcome.Unknown(e.Message);
        }
    }
}

public sealed record SandboxPaymentDto(Guid Id, string IdempotencyKey, string Reference, string? PaymentReference, string Amount, string Currency, DateTimeOffset CreatedAt);

/// <summary>The sandbox provider's side: its ledger (GET /api/v1/sandbox/payments) and its behaviour (PUT /api/v1/sandbox/payments/settings).</summary>
public static class SandboxPaymentEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/sandbox/payments", Ledger).RequireScope(Scopes.RefundsRead).WithName("SandboxPayments").WithTags("Refunds")
            .WithSummary("The sandbox payment provider's own ledger").WithDescription("What the provider paid out, oldest first, to compare with Retour's refunds. Cursor paging; limit up to 500.");
        api.MapGet("/sandbox/payments/settings", GetSettings).RequireScope(Scopes.RefundsRead).WithName("GetSandboxPaymentSettings").WithTags("Refunds");
        api.MapPut("/sandbox/payments/settings", PutSettings).RequireScope(Scopes.RefundsWrite).WithName("PutSandboxPaymentSettings").WithTags("Refunds")
            .WithSummary("How the sandbox provider behaves")
            .WithDescription("Body: {latency_ms, decline_rate, timeout_rate, lost_response_rate} (rates 0 to 1). lost_response_rate pays and then loses the answer, " +
                             "as a crash between \"paid\" and \"recorded\" would; the reconciliation finds the payment by its key.");
    }

    public static async Task<Results<Ok<Page<SandboxPaymentDto>>, ProblemHttpResult>> Ledger(RetourDb db, CancellationToken ct, string? cursor = null, string? limit = null)
    {
        var errors = Cursor.Check(limit, cursor, 'a', out var take, out var after, maxLimit: 500);
        if (errors.Count > 0) return Problems.Validation(errors);
        var q = db.SandboxPayments.AsNoTracking();
        if (after is { } a) q = q.Where(p => p.CreatedAt > a.At || (p.CreatedAt == a.At && p.Id.CompareTo(a.Id) > 0));
        var rows = await q.OrderBy(p => p.CreatedAt).ThenBy(p => p.Id).Take(take + 1).ToListAsync(ct);
        var more = rows.Count > take;
        if (more) rows.RemoveAt(take);
        return TypedResults.Ok(new Page<SandboxPaymentDto>([.. rows.Select(p => new SandboxPaymentDto(p.Id, p.IdempotencyKey, p.Reference, p.PaymentReference,
            Currencies.Format(p.Amount, p.Currency), p.Currency, p.CreatedAt))], more ? Cursor.Encode('a', rows[^1].CreatedAt, rows[^1].Id) : null, more));
    }

    public static async Task<Ok<SandboxPaymentOptions>> GetSettings(RetourDb db, CancellationToken ct) =>
        TypedResults.Ok(await SandboxPaymentOptions.LoadAsync(db, ct));

    public static async Task<Results<Ok<SandboxPaymentOptions>, ProblemHttpResult>> PutSettings(HttpContext http, RetourDb db, CancellationToken ct)
    {
        var (o, problem) = await http.Request.ReadStrictJsonAsync<SandboxPaymentOptions>("Send the settings as a JSON object.", ct);
        if (o is null) return problem!;
        var errors = o.Validate();
        if (errors.Count > 0) return Problems.Validation(errors);
        var id = db.Tenant.MerchantId;
        var m = await db.Merchants.FirstAsync(x => x.Id == id, ct);
        m.PaymentSandboxJson = JsonSerializer.Serialize(o, Json.Options);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(o);
    }
}
