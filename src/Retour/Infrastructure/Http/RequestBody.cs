namespace Retour.Infrastructure.Http;

public static class RequestBody
{
    /// <summary>
    /// The body as <typeparamref name="T"/>, read strictly (unknown fields and nulls where none are allowed refused), or a 422
    /// naming the JSON path that is wrong. An empty body is null when <paramref name="optional"/>, else a 422 on "body".
    /// </summary>
    public static async Task<(T? Value, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? Problem)> ReadStrictJsonAsync<T>(
        this HttpRequest request, string expected, CancellationToken ct, bool optional = false) where T : class
    {
        if (optional && request.ContentLength is null or 0 && request.Headers.TransferEncoding.Count == 0) return (null, null);
        try
        {
            var value = await System.Text.Json.JsonSerializer.DeserializeAsync<T>(request.Body, Features.Policies.PolicyBook.StrictJson, ct);
            return value is null && !optional ? (null, Problems.Validation("body", expected)) : (value, null);
        }
        catch (System.Text.Json.JsonException e)
        {
            return (null, Problems.Validation(e.Path is { Length: > 2 } p ? p.TrimStart('$', '.') : "body", e.Message));
        }
    }

    /// <summary>The raw bytes as received (signatures are checked over these, never over re-serialised JSON). Bounded by BodyLimitMiddleware.</summary>
    public static async Task<byte[]> ReadAllBytesAsync(this HttpRequest request, CancellationToken ct)
    {
        using var ms = new MemoryStream(request.ContentLength is > 0 and < 16 * 1024 * 1024 ? (int)request.ContentLength : 4096);
        await request.Body.CopyToAsync(ms, ct);
        return ms.ToArray();
    }

    /// <summary>An uploaded file: the request body itself, or the multipart form's file in <paramref name="field"/> (or its only file).</summary>
    public static async Task<byte[]?> ReadUploadAsync(this HttpRequest request, string field, CancellationToken ct)
    {
        if (!request.HasFormContentType) return await request.ReadAllBytesAsync(ct);
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(ct);
        }
        catch (Exception e) when (e is InvalidDataException or IOException && !ct.IsCancellationRequested)
        {
            throw new BadHttpRequestException($"The multipart form could not be read: {e.Message}", StatusCodes.Status400BadRequest, e);
        }
        var file = form.Files.GetFile(field) ?? (form.Files.Count == 1 ? form.Files[0] : null);
        if (file is null) return null;
        using var ms = new MemoryStream();
        await file.CopyToAsync(ms, ct);
        return ms.ToArray();
    }
}
