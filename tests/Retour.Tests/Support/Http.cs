using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace Retour.Tests.Support;

public static class Http
{
    public static async Task<(HttpStatusCode Status, JsonNode? Body)> Send(this HttpClient client, HttpMethod method, string url, object? body = null,
        string? idempotencyKey = null, string? acceptLanguage = null)
    {
        using var req = new HttpRequestMessage(method, url);
        if (body is string raw) req.Content = new StringContent(raw, Encoding.UTF8, "application/json");
        else if (body is not null) req.Content = JsonContent.Create(body, options: new JsonSerializerOptions(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower });
        if (idempotencyKey is not null) req.Headers.Add("Idempotency-Key", idempotencyKey);
        if (acceptLanguage is not null) req.Headers.Add("Accept-Language", acceptLanguage);
        using var res = await client.SendAsync(req);
        var text = await res.Content.ReadAsStringAsync();
        return (res.StatusCode, string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text));
    }

    public static Task<(HttpStatusCode Status, JsonNode? Body)> Post(this HttpClient c, string url, object? body, string? idempotencyKey = null, string? acceptLanguage = null) =>
        c.Send(HttpMethod.Post, url, body, idempotencyKey, acceptLanguage);

    public static Task<(HttpStatusCode Status, JsonNode? Body)> Get(this HttpClient c, string url, string? acceptLanguage = null) =>
        c.Send(HttpMethod.Get, url, null, null, acceptLanguage);

    public static Task<(HttpStatusCode Status, JsonNode? Body)> Put(this HttpClient c, string url, object? body) =>
        c.Send(HttpMethod.Put, url, body);

    public static JsonNode Expect(this (HttpStatusCode Status, JsonNode? Body) r, HttpStatusCode status)
    {
        Assert.True(r.Status == status, $"Expected {(int)status} but got {(int)r.Status}: {r.Body?.ToJsonString()}");
        return r.Body ?? new JsonObject();
    }

    public static string Str(this JsonNode? n, string path) => Node(n, path)?.GetValue<string>() ?? throw new Xunit.Sdk.XunitException($"No '{path}' in {n?.ToJsonString()}");

    public static JsonNode? Node(this JsonNode? n, string path)
    {
        foreach (var part in path.Split('.'))
        {
            if (n is null) return null;
            n = int.TryParse(part, out var i) ? n.AsArray()[i] : n[part];
        }
        return n;
    }
}
