using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Retour.Tests.Support;
using Xunit;

namespace Retour.BrowserTests.Support;

/// <summary>The real host with the demo shop, served by Kestrel on a free port of 127.0.0.1, for a real browser.</summary>
public sealed class BrowserApp : RetourApp
{
    public const string DemoKey = "rtr_demo_key_for_browser_tests_0123";
    public const string StaffPassword = "demo-staff-password-for-tests";

    public BrowserApp() : base(null, new Dictionary<string, string?>
    {
        ["RETOUR_SEED_DEMO"] = "true",
        ["RETOUR_DEMO_API_KEY"] = DemoKey,
        ["RETOUR_DEMO_STAFF_PASSWORD"] = StaffPassword,
        ["RETOUR_URLS"] = "http://127.0.0.1:0",
    })
    {
        UseKestrel();
    }

    public string BaseUrl => Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
}

/// <summary>
/// One server and one headless Chromium (Debian's /usr/bin/chromium) for all browser tests. Each test gets its own
/// browser context, so cookies and language choices never leak between tests. Screenshots go to artifacts/screenshots/.
/// </summary>
public sealed class PortalSite : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";
    public BrowserApp App { get; } = new();
    public string BaseUrl { get; private set; } = "";
    public HttpClient Api { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    private IPlaywright? _playwright;

    public static string Screenshots { get; } = Path.Combine(RepoRoot(), "artifacts", "screenshots");

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
            throw new InvalidOperationException($"{Chromium} is missing: scripts/test.sh installs it with apt-get install chromium.");
        App.StartServer();
        BaseUrl = App.BaseUrl;
        Api = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", BrowserApp.DemoKey);
        Directory.CreateDirectory(Screenshots);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.CloseAsync();
        _playwright?.Dispose();
        Api?.Dispose();
        await App.DisposeAsync();
    }

    /// <summary>A fresh browser context (no cookies), as a shopper's own browser, with downloads allowed.</summary>
    public async Task<IPage> NewPageAsync(string? acceptLanguage = "en-GB,en;q=0.9", bool javaScript = true)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            AcceptDownloads = true,
            JavaScriptEnabled = javaScript,
            ViewportSize = new ViewportSize { Width = 900, Height = 1000 },
            ExtraHTTPHeaders = acceptLanguage is null ? null : new Dictionary<string, string> { ["Accept-Language"] = acceptLanguage },
        });
        context.SetDefaultTimeout(15_000);
        return await context.NewPageAsync();
    }

    /// <summary>A fresh browser signed in to the console as one of the demo staff (admin, agent, warehouse, analyst @demo.test).</summary>
    public async Task<IPage> SignInAsync(string who, string? acceptLanguage = "en-GB,en;q=0.9")
    {
        var page = await NewPageAsync(acceptLanguage);
        await page.GotoAsync("/console/login");
        await page.FillAsync("#email", $"{who}@demo.test");
        await page.FillAsync("#password", BrowserApp.StaffPassword);
        await page.ClickAsync("form button[type=submit]");
        await page.WaitForURLAsync(u => !u.Contains("/console/login"));
        return page;
    }

    /// <summary>Creates an order in the demo shop through the API, as the store integration would.</summary>
    public async Task<string> NewOrderAsync(string prefix, object customer, object address, params object[] lines)
    {
        var number = prefix + Random.Shared.Next(100000, 999999);
        var (status, body) = await Api.Post("/api/v1/orders", new
        {
            number, placed_at = DateTimeOffset.UtcNow.AddDays(-8), delivered_at = DateTimeOffset.UtcNow.AddDays(-4), currency = "EUR",
            customer, shipping_address = address, shipping_total = "0", lines,
        });
        Assert.True(status == System.Net.HttpStatusCode.Created, $"Creating the order failed: {(int)status} {body?.ToJsonString()}");
        return number;
    }

    public static object Line(string id, string sku, string productCode, string title, string category, decimal price, int qty = 1,
        IReadOnlyDictionary<string, string>? variant = null, bool finalSale = false) => new
    {
        id, sku, product_code = productCode, title, category, quantity = qty, unit_price = price.ToString(System.Globalization.CultureInfo.InvariantCulture),
        tax = "0", discount = "0", final_sale = finalSale, variant,
    };

    public static async Task ShotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    /// <summary>Text from a PDF, read back by poppler's pdftotext (the test command installs poppler-utils).</summary>
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Retour.slnx"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}

[CollectionDefinition(Name)]
public sealed class PortalCollection : ICollectionFixture<PortalSite>
{
    public const string Name = "portal in a browser";
}
