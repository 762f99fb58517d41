using System.Security.Cryptography;

namespace Retour.Features.Refunds;

public static class GiftCards
{
    // No 0/O, 1/I/L: codes are read out on the phone and typed at tills.
    private const string Alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

    /// <summary>RTR-XXXX-XXXX-XXXX: 12 random characters of 31, about 59 bits.</summary>
    public static string NewCode()
    {
        Span<char> c = stackalloc char[12];
        for (var i = 0; i < c.Length; i++) c[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        return $"RTR-{c[..4]}-{c[4..8]}-{c[8..]}";
    }

    public static string Normalize(string code) => code.Trim().ToUpperInvariant();
}
