using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;

namespace Retour.Infrastructure.Http;

/// <summary>Turns what escapes an endpoint into problem details: bad JSON is 400, a body too large 413, anything else 500.</summary>
public static class ErrorHandling
{
    public static IServiceCollection AddRetourProblems(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Instance ??= c.HttpContext.Request.Path;
            // This process's trace id (ASP.NET's own traceId, a whole traceparent when tracing is on, goes) and the
            // request's correlation id, which the caller may have chosen (Telemetry.UseCorrelation).
            c.ProblemDetails.Extensions.Remove("traceId");
            c.ProblemDetails.Extensions["trace_id"] = Telemetry.TraceId(c.HttpContext);
            c.ProblemDetails.Extensions["correlation_id"] = Telemetry.CorrelationId(c.HttpContext);
            if (c.ProblemDetails.Type is null or "about:blank" && c.ProblemDetails.Status is { } s)
            {
                var code = s switch { 404 => "not_found", 405 => "method_not_allowed", 415 => "unsupported_media_type", _ => "http_" + s };
                c.ProblemDetails.Type = "/problems/" + code;
                c.ProblemDetails.Extensions.TryAdd("code", code);
            }
        });
        services.AddExceptionHandler<ExceptionToProblem>();
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services;
    }

    private sealed class ExceptionToProblem(ILogger<ExceptionToProblem> log) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext ctx, Exception ex, CancellationToken ct)
        {
            var (status, code, title, detail, errors) = Classify(ex);
            if (status == 503)
            {
                // The database is restarting or unreachable: nothing was written (the transaction did not commit), and
                // the same request will work in a moment.
                log.LogWarning("Database unavailable on {Method} {Path}: {Error}", ctx.Request.Method, ctx.Request.Path, ex.GetBaseException().Message);
                ctx.Response.Headers.RetryAfter = "2";
            }
            else if (status >= 500) log.LogError(ex, "Unhandled error on {Method} {Path}", ctx.Request.Method, ctx.Request.Path);
            var ext = errors is null ? null : new Dictionary<string, object?> { ["errors"] = errors };
            await Problems.Write(ctx, status, code, title, detail, ext);
            return true;
        }

        private static (int, string, string, string, Dictionary<string, string[]>?) Classify(Exception ex)
        {
            var json = ex as JsonException ?? ex.InnerException as JsonException;
            if (json is not null)
            {
                var field = JsonPathToField(json.Path);
                var message = CleanJsonMessage(json);
                return (400, "malformed_json", "The request body is not valid JSON for this endpoint",
                    field is null ? message : $"{field}: {message}",
                    field is null ? null : new Dictionary<string, string[]> { [field] = [message] });
            }
            if (ex is BadHttpRequestException bad)
            {
                if (bad.StatusCode == 413)
                    return (413, "payload_too_large", "The request body is too large", bad.Message, null);
                var inner = ex.InnerException?.Message;
                return (bad.StatusCode, "bad_request", "The request could not be read", inner is null ? bad.Message : $"{bad.Message} {inner}", null);
            }
            // A multipart body that does not parse (no boundary, a cut-off section): the sender's mistake, not ours.
            if (ex is InvalidDataException)
                return (400, "bad_request", "The request could not be read", ex.Message, null);
            if (Db.DbErrors.IsUnavailable(ex))
                return (503, "unavailable", "The service is briefly unavailable",
                    "Retour could not reach its database. Nothing was changed; send the same request again in a few seconds (with the same Idempotency-Key).", null);
            return (500, "internal_error", "Something went wrong on our side", "The error has been logged. Retry later or contact support with the trace id.", null);
        }

        /// <summary>"$.lines[0].quantity" → "lines[0].quantity".</summary>
        private static string? JsonPathToField(string? path) =>
            string.IsNullOrEmpty(path) || path == "$" ? null : path.StartsWith("$.") ? path[2..] : path.TrimStart('$');

        private static string CleanJsonMessage(JsonException ex)
        {
            // System.Text.Json appends "Path: … | LineNumber: …" to its own messages; the path is reported separately.
            var m = ex.Message;
            var cut = m.IndexOf(" Path: ", StringComparison.Ordinal);
            if (cut > 0) m = m[..cut];
            if (m.StartsWith("The JSON value could not be converted", StringComparison.Ordinal)) m = "This value has the wrong type.";
            // "The JSON property 'x' could not be mapped to any .NET member contained in type 'Retour.…'": no type names out.
            var unknown = System.Text.RegularExpressions.Regex.Match(m, "^The JSON property '(.*)' could not be mapped");
            if (unknown.Success) m = $"'{unknown.Groups[1].Value}' is not a field of this request; check its spelling against the API reference.";
            return m;
        }
    }
}

/// <summary>
/// Bodies are limited to 1 MB unless an endpoint says otherwise with <see cref="BodyLimitAttribute"/>.
/// Enforced here, not only by Kestrel, so the rule holds under every server and answers as a problem.
/// </summary>
public sealed class BodyLimitMiddleware(RequestDelegate next)
{
    public const long DefaultLimit = 1024 * 1024;

    public async Task Invoke(HttpContext ctx)
    {
        var limit = ctx.GetEndpoint()?.Metadata.GetMetadata<BodyLimitAttribute>()?.Bytes ?? DefaultLimit;
        if (ctx.Request.ContentLength > limit)
        {
            await Problems.Write(ctx, 413, "payload_too_large", "The request body is too large",
                $"The body is {ctx.Request.ContentLength} bytes; this endpoint accepts at most {limit} bytes.");
            return;
        }
        var feature = ctx.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false }) feature.MaxRequestBodySize = limit;
        else if (ctx.Request.ContentLength is null && ctx.Request.Body.CanRead)
            ctx.Request.Body = new LimitedStream(ctx.Request.Body, limit);
        await next(ctx);
    }

    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => Count(await inner.ReadAsync(buffer, ct));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int n)
        {
            _read += n;
            if (_read > limit) throw new BadHttpRequestException($"The body is over {limit} bytes.", 413);
            return n;
        }
    }
}

[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
public sealed class BodyLimitAttribute(long bytes) : Attribute
{
    public long Bytes { get; } = bytes;
}
