using System.Security.Cryptography;
using System.Text;

namespace Retour.Core.Security;

/// <summary>
/// Inbound webhook authentication, exactly as each provider documents it: an HMAC-SHA256 over the raw bytes received
/// (never a re-serialised body), compared in constant time. Every method returns false for a missing or malformed header.
/// </summary>
public static class WebhookSignatures
{
    /// <summary>Shopify (X-Shopify-Hmac-Sha256), AfterShip (aftership-hmac-sha256) and WooCommerce: base64 of HMAC-SHA256, keyed with the secret's UTF-8 bytes.</summary>
    public static bool Base64HmacValid(ReadOnlySpan<byte> body, string secret, string? header)
    {
        if (string.IsNullOrWhiteSpace(header) || secret.Length == 0) return false;
        Span<byte> given = stackalloc byte[48];
        if (!Convert.TryFromBase64String(header.Trim(), given, out var n) || n != 32) return false;
        Span<byte> expected = stackalloc byte[32];
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body, expected);
        return CryptographicOperations.FixedTimeEquals(expected, given[..n]);
    }

    public static string Base64Hmac(ReadOnlySpan<byte> body, string secret) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    public const string EasyPostPrefix = "hmac-sha256-hex=";

    /// <summary>EasyPost (X-Hmac-Signature): "hmac-sha256-hex=" and the lowercase hex digest; the key is the secret NFKD-normalised, as UTF-8.</summary>
    public static bool EasyPostValid(ReadOnlySpan<byte> body, string secret, string? header)
    {
        if (string.IsNullOrWhiteSpace(header) || secret.Length == 0) return false;
        var h = header.Trim();
        if (!h.StartsWith(EasyPostPrefix, StringComparison.Ordinal) || h.Length != EasyPostPrefix.Length + 64) return false;
        Span<byte> given = stackalloc byte[32];
        if (Convert.FromHexString(h.AsSpan(EasyPostPrefix.Length), given, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
            return false;
        Span<byte> expected = stackalloc byte[32];
        HMACSHA256.HashData(EasyPostKey(secret), body, expected);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    public static string EasyPost(ReadOnlySpan<byte> body, string secret) =>
        EasyPostPrefix + Convert.ToHexStringLower(HMACSHA256.HashData(EasyPostKey(secret), body));

    private static byte[] EasyPostKey(string secret) => Encoding.UTF8.GetBytes(secret.Normalize(NormalizationForm.FormKD));

    public const string BatchPrefix = "sha256=";

    /// <summary>
    /// Retour's own tracking batches (a polling bridge posting what it fetched, X-Retour-Signature): "sha256=" and the
    /// lowercase hex HMAC-SHA256 of the raw body, keyed with the secret's UTF-8 bytes.
    /// </summary>
    public static bool BatchValid(ReadOnlySpan<byte> body, string secret, string? header)
    {
        if (string.IsNullOrWhiteSpace(header) || secret.Length == 0) return false;
        var h = header.Trim();
        if (!h.StartsWith(BatchPrefix, StringComparison.Ordinal) || h.Length != BatchPrefix.Length + 64) return false;
        Span<byte> given = stackalloc byte[32];
        if (Convert.FromHexString(h.AsSpan(BatchPrefix.Length), given, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
            return false;
        Span<byte> expected = stackalloc byte[32];
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body, expected);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    public static string Batch(ReadOnlySpan<byte> body, string secret) =>
        BatchPrefix + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>Shippo documents no signature: a secret token in the webhook URL, compared in constant time.</summary>
    public static bool TokenValid(string expected, string? given) =>
        !string.IsNullOrEmpty(expected) && given is not null &&
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));
}
