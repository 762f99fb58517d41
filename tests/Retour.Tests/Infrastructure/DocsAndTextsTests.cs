using System.Text.RegularExpressions;
using Retour.Core.Returns;
using Retour.Infrastructure.Localization;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Infrastructure;

public sealed class DocsAndTextsTests
{
    [Fact]
    public void LifecycleDocument_IsGeneratedFromTheTransitionTable()
    {
        var committed = File.ReadAllText(Path.Combine(Repo.Root, "docs", "lifecycle.md"));
        Assert.True(committed == Lifecycle.ToMarkdown(), "docs/lifecycle.md is out of date: run `dotnet run --project src/Retour -- docs lifecycle`.");
    }

    [Fact]
    public void EveryText_ExistsInEveryLanguage_WithTheSamePlaceholders()
    {
        var texts = new Texts();
        var english = texts.All("en");
        foreach (var locale in Texts.Locales)
        {
            var other = texts.All(locale);
            Assert.Equal(english.Keys.Order(), other.Keys.Order());
            foreach (var (key, text) in other)
            {
                Assert.False(string.IsNullOrWhiteSpace(text), $"{locale}:{key} is empty");
                Assert.Equal(Placeholders(english[key]), Placeholders(text));
            }
        }
    }

    [Fact]
    public void EveryReasonResolutionAndMethod_HasAText()
    {
        var en = new Texts().All("en");
        foreach (var code in Codes.All<ReasonCode>()) Assert.Contains("reason." + code, en.Keys);
        foreach (var code in Codes.All<Resolution>()) Assert.Contains("resolution." + code, en.Keys);
        foreach (var code in Codes.All<ReturnMethod>()) Assert.Contains("method." + code, en.Keys);
        foreach (var code in Codes.All<NotReturnableReason>()) Assert.Contains("not_returnable." + code, en.Keys);
    }

    [Theory]
    [InlineData("ar", null, null, "en", "ar")]
    [InlineData(null, "de-DE,de;q=0.9,en;q=0.8", "es", "en", "de")]
    [InlineData(null, "fr-FR", "es", "en", "es")]
    [InlineData("xx", null, null, "ko", "ko")]
    [InlineData(null, "en;q=0.1, ru;q=0.9", null, "en", "ru")]
    public void Language_IsChosenFromTheShopperThenBrowserThenCustomerThenMerchant(string? lang, string? accept, string? customer, string merchant, string expected) =>
        Assert.Equal(expected, Texts.Choose(lang, accept, customer, merchant));

    private static string[] Placeholders(string text) => [.. Regex.Matches(text, @"\{[a-z_]+\}").Select(m => m.Value).Order()];
}
