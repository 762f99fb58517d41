using System.Globalization;
using System.Text;
using Retour.Core.Analytics;
using Retour.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Retour.Tests.Core;

/// <summary>
/// The reason classifier against a labelled evaluation set kept with the tests (Core/Data/reason-eval.csv: 6 texts per
/// reason and language, written apart from the training phrases and none of them among them). It writes its report to
/// artifacts/classifier-report.md and holds the figures to floors measured when it was built.
/// </summary>
public sealed class ReasonClassifierTests(ITestOutputHelper output)
{
    private static readonly IReadOnlyList<(string Language, string Reason, string Text)> Eval =
        ReasonClassifier.ParseCsv(File.ReadAllText(Path.Combine(Repo.Root, "tests", "Retour.Tests", "Core", "Data", "reason-eval.csv")));

    [Fact]
    public void EvaluationSet_IsSeparateFromTraining_AndCoversEveryReasonAndLanguage()
    {
        var training = ReasonClassifier.LoadEmbedded();
        var trainingTexts = training.Select(t => t.Text.ToLowerInvariant()).ToHashSet();
        Assert.DoesNotContain(Eval, e => trainingTexts.Contains(e.Text.ToLowerInvariant()));
        var reasons = Retour.Core.Returns.Codes.All<Retour.Core.Returns.ReasonCode>();
        foreach (var language in ReasonClassifier.Languages)
            foreach (var reason in reasons)
            {
                Assert.True(Eval.Count(e => e.Language == language && e.Reason == reason) >= 5, $"eval: {language}/{reason}");
                Assert.True(training.Count(e => e.Language == language && e.Reason == reason) >= 10, $"training: {language}/{reason}");
            }
    }

    [Fact]
    public void Accuracy_OnTheEvaluationSet_PerLanguage()
    {
        var classifier = ReasonClassifier.Default;
        var results = Eval.Select(e => (e.Language, e.Reason, Got: classifier.Classify(e.Text))).ToList();
        var report = new StringBuilder("# Reason classifier: accuracy on tests/Retour.Tests/Core/Data/reason-eval.csv\n\n");
        report.Append("| language | texts | reason accuracy | language detected | mean confidence when right | when wrong |\n|---|---:|---:|---:|---:|---:|\n");
        var floors = new Dictionary<string, double>();
        foreach (var language in ReasonClassifier.Languages)
        {
            var mine = results.Where(r => r.Language == language).ToList();
            var right = mine.Where(r => r.Got.Reason == r.Reason).ToList();
            var wrong = mine.Where(r => r.Got.Reason != r.Reason).ToList();
            var accuracy = (double)right.Count / mine.Count;
            floors[language] = accuracy;
            report.Append(CultureInfo.InvariantCulture, $"| {language} | {mine.Count} | {accuracy:P1} | {(double)mine.Count(r => r.Got.Language == language) / mine.Count:P1} | " +
                $"{(right.Count == 0 ? 0 : right.Average(r => r.Got.Confidence)):0.00} | {(wrong.Count == 0 ? 0 : wrong.Average(r => r.Got.Confidence)):0.00} |\n");
        }
        var overall = (double)results.Count(r => r.Got.Reason == r.Reason) / results.Count;
        report.Append(CultureInfo.InvariantCulture, $"\nOverall: {overall:P1} of {results.Count} texts (chance: {1.0 / 11:P1}).\n\n## Confusions (expected → got: count)\n\n");
        foreach (var g in results.Where(r => r.Got.Reason != r.Reason).GroupBy(r => (r.Reason, r.Got.Reason)).OrderByDescending(g => g.Count()).Take(15))
            report.Append(CultureInfo.InvariantCulture, $"- {g.Key.Item1} → {g.Key.Item2}: {g.Count()}\n");
        output.WriteLine(report.ToString());
        Directory.CreateDirectory(Path.Combine(Repo.Root, "artifacts"));
        File.WriteAllText(Path.Combine(Repo.Root, "artifacts", "classifier-report.md"), report.ToString());

        // Floors a little under what was measured (69.9 % overall, 60.6 % to 84.8 % per language; docs/decisions/0024),
        // so a change that makes it worse fails here.
        Assert.True(overall >= 0.66, $"overall accuracy {overall:P1}");
        foreach (var (language, accuracy) in floors) Assert.True(accuracy >= 0.55, $"{language}: {accuracy:P1}");
        // Language comes from the script for ar, ru and ko, and from function words for the Latin languages.
        Assert.All(results.Where(r => r.Language is "ar" or "ru" or "ko"), r => Assert.Equal(r.Language, r.Got.Language));
        Assert.True(results.Where(r => r.Language is "en" or "es" or "de").Count(r => r.Got.Language == r.Language) >= 0.95 * results.Count(r => r.Language is "en" or "es" or "de"));
    }

    [Fact]
    public void Confidence_IsHigherWhenRight_ThanWhenWrong()
    {
        var results = Eval.Select(e => (e.Reason, Got: ReasonClassifier.Default.Classify(e.Text))).ToList();
        var right = results.Where(r => r.Got.Reason == r.Reason).Average(r => r.Got.Confidence);
        var wrong = results.Where(r => r.Got.Reason != r.Reason).Select(r => r.Got.Confidence).DefaultIfEmpty(0).Average();
        Assert.True(right > wrong + 0.05, $"right {right:0.00}, wrong {wrong:0.00}");
    }

    [Theory]
    [InlineData("The shoes are way too small, I need a size up", "too_small", "en")]
    [InlineData("Die Jacke ist viel zu groß", "too_large", "de")]
    [InlineData("El paquete llegó roto y la lámpara estaba rota", "damaged", "es")]
    [InlineData("Наушники не включаются, брак", "defective", "ru")]
    [InlineData("وصلني مقاس غلط ولون مختلف عن اللي طلبته", "wrong_item", "ar")]
    [InlineData("다른 곳에서 더 싸게 팔아요", "better_price", "ko")]
    public void Classifies_PlainCases(string text, string reason, string language)
    {
        var c = ReasonClassifier.Default.Classify(text);
        Assert.Equal(language, c.Language);
        Assert.Equal(reason, c.Reason);
        Assert.InRange(c.Confidence, 0.0, 1.0);
    }

    [Fact]
    public void EmptyOrSymbolsOnly_IsOther_WithNoConfidence()
    {
        var c = ReasonClassifier.Default.Classify("?!… ---");
        Assert.Equal("other", c.Reason);
        Assert.Equal(0, c.Confidence);
    }
}
