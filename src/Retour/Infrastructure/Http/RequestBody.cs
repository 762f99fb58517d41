namespace Retour.Infrastructure.Http;

public static class RequestBody
{
    /// <summary>The raw bytes as received (signatures are checked over these, never over re-serialised JSON). Bounded by BodyLimitMiddleware.</summary>
    public static async Task<byte[]> ReadAllBytesAsync(this HttpRequest request, CancellationToken ct)
    {
        using var ms = new MemoryStream(request.ContentLength is > 0 and < 16 * 1024 * 1024 ? (int)request.ContentLength : 4096);
        await request.Body.CopyToAsync(ms, ct);
        return ms.ToArray();
    }
}
