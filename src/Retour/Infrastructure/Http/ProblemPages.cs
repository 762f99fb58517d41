using System.Net;

namespace Retour.Infrastructure.Http;

/// <summary>Every problem's <c>type</c> (/problems/{code}) resolves to a short page saying what it means and what to do.</summary>
public static class ProblemPages
{
    public static readonly IReadOnlyDictionary<string, string> Descriptions = new Dictionary<string, string>
    {
        ["validation_failed"] = "The request was understood but some fields are not acceptable. 'errors' maps each field (snake_case path) to its messages. Nothing was written.",
        ["malformed_json"] = "The body is not valid JSON, or a value has the wrong type. 'errors' names the field when it can. Nothing was written.",
        ["payload_too_large"] = "The body is larger than the endpoint accepts (1 MB for JSON). Nothing was written.",
        ["not_found"] = "The resource does not exist, or it belongs to another merchant.",
        ["illegal_transition"] = "The return's lifecycle does not allow this change now. 'allowed_next_states' lists what may follow. The attempt is recorded in the audit trail.",
        ["concurrent_update"] = "Another request changed the same record at the same moment. Read it again and retry.",
        ["idempotency_key_reused"] = "The Idempotency-Key was first used with a different request. Use a new key for a new request.",
        ["invalid_idempotency_key"] = "An Idempotency-Key is 1 to 255 characters.",
        ["unauthorized"] = "Send a valid API key as 'Authorization: Bearer <key>'.",
        ["forbidden"] = "The API key lacks the scope this endpoint needs.",
        ["invalid_signature"] = "The webhook's signature did not verify against the raw body and the shared secret.",
        ["rate_limited"] = "Too many requests for this API key. Wait for Retry-After seconds.",
        ["order_number_conflict"] = "The order number already belongs to a different order of the same store.",
        ["internal_error"] = "An unexpected error on Retour's side. It was logged with the trace id.",
    };

    public static void Map(WebApplication app) =>
        app.MapGet("/problems/{code}", (string code) =>
                Descriptions.TryGetValue(code, out var text)
                    ? Results.Content($"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{WebUtility.HtmlEncode(code)}</title></head><body><h1>{WebUtility.HtmlEncode(code)}</h1><p>{WebUtility.HtmlEncode(text)}</p></body></html>", "text/html; charset=utf-8")
                    : Results.NotFound())
            .ExcludeFromDescription().AllowAnonymous();
}
