using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Retour.Cli;
using Retour.Features.Orders;
using Retour.Tests.Support;
using Spectre.Console;
using Xunit;

namespace Retour.Tests.Api;

public sealed class ImportAndCliTests(RetourApp app) : IClassFixture<RetourApp>
{
    private const string Csv = """
        order_number,placed_at,delivered_at,currency,customer_email,customer_name,customer_locale,ship_line1,ship_city,ship_postal_code,ship_country,line_id,sku,title,category,quantity,unit_price,tax,final_sale,size,color
        C-1,2026-10-01T10:00:00Z,2026-10-03T10:00:00Z,EUR,anna@example.com,Anna,de,Hauptstr. 1,Berlin,10115,DE,L1,TEE-M,Tee,Apparel,2,19.99,3.80,false,M,blue
        C-1,2026-10-01T10:00:00Z,2026-10-03T10:00:00Z,EUR,anna@example.com,Anna,de,Hauptstr. 1,Berlin,10115,DE,L2,MUG,Mug,home,1,12.00,0,no,,
        C-2,2026-10-02T10:00:00Z,,EUR,ben@example.com,Ben,en,,,,,L1,JEANS,Jeans,apparel,many,79.00,0,false,32,black
        C-3,2026-10-02T10:00:00Z,,EUR,cleo@example.com,Cleo,es,,,,,L1,SOCK,Socks,apparel,1,4.00,0,false,,
        C-3,2026-10-02T10:00:00Z,,EUR,cleo@example.com,Cleo,es,,,,,L2,HAT,Hat,apparel,1,-5,0,false,,
        C-4,yesterday,,EUR,dan@example.com,Dan,ko,,,,,L1,CAP,Cap,apparel,1,9.00,0,false,,
        """;

    private static IAnsiConsole Quiet(StringWriter into) =>
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(into), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No });

    [Fact]
    public async Task ImportOrders_ImportsTheGoodOrders_AndListsEachRejectedRowWithItsLineNumber()
    {
        var m = await app.NewMerchantAsync();
        var output = new StringWriter();
        var summary = await app.WithDb(m.Id, db => ImportOrders.RunAsync(db, new StringReader(Csv), "EUR", TimeProvider.System, Quiet(output), CancellationToken.None));

        Assert.Equal(4, summary.Orders);
        Assert.Equal(1, summary.Created);
        Assert.Equal([4, 5, 6, 7], summary.Rejected.Select(r => r.Line).Distinct());
        Assert.Contains(summary.Rejected, r => r.Line == 4 && r.Reason.Contains("quantity: 'many' is not a whole number"));
        Assert.Contains(summary.Rejected, r => r.Line == 6 && r.Reason.Contains("lines[1].unit_price"));
        Assert.Contains(summary.Rejected, r => r.Line == 5 && r.Reason.Contains("because line 6"));
        Assert.Contains(summary.Rejected, r => r.Line == 7 && r.Reason.Contains("placed_at"));

        var order = (await m.Client.Get("/api/v1/orders/C-1")).Expect(HttpStatusCode.OK);
        Assert.Equal("csv", order.Str("source"));
        Assert.Equal("apparel", order.Str("lines.0.category"));
        Assert.Equal("blue", order.Str("lines.0.variant.color"));

        ImportOrders.PrintSummary(summary, Quiet(output));
        Assert.Contains("line 4: quantity: 'many' is not a whole number", output.ToString());
    }

    [Fact]
    public async Task ImportingTheSameFileAgain_UpdatesAndDuplicatesNothing()
    {
        var m = await app.NewMerchantAsync();
        await app.WithDb(m.Id, db => ImportOrders.RunAsync(db, new StringReader(Csv), "EUR", TimeProvider.System, Quiet(new StringWriter()), CancellationToken.None));
        var again = await app.WithDb(m.Id, db => ImportOrders.RunAsync(db, new StringReader(Csv), "EUR", TimeProvider.System, Quiet(new StringWriter()), CancellationToken.None));
        Assert.Equal(0, again.Created);
        Assert.Equal(1, again.Updated);
        Assert.Equal(1, await app.WithDb(m.Id, db => db.Orders.CountAsync()));
    }

    [Fact]
    public async Task ImportOrders_MissingColumns_IsRefusedBeforeAnythingIsRead()
    {
        var m = await app.NewMerchantAsync();
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => app.WithDb(m.Id, db =>
            ImportOrders.RunAsync(db, new StringReader("order_number,title\n1,x\n"), "EUR", TimeProvider.System, Quiet(new StringWriter()), CancellationToken.None)));
        Assert.Contains("placed_at", e.Message);
    }

    private IConfiguration CliConfig() => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["RETOUR_DB_PROVIDER"] = TestDb.ProviderSetting,
        ["RETOUR_DB"] = app.ConnectionString,
        ["RETOUR_DATA_DIR"] = app.DataDir,
    }).Build();

    [Fact]
    public async Task Cli_MerchantCreate_MakesAMerchantWhoseKeyWorks_AndImportsAFile()
    {
        _ = app.Services; // the server is running on the same database
        var slug = "cli-" + Guid.NewGuid().ToString("N")[..8];
        var stdout = Console.Out;
        var captured = new StringWriter();
        int created, imported;
        var file = Path.Combine(app.DataDir, slug + ".csv");
        Directory.CreateDirectory(app.DataDir);
        await File.WriteAllTextAsync(file, Csv);
        Console.SetOut(captured);
        try
        {
            created = await Commands.RunAsync(["merchant", "create", "--slug", slug, "--name", "Acme"], CliConfig());
            imported = await Commands.RunAsync(["import", "orders", file, "--merchant", slug], CliConfig());
        }
        finally { Console.SetOut(stdout); }
        Assert.Equal(0, created);
        Assert.Equal(2, imported); // some rows were rejected
        var key = captured.ToString().Split('\n').Single(l => l.StartsWith("Admin API key")).Split(": ")[1].Trim();
        (await app.Client(key).Get("/api/v1/orders/C-1")).Expect(HttpStatusCode.OK);
        (await app.Client(key).Get("/api/v1/policy")).Expect(HttpStatusCode.OK);
        Assert.Equal(1, await Commands.RunAsync(["merchant", "create", "--slug", slug, "--name", "Again"], CliConfig()));
    }
}
