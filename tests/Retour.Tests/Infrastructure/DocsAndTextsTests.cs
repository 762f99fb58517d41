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

    /// <summary>
    /// Every variable the code reads is in the configuration reference, and the deployment files (the local cluster, the
    /// Dockerfile, the compose file) set only variables it documents; the two load balancers share their upstream rules.
    /// </summary>
    [Fact]
    public void ConfigurationReference_CoversTheCode_AndTheDeploymentFilesAgreeWithIt()
    {
        var reference = File.ReadAllText(Path.Combine(Repo.Root, "docs", "configuration.md"));
        var documented = Regex.Matches(reference, @"`((?:RETOUR|OTEL)_[A-Z_]+)`").Select(m => m.Groups[1].Value).ToHashSet();
        var code = Directory.GetFiles(Path.Combine(Repo.Root, "src", "Retour"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .SelectMany(f => Regex.Matches(File.ReadAllText(f), "\"((?:RETOUR|OTEL)_[A-Z_]+)\"").Select(m => m.Groups[1].Value)).ToHashSet();
        Assert.True(code.Count > 30, "the scan found the settings");
        Assert.Empty(code.Except(documented).Order());
        foreach (var file in new[] { "scripts/cluster.sh", "Dockerfile", "docker-compose.yml" })
        {
            var used = Regex.Matches(File.ReadAllText(Path.Combine(Repo.Root, file)), @"\b(RETOUR_[A-Z_]+)=|\b(RETOUR_[A-Z_]+):")
                .Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value)
                .Where(v => v is not ("RETOUR_CLUSTER_DIR" or "RETOUR_DB_PASSWORD" or "RETOUR_RABBITMQ_PASSWORD" or "RETOUR_COMPOSE_DEMO")).ToHashSet();
            Assert.True(used.Count >= 4, $"{file} sets Retour's variables");
            Assert.Empty(used.Except(documented).Order());
        }
        var cluster = File.ReadAllText(Path.Combine(Repo.Root, "scripts", "cluster.sh"));
        var compose = File.ReadAllText(Path.Combine(Repo.Root, "deploy", "nginx.conf"));
        foreach (var rule in new[] { "max_fails=1 fail_timeout=5s", "proxy_next_upstream error timeout http_502;", "client_max_body_size 64m;", "client_body_buffer_size 1m;", "keepalive 32;" })
        {
            Assert.Contains(rule, cluster);
            Assert.Contains(rule, compose);
        }
    }

    private static string[] Placeholders(string text) => [.. Regex.Matches(text, @"\{[a-z_]+\}").Select(m => m.Value).Order()];
}
