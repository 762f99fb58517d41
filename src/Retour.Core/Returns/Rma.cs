using System.Security.Cryptography;

namespace Retour.Core.Returns;

/// <summary>
/// RMA numbers such as <c>R-7K3M-9QX2</c>: 8 random Crockford base-32 symbols (40 bits), so they can be read
/// out over the phone (no I, L, O or U) and cannot be guessed from a neighbour's number.
/// </summary>
public static class Rma
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static string New()
    {
        Span<byte> bytes = stackalloc byte[5];
        RandomNumberGenerator.Fill(bytes);
        ulong bits = 0;
        foreach (var b in bytes) bits = (bits << 8) | b;
        Span<char> chars = stackalloc char[11];
        chars[0] = 'R';
        chars[1] = '-';
        chars[6] = '-';
        var positions = new[] { 2, 3, 4, 5, 7, 8, 9, 10 };
        for (var i = 7; i >= 0; i--)
        {
            chars[positions[i]] = Alphabet[(int)(bits & 31)];
            bits >>= 5;
        }
        return new string(chars);
    }

    /// <summary>Accepts what a person types: any case, with or without dashes, O for 0 and I or L for 1.</summary>
    public static string? Normalize(string? input)
    {
        if (string.IsNullOrWhiteSpace(input)) return null;
        var s = input.Trim().ToUpperInvariant().Replace("-", "").Replace(" ", "");
        if (!s.StartsWith('R') || s.Length != 9) return null;
        Span<char> body = stackalloc char[8];
        for (var i = 0; i < 8; i++)
        {
            var c = s[i + 1] switch { 'O' => '0', 'I' or 'L' => '1', var x => x };
            if (Alphabet.IndexOf(c) < 0) return null;
            body[i] = c;
        }
        return $"R-{body[..4]}-{body[4..]}";
    }
}
