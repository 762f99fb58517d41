using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Infrastructure.Db;

namespace Retour.Infrastructure.Http;

/// <summary>The Idempotency-Key of the current request, once the middleware has checked it is new.</summary>
public sealed class IdempotencyScope
{
    public string? Key { get; private set; }
    public string? RequestHash { get; private set; }
    public bool Active => Key is not null;

    public void Begin(string key, string hash) => (Key, RequestHash) = (key, hash);
}

/// <summary>Endpoint metadata: the endpoint looks the Idempotency-Key up itself, in the same round trip as its own reads.</summary>
public sealed class IdempotencyCheckedByEndpoint;

public sealed class IdempotencyConflictException() : Exception("Another request with the same Idempotency-Key committed first.");

/// <summary>
/// Every POST accepts an Idempotency-Key. The first response is stored in the same transaction as the change
/// (see <see cref="IdempotentCommit"/>), so a retry either finds both or neither. The same key with the same body
/// replays the first response; with a different body it is refused with 422. Keys are kept for 24 hours.
/// </summary>
public sealed class IdempotencyMiddleware(RequestDelegate next)
{
    public const string Header = "Idempotency-Key";
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    public async Task Invoke(HttpContext ctx, TenantContext tenant, IdempotencyScope scope, RetourDb db)
    {
        if (!HttpMethods.IsPost(ctx.Request.Method) || tenant.MerchantId == Guid.Empty ||
            !ctx.Request.Headers.TryGetValue(Header, out var values))
        {
            await next(ctx);
            return;
        }
        var key = values.ToString().Trim();
        if (key.Length is 0 or > 255)
        {
            await Problems.Write(ctx, 400, "invalid_idempotency_key", "Invalid Idempotency-Key", "An Idempotency-Key is 1 to 255 characters.");
            return;
        }

        var hash = await HashRequestAsync(ctx);
        // Hot endpoints look the key up in their own first round trip (see ReturnableOrder.LoadAsync).
        var checkedByEndpoint = ctx.GetEndpoint()?.Metadata.GetMetadata<IdempotencyCheckedByEndpoint>() is not null;
        if (!checkedByEndpoint && await FindAsync(db, key, ctx.RequestAborted) is { } first)
        {
            await ReplayOrRefuseAsync(ctx, first.RequestHash, first.StatusCode, first.ResponseBody, first.Location, hash);
            return;
        }
        scope.Begin(key, hash);
        try
        {
            await next(ctx);
        }
        catch (IdempotencyConflictException)
        {
            db.ChangeTracker.Clear();
            var winner = await FindAsync(db, key, ctx.RequestAborted)
                ?? throw new InvalidOperationException("The request that won the Idempotency-Key race left no record.");
            await ReplayOrRefuseAsync(ctx, winner.RequestHash, winner.StatusCode, winner.ResponseBody, winner.Location, hash);
        }
    }

    private static Task<IdempotencyRecord?> FindAsync(RetourDb db, string key, CancellationToken ct) =>
        db.IdempotencyRecords.AsNoTracking().FirstOrDefaultAsync(r => r.Key == key, ct);

    private static async Task<string> HashRequestAsync(HttpContext ctx)
    {
        ctx.Request.EnableBuffering();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes($"{ctx.Request.Method} {ctx.Request.Path}\n"));
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = await ctx.Request.Body.ReadAsync(buffer, ctx.RequestAborted)) > 0) sha.AppendData(buffer, 0, n);
        ctx.Request.Body.Position = 0;
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    public static async Task ReplayOrRefuseAsync(HttpContext ctx, string firstHash, int status, string body, string? location, string hash)
    {
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(firstHash), Encoding.ASCII.GetBytes(hash)))
        {
            await Problems.Write(ctx, 422, "idempotency_key_reused", "Idempotency-Key reused with a different request",
                "This Idempotency-Key was first used with a different request. Use a new key for a new request.");
            return;
        }
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = status >= 400 ? Problems.ContentType : "application/json; charset=utf-8";
        ctx.Response.Headers["Idempotent-Replayed"] = "true";
        if (location is not null) ctx.Response.Headers.Location = location;
        await ctx.Response.WriteAsync(body, ctx.RequestAborted);
    }
}

public static class IdempotentCommit
{
    /// <summary>
    /// Saves the unit of work and, when the request carries an Idempotency-Key, its response with it.
    /// Endpoints that change data end with this instead of SaveChangesAsync.
    /// </summary>
    public static async Task<TResult> CommitAsync<TResult>(this RetourDb db, IdempotencyScope scope, TResult result, DateTimeOffset now, CancellationToken ct)
        where TResult : IResult, IStatusCodeHttpResult, IValueHttpResult
    {
        if (scope.Active)
        {
            db.IdempotencyRecords.Add(new IdempotencyRecord
            {
                Key = scope.Key!,
                RequestHash = scope.RequestHash!,
                StatusCode = result.StatusCode ?? 200,
                ResponseBody = result.Value is null ? "" : JsonSerializer.Serialize(result.Value, result.Value.GetType(), Json.Options),
                Location = LocationOf(result),
                CreatedAt = now,
            });
        }
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException e) when (scope.Active && DbErrors.IsUniqueViolation(e, "idempotency_records"))
        {
            throw new IdempotencyConflictException();
        }
        return result;
    }

    // Created<T> and Accepted<T> carry a Location; they share no interface that exposes it.
    private static string? LocationOf(object result) => result.GetType().GetProperty("Location")?.GetValue(result) as string;
}

public static class FreshRead
{
    /// <summary>
    /// Runs a write that answers null when it lost a race to another change of the same row and still has to be done
    /// (the return's status token moved under it): again from a fresh read, up to three times, then 409.
    /// </summary>
    public static async Task<IResult> RetryAsync(RetourDb db, Func<Task<IResult?>> once, string title, string detail)
    {
        for (var attempt = 1; ; attempt++)
        {
            if (await once() is { } result) return result;
            db.ChangeTracker.Clear();
            if (attempt == 3) return Problems.Result(409, "concurrent_update", title, detail);
        }
    }
}
