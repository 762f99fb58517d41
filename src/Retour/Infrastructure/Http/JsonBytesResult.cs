namespace Retour.Infrastructure.Http;

/// <summary>A JSON answer serialised once, so the same bytes can be sent and stored for Idempotency-Key replays.</summary>
public sealed class JsonBytesResult(int status, byte[] body, string? location = null) : IResult
{
    public byte[] Body => body;

    public Task ExecuteAsync(HttpContext ctx)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json; charset=utf-8";
        if (location is not null) ctx.Response.Headers.Location = location;
        ctx.Response.ContentLength = body.Length;
        return ctx.Response.Body.WriteAsync(body, ctx.RequestAborted).AsTask();
    }
}

/// <summary>Replays the first response to an Idempotency-Key, or refuses a different request under the same key.</summary>
public sealed class ReplayResult(string firstHash, int status, string body, string? location, string requestHash) : IResult
{
    public Task ExecuteAsync(HttpContext ctx) => IdempotencyMiddleware.ReplayOrRefuseAsync(ctx, firstHash, status, body, location, requestHash);
}
