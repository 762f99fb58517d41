using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Retour.Core;

namespace Retour.Infrastructure.Http;

/// <summary>
/// RFC 9457 problem details. <c>type</c> is a relative URI under /problems/ (served by <see cref="ProblemPages"/>),
/// and <c>code</c> repeats its last segment for clients that switch on it.
/// </summary>
public static class Problems
{
    public const string ContentType = "application/problem+json";

    public static ProblemDetails Create(int status, string code, string title, string? detail, IDictionary<string, object?>? extensions = null)
    {
        var p = new ProblemDetails { Status = status, Type = "/problems/" + code, Title = title, Detail = detail };
        p.Extensions["code"] = code;
        if (extensions is not null) foreach (var (k, v) in extensions) p.Extensions[k] = v;
        return p;
    }

    public static ProblemHttpResult Result(int status, string code, string title, string? detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(Create(status, code, title, detail, extensions));

    public static ProblemHttpResult NotFound(string detail) => Result(StatusCodes.Status404NotFound, "not_found", "Not found", detail);

    /// <summary>422 with field-level messages: <c>errors</c> maps each snake_case field path to its messages.</summary>
    public static ProblemHttpResult Validation(IEnumerable<FieldError> errors, string? detail = null)
    {
        var byField = errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray());
        return Result(StatusCodes.Status422UnprocessableEntity, "validation_failed", "The request is not valid",
            detail ?? string.Join(" ", byField.Values.SelectMany(v => v).Take(3)),
            new Dictionary<string, object?> { ["errors"] = byField });
    }

    public static ProblemHttpResult Validation(string field, string message) => Validation([new FieldError(field, message)]);

    /// <summary>Writes a problem straight to the response, for middleware that runs outside an endpoint.</summary>
    public static async Task Write(HttpContext ctx, int status, string code, string title, string? detail, IDictionary<string, object?>? extensions = null)
    {
        if (ctx.Response.HasStarted) return;
        var p = Create(status, code, title, detail, extensions);
        p.Instance = ctx.Request.Path;
        p.Extensions["trace_id"] = Telemetry.TraceId(ctx);
        p.Extensions["correlation_id"] = Telemetry.CorrelationId(ctx);
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = ContentType;
        await JsonSerializer.SerializeAsync(ctx.Response.Body, p, Json.Options, ctx.RequestAborted);
    }
}
