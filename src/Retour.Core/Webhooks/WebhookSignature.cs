using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Retour.Core.Webhooks;

/// <summary>
/// The Retour-Signature header of an outgoing webhook: <c>t=&lt;unix seconds&gt;,v1=&lt;lowercase hex HMAC-SHA256(secret, "&lt;t&gt;.&lt;raw body&gt;")&gt;</c>.
/// The timestamp is signed with the body, so a receiver that refuses old timestamps also refuses replays.
/// </summary>
public static class WebhookSignature
{
    public const string Header = "Retour-Signature";
    /// <summary>How old a signature a receiver should accept (Verify's default).</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    public static string Sign(string secret, DateTimeOffset at, ReadOnlySpan<byte> body)
    {
        var t = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"t={t},v1={Hex(secret, t, body)}";
    }

    public enum Result { Valid, Malformed, Mismatch, TooOld }

    /// <summary>What a receiver does: parse, recompute over the raw body, compare in constant time, refuse old timestamps.</summary>
    public static Result Verify(string? header, string secret, ReadOnlySpan<byte> body, DateTimeOffset now, TimeSpan? tolerance = null)
    {
        if (string.IsNullOrEmpty(header)) return Result.Malformed;
        string? t = null;
        var candidates = new List<string>();
        foreach (var part in header.Split(','))
        {
            var kv = part.Trim().Split('=', 2);
            if (kv.Length != 2) return Result.Malformed;
            if (kv[0] == "t") t = kv[1];
            else if (kv[0] == "v1") candidates.Add(kv[1]);
        }
        if (t is null || candidates.Count == 0 || !long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)) return Result.Malformed;
        var expected = Encoding.ASCII.GetBytes(Hex(secret, t, body));
        var match = candidates.Any(c => CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(c), expected));
        if (!match) return Result.Mismatch;
        var age = now - DateTimeOffset.FromUnixTimeSeconds(seconds);
        return age.Duration() > (tolerance ?? DefaultTolerance) ? Result.TooOld : Result.Valid;
    }

    private static string Hex(string secret, string t, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(t + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message));
    }
}
