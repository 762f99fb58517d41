using System.Text;

namespace Retour.Core.Notifications;

/// <summary>How an SMS body travels: its encoding and how many parts (and so how many charged messages) it takes.</summary>
public sealed record SmsSegments(string Encoding, int Characters, int Segments, int PerSegment);

/// <summary>
/// SMS facts the editor and the sender share. GSM 03.38 text goes 160 characters to a message (153 per part once
/// split, the extension table's characters counting twice); anything else (Arabic, Cyrillic, Hangul, emoji) goes as
/// UCS-2, 70 to a message and 67 per part, counting UTF-16 code units.
/// </summary>
public static class Sms
{
    /// <summary>Providers refuse longer bodies (Twilio: 1600 characters); Retour keeps templates well inside.</summary>
    public const int MaxLength = 1600;

    private const string Gsm7 =
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    private const string Gsm7Extension = "^{}\\[~]|€\f";

    public static SmsSegments Measure(string text)
    {
        var gsm = true;
        var units = 0;
        foreach (var c in text)
        {
            if (Gsm7.Contains(c)) units++;
            else if (Gsm7Extension.Contains(c)) units += 2;
            else { gsm = false; break; }
        }
        if (gsm)
            return new SmsSegments("GSM-7", units, units <= 160 ? (units == 0 ? 0 : 1) : (units + 152) / 153, units <= 160 ? 160 : 153);
        var utf16 = text.Length;
        return new SmsSegments("UCS-2", utf16, utf16 <= 70 ? 1 : (utf16 + 66) / 67, utf16 <= 70 ? 70 : 67);
    }

    /// <summary>
    /// The number in E.164 (+ and 8 to 15 digits), or null. Spaces, dots, dashes and brackets are dropped and a leading
    /// 00 becomes +; a number without its country code cannot be dialled from a provider and is refused rather than guessed.
    /// </summary>
    public static string? E164(string? phone)
    {
        if (string.IsNullOrWhiteSpace(phone)) return null;
        var sb = new StringBuilder();
        var s = phone.Trim();
        if (s.StartsWith("00", StringComparison.Ordinal)) s = "+" + s[2..];
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '+' && i == 0) sb.Append(c);
            else if (char.IsAsciiDigit(c)) sb.Append(c);
            else if (c is ' ' or '-' or '.' or '(' or ')' or '\u00a0') continue;
            else return null;
        }
        var e = sb.ToString();
        return e.Length is >= 9 and <= 16 && e[0] == '+' && e[1] != '0' ? e : null;
    }
}
