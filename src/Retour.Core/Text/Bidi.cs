using System.Globalization;
using System.Text;

namespace Retour.Core.Text;

public enum BidiClass { L, R, AL, EN, ES, ET, AN, CS, NSM, B, S, WS, ON }

/// <summary>
/// The Unicode Bidirectional Algorithm (UAX #9) for one line without explicit embeddings: it resolves each character's
/// level (rules P2–P3, W1–W7, N1–N2, I1–I2, L1) and returns the characters in visual order, left to right, with
/// mirrored brackets in right-to-left runs (L2, L4). Enough for labels, where text is a name or an address line that
/// may mix Arabic with Latin letters and numbers ("شارع الملك فهد 12, Riyadh").
/// </summary>
public static class Bidi
{
    public static bool IsRightToLeft(string text) => FirstStrong(text.Select(ClassOf).ToArray()) is BidiClass.R or BidiClass.AL;

    /// <summary>The line in display order. <paramref name="rtl"/> forces the paragraph direction; null takes it from the first strong character.</summary>
    public static string ToVisual(string logical, bool? rtl = null)
    {
        var text = new string(logical.Where(c => c is not ('\u200E' or '\u200F' or '\u061C')).ToArray());
        if (text.Length == 0) return text;
        var types = text.Select(ClassOf).ToArray();
        var baseLevel = rtl ?? FirstStrong(types) is BidiClass.R or BidiClass.AL ? 1 : 0;
        if (baseLevel == 0 && !types.Any(t => t is BidiClass.R or BidiClass.AL or BidiClass.AN)) return text;

        var levels = ResolveLevels(types, baseLevel);
        return Reorder(text, levels);
    }

    private static BidiClass? FirstStrong(BidiClass[] types)
    {
        foreach (var t in types)
            if (t is BidiClass.L or BidiClass.R or BidiClass.AL) return t;
        return null;
    }

    private static int[] ResolveLevels(BidiClass[] original, int baseLevel)
    {
        var t = (BidiClass[])original.Clone();
        var n = t.Length;
        var sos = baseLevel == 1 ? BidiClass.R : BidiClass.L;

        // W1: a non-spacing mark takes the type of what it marks.
        for (var i = 0; i < n; i++)
            if (t[i] == BidiClass.NSM) t[i] = i == 0 ? sos : t[i - 1];
        // W2: European digits after Arabic letters are Arabic numbers. W3: AL is R.
        var lastStrong = sos;
        for (var i = 0; i < n; i++)
        {
            if (t[i] is BidiClass.L or BidiClass.R or BidiClass.AL) lastStrong = t[i];
            else if (t[i] == BidiClass.EN && lastStrong == BidiClass.AL) t[i] = BidiClass.AN;
        }
        for (var i = 0; i < n; i++)
            if (t[i] == BidiClass.AL) t[i] = BidiClass.R;
        // W4: one separator between two numbers of the same kind joins them.
        for (var i = 1; i < n - 1; i++)
        {
            if (t[i] == BidiClass.ES && t[i - 1] == BidiClass.EN && t[i + 1] == BidiClass.EN) t[i] = BidiClass.EN;
            else if (t[i] == BidiClass.CS && t[i - 1] == t[i + 1] && t[i - 1] is BidiClass.EN or BidiClass.AN) t[i] = t[i - 1];
        }
        // W5: terminators (%, $, €…) next to European digits belong to the number.
        for (var i = 0; i < n; i++)
        {
            if (t[i] != BidiClass.ET) continue;
            var end = i;
            while (end < n && t[end] == BidiClass.ET) end++;
            if ((i > 0 && t[i - 1] == BidiClass.EN) || (end < n && t[end] == BidiClass.EN))
                for (var k = i; k < end; k++) t[k] = BidiClass.EN;
            i = end - 1;
        }
        // W6: other separators and terminators are neutral.
        for (var i = 0; i < n; i++)
            if (t[i] is BidiClass.ES or BidiClass.ET or BidiClass.CS) t[i] = BidiClass.ON;
        // W7: European digits after Latin letters (or at the start of a left-to-right line) are Latin.
        lastStrong = sos;
        for (var i = 0; i < n; i++)
        {
            if (t[i] is BidiClass.L or BidiClass.R) lastStrong = t[i];
            else if (t[i] == BidiClass.EN && lastStrong == BidiClass.L) t[i] = BidiClass.L;
        }
        // N1/N2: a run of neutrals between two strong sides of the same direction takes it; otherwise the line's direction.
        for (var i = 0; i < n; i++)
        {
            if (!IsNeutral(t[i])) continue;
            var end = i;
            while (end < n && IsNeutral(t[end])) end++;
            var before = i == 0 ? sos : Direction(t[i - 1]);
            var after = end == n ? sos : Direction(t[end]);
            var resolved = before == after ? before : (baseLevel == 1 ? BidiClass.R : BidiClass.L);
            for (var k = i; k < end; k++) t[k] = resolved;
            i = end - 1;
        }
        // I1/I2: implicit levels.
        var levels = new int[n];
        for (var i = 0; i < n; i++)
        {
            levels[i] = baseLevel == 0
                ? t[i] switch { BidiClass.R => 1, BidiClass.AN or BidiClass.EN => 2, _ => 0 }
                : t[i] switch { BidiClass.L or BidiClass.EN or BidiClass.AN => 2, _ => 1 };
        }
        // L1: trailing whitespace goes back to the line's level.
        for (var i = n - 1; i >= 0 && original[i] is BidiClass.WS or BidiClass.S; i--) levels[i] = baseLevel;
        return levels;
    }

    private static bool IsNeutral(BidiClass c) => c is BidiClass.ON or BidiClass.WS or BidiClass.S or BidiClass.B;

    // Numbers count as right-to-left when neutrals are resolved (N1).
    private static BidiClass Direction(BidiClass c) => c is BidiClass.L ? BidiClass.L : BidiClass.R;

    private static string Reorder(string text, int[] levels)
    {
        var chars = text.ToCharArray();
        var max = levels.Max();
        var minOdd = levels.Where(l => l % 2 == 1).DefaultIfEmpty(max + 1).Min();
        var order = Enumerable.Range(0, chars.Length).ToArray();
        // L2: from the highest level down to the lowest odd level, reverse every run at that level or higher.
        for (var level = max; level >= minOdd; level--)
        {
            for (var i = 0; i < order.Length; i++)
            {
                if (levels[order[i]] < level) continue;
                var end = i;
                while (end < order.Length && levels[order[end]] >= level) end++;
                Array.Reverse(order, i, end - i);
                i = end;
            }
        }
        var sb = new StringBuilder(chars.Length);
        foreach (var i in order) sb.Append(levels[i] % 2 == 1 ? Mirror(chars[i]) : chars[i]);
        return sb.ToString();
    }

    private static char Mirror(char c) => c switch
    {
        '(' => ')', ')' => '(', '[' => ']', ']' => '[', '{' => '}', '}' => '{', '<' => '>', '>' => '<',
        '«' => '»', '»' => '«', '‹' => '›', '›' => '‹',
        _ => c,
    };

    public static BidiClass ClassOf(char c)
    {
        switch (c)
        {
            case >= '0' and <= '9':
            case >= '\u06F0' and <= '\u06F9':
            case '\u00B2' or '\u00B3' or '\u00B9':
                return BidiClass.EN;
            case >= '\u0660' and <= '\u0669':
            case '\u066B' or '\u066C' or '\u0600' or '\u0601' or '\u0602' or '\u0603' or '\u0604' or '\u0605':
                return BidiClass.AN;
            case '+' or '-' or '\u2212':
                return BidiClass.ES;
            case '#' or '$' or '%' or '\u00B0' or '\u00A2' or '\u00A3' or '\u00A4' or '\u00A5' or '\u066A' or '\u2030' or '\u2031':
            case >= '\u20A0' and <= '\u20CF':
                return BidiClass.ET;
            case ',' or '.' or '/' or ':' or '\u00A0' or '\u060C' or '\u202F' or '\u2044':
                return BidiClass.CS;
            case '\n' or '\r' or '\u2029' or '\u001C' or '\u001D' or '\u001E' or '\u0085':
                return BidiClass.B;
            case '\t' or '\u000B' or '\u001F':
                return BidiClass.S;
            case ' ' or '\u000C' or '\u2028' or (>= '\u2000' and <= '\u200A'):
                return BidiClass.WS;
            case '\u200E':
                return BidiClass.L;
            case '\u200F':
                return BidiClass.R;
            case '\u061C':
                return BidiClass.AL;
            case >= '\u0591' and <= '\u05BD' or '\u05BF' or '\u05C1' or '\u05C2' or '\u05C4' or '\u05C5' or '\u05C7':
            case >= '\u064B' and <= '\u065F' or '\u0670' or (>= '\u06D6' and <= '\u06DC') or (>= '\u06DF' and <= '\u06E4') or '\u06E7' or '\u06E8' or (>= '\u06EA' and <= '\u06ED'):
                return BidiClass.NSM;
            case >= '\u0590' and <= '\u05FF':
            case >= '\uFB1D' and <= '\uFB4F':
                return BidiClass.R;
            case >= '\u0600' and <= '\u07BF':
            case >= '\u0860' and <= '\u08FF':
            case >= '\uFB50' and <= '\uFDFF':
            case >= '\uFE70' and <= '\uFEFE':
                return BidiClass.AL;
        }
        return CharUnicodeInfo.GetUnicodeCategory(c) switch
        {
            UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark => BidiClass.NSM,
            UnicodeCategory.SpaceSeparator => BidiClass.WS,
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.LetterNumber
                or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate => BidiClass.L,
            UnicodeCategory.DecimalDigitNumber => BidiClass.L,
            _ => BidiClass.ON,
        };
    }
}
