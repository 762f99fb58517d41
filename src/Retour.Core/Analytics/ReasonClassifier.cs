using System.Globalization;
using System.Text;

namespace Retour.Core.Analytics;

public sealed record Classification(string Reason, double Confidence, string Language, IReadOnlyList<(string Reason, double Probability)> Alternatives);

/// <summary>
/// Reads why a shopper sends something back, in their own words, in en, ar, es, ru, de or ko, and names the reason code.
///
/// Language comes from the script (Arabic, Hangul, Cyrillic), and for Latin script from function words and letters
/// such as ñ or ß. Each language has its own multinomial naive Bayes model over two kinds of features: whole words, and
/// character 3- and 4-grams inside each word, which catch inflections (Russian cases, German compounds, Korean particles,
/// Arabic affixes) that whole words miss. Arabic is normalised first (diacritics, alef forms, tatweel, ta marbuta).
/// It is trained at first use from the labelled phrases embedded with it (reason-training.csv); its accuracy on a
/// separate labelled set is measured by the tests (ReasonClassifierTests) and reported in docs/decisions/0024.
/// </summary>
public sealed class ReasonClassifier
{
    public static readonly IReadOnlyList<string> Languages = ["en", "ar", "es", "ru", "de", "ko"];

    private static readonly Lazy<ReasonClassifier> Shared = new(() => Train(LoadEmbedded()));

    /// <summary>The classifier trained on the embedded phrases.</summary>
    public static ReasonClassifier Default => Shared.Value;

    private readonly Dictionary<string, Model> _models;

    private ReasonClassifier(Dictionary<string, Model> models) => _models = models;

    public static IReadOnlyList<(string Language, string Reason, string Text)> LoadEmbedded()
    {
        using var stream = typeof(ReasonClassifier).Assembly.GetManifestResourceStream("reason-training.csv")
            ?? throw new InvalidOperationException("reason-training.csv is not embedded in Retour.Core.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return ParseCsv(reader.ReadToEnd());
    }

    /// <summary>Rows of a three-column CSV (language,reason,text) with a header; fields may be double-quoted.</summary>
    public static IReadOnlyList<(string Language, string Reason, string Text)> ParseCsv(string csv)
    {
        var rows = new List<(string, string, string)>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        var first = true;
        for (var i = 0; i <= csv.Length; i++)
        {
            var c = i < csv.Length ? csv[i] : '\n';
            if (quoted)
            {
                if (c == '"' && i + 1 < csv.Length && csv[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
                continue;
            }
            if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
            else if (c == '\n')
            {
                fields.Add(field.ToString()); field.Clear();
                if (!first && fields.Count >= 3 && fields[2].Trim().Length > 0) rows.Add((fields[0].Trim(), fields[1].Trim(), fields[2].Trim()));
                if (fields.Count > 1 || fields[0].Length > 0) first = false;
                fields.Clear();
            }
            else if (c != '\r') field.Append(c);
        }
        return rows;
    }

    public static ReasonClassifier Train(IEnumerable<(string Language, string Reason, string Text)> examples)
    {
        var models = new Dictionary<string, Model>();
        foreach (var group in examples.GroupBy(e => e.Language))
            models[group.Key] = Model.Fit(group.Select(e => (e.Reason, Features(Normalize(e.Text, group.Key), group.Key))));
        return new ReasonClassifier(models);
    }

    public Classification Classify(string text)
    {
        var language = DetectLanguage(text);
        var features = Features(Normalize(text, language), language);
        if (features.Count == 0 || !_models.TryGetValue(language, out var model)) return new Classification("other", 0, language, []);
        var ranked = model.Posterior(features);
        return new Classification(ranked[0].Reason, Math.Round(ranked[0].Probability, 3), language,
            [.. ranked.Skip(1).Take(2).Select(r => (r.Reason, Math.Round(r.Probability, 3)))]);
    }

    // ---- language ----

    private static readonly Dictionary<string, string[]> FunctionWords = new()
    {
        ["en"] = ["the", "and", "is", "it", "too", "was", "i", "my", "not", "of", "for", "to", "a", "they", "this", "doesn't", "didn't", "with", "but", "than", "very", "wrong", "small", "big"],
        ["es"] = ["el", "la", "los", "las", "es", "muy", "que", "no", "de", "y", "un", "una", "me", "mi", "por", "para", "con", "pero", "demasiado", "llegó", "llego", "lo", "se", "del", "talla"],
        ["de"] = ["der", "die", "das", "ist", "und", "nicht", "zu", "mir", "ich", "ein", "eine", "es", "war", "mit", "aber", "sehr", "kam", "hat", "auf", "den", "leider", "klein", "gross", "groß"],
    };

    public static string DetectLanguage(string text)
    {
        int arabic = 0, hangul = 0, cyrillic = 0, latin = 0;
        foreach (var c in text)
        {
            if (c is >= '\u0600' and <= '\u06FF' or >= '\u0750' and <= '\u077F' or >= '\uFB50' and <= '\uFDFF' or >= '\uFE70' and <= '\uFEFF') arabic++;
            else if (c is >= '\uAC00' and <= '\uD7AF' or >= '\u1100' and <= '\u11FF' or >= '\u3130' and <= '\u318F') hangul++;
            else if (c is >= '\u0400' and <= '\u04FF') cyrillic++;
            else if (char.IsLetter(c)) latin++;
        }
        var max = Math.Max(Math.Max(arabic, hangul), Math.Max(cyrillic, latin));
        if (max == 0) return "en";
        if (max == arabic) return "ar";
        if (max == hangul) return "ko";
        if (max == cyrillic) return "ru";
        var lower = text.ToLowerInvariant();
        var words = Words(lower).ToList();
        var scores = FunctionWords.ToDictionary(kv => kv.Key, kv => (double)words.Count(kv.Value.Contains));
        if (lower.IndexOfAny(['ñ', '¿', '¡', 'á', 'é', 'í', 'ó', 'ú']) >= 0) scores["es"] += 2;
        if (lower.IndexOfAny(['ä', 'ö', 'ü', 'ß']) >= 0) scores["de"] += 2;
        if (words.Any(w => w.EndsWith("ung") || w.EndsWith("lich") || w.StartsWith("ge") && w.EndsWith('t'))) scores["de"] += 0.5;
        if (words.Any(w => w.EndsWith("ción") || w.EndsWith("cion") || w.EndsWith("ado") || w.EndsWith("ida"))) scores["es"] += 0.5;
        var best = scores.OrderByDescending(s => s.Value).ThenBy(s => s.Key == "en" ? 0 : 1).First();
        return best.Value > 0 ? best.Key : "en";
    }

    // ---- features ----

    public static string Normalize(string text, string language)
    {
        var lower = text.ToLower(CultureInfo.InvariantCulture);
        var sb = new StringBuilder(lower.Length);
        foreach (var c in lower)
        {
            if (language == "ar")
            {
                if (c is >= '\u064B' and <= '\u0652' or '\u0640') continue; // diacritics, tatweel
                sb.Append(c switch { 'أ' or 'إ' or 'آ' => 'ا', 'ة' => 'ه', 'ى' => 'ي', 'ؤ' => 'و', 'ئ' => 'ي', _ => c });
            }
            else if (language is "de" or "es" or "en")
                sb.Append(c switch
                {
                    'ä' => "ae", 'ö' => "oe", 'ü' => "ue", 'ß' => "ss", 'á' => "a", 'é' => "e", 'í' => "i", 'ó' => "o", 'ú' => "u", 'ñ' => "n",
                    _ => c.ToString(),
                });
            else if (language == "ru") sb.Append(c == 'ё' ? 'е' : c);
            else sb.Append(c);
        }
        return sb.ToString();
    }

    private static IEnumerable<string> Words(string text)
    {
        var sb = new StringBuilder();
        foreach (var c in text)
        {
            if (char.IsLetterOrDigit(c) || c == '\'') sb.Append(c);
            else if (sb.Length > 0) { yield return sb.ToString(); sb.Clear(); }
        }
        if (sb.Length > 0) yield return sb.ToString();
    }

    /// <summary>Weight of a lexicon match against one word or one n-gram.</summary>
    public const int LexiconWeight = 10;
    private const int NMin = 3, NMax = 4;

    /// <summary>
    /// Words (prefixed w:), word pairs (b:), the 3- and 4-letter pieces of each word with its edges marked, and the reasons
    /// the lexicon points at (k:), weighted <see cref="LexiconWeight"/>.
    /// </summary>
    public static Dictionary<string, int> Features(string normalized, string language)
    {
        var f = new Dictionary<string, int>(StringComparer.Ordinal);
        void Add(string k, int n = 1) => f[k] = f.GetValueOrDefault(k) + n;
        var words = Words(normalized).ToList();
        string? previous = null;
        foreach (var word in words)
        {
            Add("w:" + word);
            if (previous is not null) Add("b:" + previous + " " + word);
            previous = word;
            var padded = "<" + word + ">";
            for (var n = NMin; n <= NMax; n++)
                for (var i = 0; i + n <= padded.Length; i++) Add(padded.Substring(i, n));
        }
        foreach (var reason in ReasonLexicon.Matches(normalized, words, language)) Add("k:" + reason, LexiconWeight);
        return f;
    }

    private sealed class Model
    {
        private readonly Dictionary<string, double> _prior = [];
        private readonly Dictionary<string, Dictionary<string, double>> _logLikelihood = [];
        private readonly Dictionary<string, double> _unseen = [];
        private const double Alpha = 0.3;

        public static Model Fit(IEnumerable<(string Reason, Dictionary<string, int> Features)> rows)
        {
            var m = new Model();
            var byReason = rows.GroupBy(r => r.Reason).ToList();
            var vocabulary = byReason.SelectMany(g => g.SelectMany(r => r.Features.Keys)).Distinct().Count();
            var total = byReason.Sum(g => g.Count());
            foreach (var g in byReason)
            {
                m._prior[g.Key] = Math.Log((double)g.Count() / total);
                var counts = new Dictionary<string, double>(StringComparer.Ordinal);
                // Each feature counts at most log(1 + n) times in a row, so a long text does not drown the rest.
                foreach (var (_, features) in g)
                    foreach (var (k, n) in features) counts[k] = counts.GetValueOrDefault(k) + Math.Log(1 + n);
                var sum = counts.Values.Sum() + Alpha * vocabulary;
                m._logLikelihood[g.Key] = counts.ToDictionary(kv => kv.Key, kv => Math.Log((kv.Value + Alpha) / sum), StringComparer.Ordinal);
                m._unseen[g.Key] = Math.Log(Alpha / sum);
            }
            return m;
        }

        public List<(string Reason, double Probability)> Posterior(Dictionary<string, int> features)
        {
            // Only features the model has seen in some class carry evidence.
            var known = features.Where(f => _logLikelihood.Values.Any(l => l.ContainsKey(f.Key))).ToList();
            var scores = new Dictionary<string, double>();
            foreach (var (reason, ll) in _logLikelihood)
            {
                var s = _prior[reason];
                foreach (var (k, n) in known) s += Math.Log(1 + n) * ll.GetValueOrDefault(k, _unseen[reason]);
                scores[reason] = s;
            }
            // Naive Bayes is over-confident because the n-grams of one word are far from independent; tempering the
            // log-scores by the evidence's size gives confidences that track accuracy (see the calibration test).
            var temperature = Math.Max(1, Math.Sqrt(known.Count));
            var max = scores.Values.Max();
            var exp = scores.ToDictionary(kv => kv.Key, kv => Math.Exp((kv.Value - max) / temperature));
            var z = exp.Values.Sum();
            return [.. exp.Select(kv => (kv.Key, kv.Value / z)).OrderByDescending(x => x.Item2)];
        }
    }
}
