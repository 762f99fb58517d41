using System.Text;

namespace Retour.Core.Text;

/// <summary>
/// Contextual shaping of Arabic for renderers that draw one glyph per character (PDF labels): each letter becomes its
/// isolated, initial, medial or final presentation form according to its neighbours, and lam + alef become one ligature.
/// Text stays in logical order; <see cref="Bidi"/> reorders it for display afterwards.
/// </summary>
public static class ArabicShaping
{
    private enum Joining { None, Right, Dual, Causing, Transparent }

    // base letter → presentation forms (isolated, final, initial, medial); right-joining letters have no initial or medial form
    private static readonly Dictionary<char, (char Iso, char Fin, char Ini, char Med, Joining Type)> Forms = Build();

    private static Dictionary<char, (char, char, char, char, Joining)> Build()
    {
        var d = new Dictionary<char, (char, char, char, char, Joining)>();
        void Dual(char letter, int first) => d[letter] = ((char)first, (char)(first + 1), (char)(first + 2), (char)(first + 3), Joining.Dual);
        void Right(char letter, int first) => d[letter] = ((char)first, (char)(first + 1), '\0', '\0', Joining.Right);

        d['\u0621'] = ('\uFE80', '\0', '\0', '\0', Joining.None); // hamza never joins
        Right('\u0622', 0xFE81); Right('\u0623', 0xFE83); Right('\u0624', 0xFE85); Right('\u0625', 0xFE87);
        Dual('\u0626', 0xFE89); Right('\u0627', 0xFE8D); Dual('\u0628', 0xFE8F); Right('\u0629', 0xFE93);
        Dual('\u062A', 0xFE95); Dual('\u062B', 0xFE99); Dual('\u062C', 0xFE9D); Dual('\u062D', 0xFEA1); Dual('\u062E', 0xFEA5);
        Right('\u062F', 0xFEA9); Right('\u0630', 0xFEAB); Right('\u0631', 0xFEAD); Right('\u0632', 0xFEAF);
        Dual('\u0633', 0xFEB1); Dual('\u0634', 0xFEB5); Dual('\u0635', 0xFEB9); Dual('\u0636', 0xFEBD);
        Dual('\u0637', 0xFEC1); Dual('\u0638', 0xFEC5); Dual('\u0639', 0xFEC9); Dual('\u063A', 0xFECD);
        Dual('\u0641', 0xFED1); Dual('\u0642', 0xFED5); Dual('\u0643', 0xFED9); Dual('\u0644', 0xFEDD);
        Dual('\u0645', 0xFEE1); Dual('\u0646', 0xFEE5); Dual('\u0647', 0xFEE9); Right('\u0648', 0xFEED);
        Right('\u0649', 0xFEEF); Dual('\u064A', 0xFEF1);
        // Persian and Urdu letters common in addresses (Presentation Forms-A)
        Dual('\u067E', 0xFB56); Dual('\u0686', 0xFB7A); Right('\u0698', 0xFB8A); Dual('\u06A9', 0xFB8E);
        Dual('\u06AF', 0xFB92); Dual('\u06CC', 0xFBFC);
        d['\u0640'] = ('\u0640', '\u0640', '\u0640', '\u0640', Joining.Causing); // tatweel joins both ways and keeps its shape
        return d;
    }

    // lam + this alef → ligature (isolated, final)
    private static readonly Dictionary<char, (char Iso, char Fin)> LamAlef = new()
    {
        ['\u0622'] = ('\uFEF5', '\uFEF6'),
        ['\u0623'] = ('\uFEF7', '\uFEF8'),
        ['\u0625'] = ('\uFEF9', '\uFEFA'),
        ['\u0627'] = ('\uFEFB', '\uFEFC'),
    };

    private static Joining TypeOf(char c)
    {
        if (Forms.TryGetValue(c, out var f)) return f.Type;
        // Harakat, superscript alef and Quranic marks sit on a letter without breaking its joins.
        if (c is >= '\u064B' and <= '\u065F' or '\u0670' or >= '\u06D6' and <= '\u06ED') return Joining.Transparent;
        if (c is '\u200D') return Joining.Causing; // zero-width joiner
        return Joining.None;
    }

    public static bool HasArabic(string text) => text.Any(c => Forms.ContainsKey(c));

    /// <summary>Replaces Arabic letters with their contextual presentation forms. Other characters pass through.</summary>
    public static string Shape(string text)
    {
        if (!HasArabic(text)) return text;
        var types = text.Select(TypeOf).ToArray();
        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (!Forms.TryGetValue(c, out var f) || f.Type is Joining.None or Joining.Causing)
            {
                sb.Append(f.Type == Joining.None && Forms.ContainsKey(c) ? f.Iso : c);
                continue;
            }
            var joinsBefore = JoinsToPrevious(types, i);
            if (c == '\u0644' && NextNonTransparent(types, i) is { } n && LamAlef.TryGetValue(text[n], out var lig))
            {
                sb.Append(joinsBefore ? lig.Fin : lig.Iso);
                // The marks between lam and alef stay, the alef is consumed by the ligature.
                for (var k = i + 1; k < n; k++) sb.Append(text[k]);
                i = n;
                continue;
            }
            var joinsAfter = f.Type == Joining.Dual && JoinsToNext(types, i);
            sb.Append((joinsBefore, joinsAfter) switch
            {
                (true, true) => f.Med,
                (true, false) => f.Fin,
                (false, true) => f.Ini,
                _ => f.Iso,
            });
        }
        return sb.ToString();
    }

    // The previous letter connects to this one when it joins on its left side (dual-joining or causing).
    private static bool JoinsToPrevious(Joining[] types, int i)
    {
        for (var k = i - 1; k >= 0; k--)
        {
            if (types[k] == Joining.Transparent) continue;
            return types[k] is Joining.Dual or Joining.Causing;
        }
        return false;
    }

    private static bool JoinsToNext(Joining[] types, int i) =>
        NextNonTransparent(types, i) is { } n && types[n] is Joining.Dual or Joining.Right or Joining.Causing;

    private static int? NextNonTransparent(Joining[] types, int i)
    {
        for (var k = i + 1; k < types.Length; k++)
            if (types[k] != Joining.Transparent) return k;
        return null;
    }
}
