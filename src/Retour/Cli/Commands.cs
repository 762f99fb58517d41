using System.CommandLine;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Returns;
using Retour.Features.Carriers;
using Retour.Features.Demo;
using Retour.Features.Orders;
using Retour.Features.Policies;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Localization;
using Spectre.Console;

namespace Retour.Cli;

/// <summary>
/// The command-line roles of the one executable: `retour migrate`, `retour merchant create`, `retour import orders`,
/// `retour demo seed`, `retour docs lifecycle`. They use the same settings (RETOUR_DB_PROVIDER, RETOUR_DB, …) and the
/// same database as a running server.
/// </summary>
public static class Commands
{
    private static readonly string[] Names = ["migrate", "merchant", "import", "demo", "docs", "schema", "--help", "-h", "-?"];

    public static bool IsCommand(string[] args) => args.Length > 0 && Names.Contains(args[0]);

    /// <summary>Runs a command. Tests pass <paramref name="config"/>; otherwise settings come from the environment.</summary>
    public static async Task<int> RunAsync(string[] args, IConfiguration? config = null)
    {
        CliServices.Configuration = config;
        var root = new RootCommand("Retour: returns management. Without a command, one process serves the API and does the background work; `retour web` only serves, `retour worker` only works.");
        root.Subcommands.Add(Migrate());
        root.Subcommands.Add(Merchant());
        root.Subcommands.Add(Import());
        root.Subcommands.Add(Demo());
        root.Subcommands.Add(Docs());
        root.Subcommands.Add(Schema());
        return await root.Parse(args).InvokeAsync();
    }

    private static Command Migrate()
    {
        var to = new Option<int?>("--to") { Description = "Stop at this schema version (default: the latest)." };
        var cmd = new Command("migrate", "Bring the database schema up to date.") { to };
        cmd.SetAction(async (parse, ct) =>
        {
            await using var sp = CliServices.Build();
            var migrator = sp.GetRequiredService<Migrator>();
            var settings = sp.GetRequiredService<RetourSettings>();
            var ran = await migrator.MigrateAsync(parse.GetValue(to), ct);
            Console.WriteLine($"Schema at version {await migrator.CurrentVersionAsync(ct)} of {Migrator.LatestVersion(settings.Provider)} ({ran} applied now).");
            return 0;
        });
        return cmd;
    }

    private static Command Merchant()
    {
        var slug = new Option<string>("--slug") { Description = "The merchant's URL name, e.g. acme (portal at /r/acme).", Required = true };
        var name = new Option<string>("--name") { Description = "The shop's display name.", Required = true };
        var currency = new Option<string>("--currency") { Description = "ISO 4217 currency.", DefaultValueFactory = _ => "EUR" };
        var zone = new Option<string>("--time-zone") { Description = "IANA time zone; return windows end at midnight there.", DefaultValueFactory = _ => "Europe/Berlin" };
        var locale = new Option<string>("--locale") { Description = "Default language: en, ar, es, ru, de or ko.", DefaultValueFactory = _ => "en" };
        var domain = new Option<string?>("--shopify-domain") { Description = "The shop's myshopify.com domain, for Shopify webhooks." };
        var secret = new Option<string?>("--shopify-secret") { Description = "The Shopify webhook secret (HMAC key)." };
        var create = new Command("create", "Create a merchant with the default policy and print its admin API key.") { slug, name, currency, zone, locale, domain, secret };
        create.SetAction(async (parse, ct) =>
        {
            await using var sp = CliServices.Build();
            await sp.GetRequiredService<Migrator>().MigrateAsync(ct: ct);
            await using var scope = sp.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            try
            {
                var (m, key) = await MerchantSetup.CreateAsync(db, new NewMerchant(parse.GetValue(slug)!, parse.GetValue(name)!,
                    parse.GetValue(currency)!.ToUpperInvariant(), parse.GetValue(zone)!, parse.GetValue(locale)!, null,
                    parse.GetValue(domain), parse.GetValue(secret)), TimeProvider.System.GetUtcNow(), ct);
                Console.WriteLine($"Created merchant '{m.Slug}' ({m.Name}), id {m.Id}.");
                Console.WriteLine($"Admin API key (shown once, store it now): {key}");
                return 0;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine($"Cannot create the merchant: {e.Message}");
                return 1;
            }
        });
        return new Command("merchant", "Manage merchants.") { create };
    }

    private static Command Import()
    {
        var file = new Argument<FileInfo>("file") { Description = "CSV file, one row per order line (see README)." };
        var merchant = new Option<string>("--merchant") { Description = "The merchant's slug.", Required = true };
        var orders = new Command("orders", "Import orders from a CSV file.") { file, merchant };
        orders.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists) { Console.Error.WriteLine($"No such file: {path.FullName}"); return 1; }
            await using var sp = CliServices.Build();
            await sp.GetRequiredService<Migrator>().MigrateAsync(ct: ct);
            await using var scope = sp.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            var slug = parse.GetValue(merchant)!;
            var m = await db.Merchants.AsNoTracking().FirstOrDefaultAsync(x => x.Slug == slug, ct);
            if (m is null) { Console.Error.WriteLine($"There is no merchant '{slug}'. Create it with `retour merchant create`."); return 1; }
            db.Tenant.Set(m.Id);
            using var reader = path.OpenText();
            try
            {
                var summary = await ImportOrders.RunAsync(db, reader, m.Currency, TimeProvider.System, AnsiConsole.Console, ct);
                ImportOrders.PrintSummary(summary, AnsiConsole.Console);
                return summary.Rejected.Count == 0 ? 0 : 2;
            }
            catch (InvalidDataException e)
            {
                Console.Error.WriteLine($"Cannot import {path.Name}: {e.Message}");
                return 1;
            }
        });
        var carrierFile = new Argument<FileInfo>("file") { Description = "CSV file, one row per carrier (see README)." };
        var carrierMerchant = new Option<string>("--merchant") { Description = "The merchant's slug.", Required = true };
        var carriers = new Command("carriers", "Create or replace carriers from a CSV file (all rows or none).") { carrierFile, carrierMerchant };
        carriers.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(carrierFile)!;
            if (!path.Exists) { Console.Error.WriteLine($"No such file: {path.FullName}"); return 1; }
            await using var sp = CliServices.Build();
            await sp.GetRequiredService<Migrator>().MigrateAsync(ct: ct);
            await using var scope = sp.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            var slug = parse.GetValue(carrierMerchant)!;
            var m = await db.Merchants.AsNoTracking().FirstOrDefaultAsync(x => x.Slug == slug, ct);
            if (m is null) { Console.Error.WriteLine($"There is no merchant '{slug}'. Create it with `retour merchant create`."); return 1; }
            db.Tenant.Set(m.Id);
            using var reader = path.OpenText();
            try
            {
                var summary = await ImportCarriers.RunAsync(db, reader, sp.GetRequiredService<CarrierAdapters>(), TimeProvider.System, AnsiConsole.Console, ct);
                ImportCarriers.PrintSummary(summary, AnsiConsole.Console);
                return summary.Rejected.Count == 0 ? 0 : 2;
            }
            catch (InvalidDataException e)
            {
                Console.Error.WriteLine($"Cannot import {path.Name}: {e.Message}");
                return 1;
            }
        });
        return new Command("import", "Import data from files.") { orders, carriers };
    }

    private static Command Demo()
    {
        var seed = new Command("seed", "Create the demo merchant with its catalogue, orders, returns, policy and carriers (if missing).");
        seed.SetAction(async (parse, ct) =>
        {
            await using var sp = CliServices.Build();
            await sp.GetRequiredService<Migrator>().MigrateAsync(ct: ct);
            CliServices.MakeKeyRing(sp);
            var keys = await sp.GetRequiredService<DemoSeeder>().EnsureAsync(ct);
            Console.WriteLine(keys.Created ? "Demo merchant 'demo' seeded." : "Demo merchant 'demo' exists already.");
            Console.WriteLine($"Demo API key: {keys.ApiKey}");
            return 0;
        });
        return new Command("demo", "Demo data.") { seed, Generate() };
    }

    private static Command Generate()
    {
        var returns = new Option<int>("--returns") { Description = "How many returns to add (with the orders they come from).", Required = true };
        var merchant = new Option<string>("--merchant") { Description = "The merchant's slug.", DefaultValueFactory = _ => DemoSeeder.Slug };
        var months = new Option<int>("--months") { Description = "How far back the history goes.", DefaultValueFactory = _ => 24 };
        var seed = new Option<int>("--seed") { Description = "Random seed (the same seed on the same day makes the same data).", DefaultValueFactory = _ => 7 };
        var cmd = new Command("generate", "Add a realistic history of orders and returns to a merchant, with their analytics (fast on PostgreSQL).") { returns, merchant, months, seed };
        cmd.SetAction(async (parse, ct) =>
        {
            var n = parse.GetValue(returns);
            var m = parse.GetValue(months);
            if (n is < 1 or > 20_000_000) { Console.Error.WriteLine("--returns must be between 1 and 20,000,000."); return 2; }
            if (m is < 1 or > 120) { Console.Error.WriteLine("--months must be between 1 and 120."); return 2; }
            await using var sp = CliServices.Build();
            await sp.GetRequiredService<Migrator>().MigrateAsync(ct: ct);
            var slug = parse.GetValue(merchant)!;
            CliServices.MakeKeyRing(sp);
            if (slug == DemoSeeder.Slug) await sp.GetRequiredService<DemoSeeder>().EnsureAsync(ct);
            var settings = sp.GetRequiredService<RetourSettings>();
            if (settings.Provider != DbProvider.Postgres && n > 100_000)
                Console.Error.WriteLine("Note: on SQLite this is row-by-row; PostgreSQL (binary COPY) is the place for a million returns.");
            var options = new GenerateOptions(slug, n, m, parse.GetValue(seed));
            GenerateReport report;
            try
            {
                if (Console.IsOutputRedirected)
                {
                    var last = -1L;
                    report = await sp.GetRequiredService<DemoGenerator>().RunAsync(options, new Progress<GenerateProgress>(p =>
                    {
                        var pct = p.Target == 0 ? 100 : 100 * p.Returns / p.Target;
                        if (pct / 10 != last / 10) { last = pct; Console.WriteLine($"{p.Returns:N0} of {p.Target:N0} returns ({pct} %)"); }
                    }), ct);
                }
                else
                {
                    report = null!;
                    await AnsiConsole.Progress()
                        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                        .StartAsync(async ctx =>
                        {
                            var task = ctx.AddTask($"Generating {n:N0} returns for '{slug}'", maxValue: n);
                            report = await sp.GetRequiredService<DemoGenerator>().RunAsync(options, new Progress<GenerateProgress>(p => task.Value = p.Returns), ct);
                            task.Value = n;
                        });
                }
            }
            catch (InvalidOperationException e)
            {
                Console.Error.WriteLine(e.Message);
                return 1;
            }
            Console.WriteLine($"Added {report.Returns:N0} returns ({report.ReturnLines:N0} lines) from {report.Orders:N0} orders ({report.OrderLines:N0} lines), " +
                              $"{report.Refunds:N0} refunds, {report.Inspections:N0} inspections, {report.AuditEvents:N0} audit events, {report.RollupCells:N0} rollup cells " +
                              $"and {report.Shoppers:N0} shopper profiles " +
                              $"in {report.Elapsed.TotalSeconds:N0} s ({report.WriteTime.TotalSeconds:N0} s of it writing).");
            return 0;
        });
        return cmd;
    }

    private static Command Docs()
    {
        var output = new Option<FileInfo>("--output") { Description = "Where to write it.", DefaultValueFactory = _ => new FileInfo("docs/lifecycle.md") };
        var lifecycle = new Command("lifecycle", "Write the return lifecycle document from the transition table.") { output };
        lifecycle.SetAction(parse =>
        {
            var f = parse.GetValue(output)!;
            f.Directory?.Create();
            File.WriteAllText(f.FullName, Lifecycle.ToMarkdown());
            Console.WriteLine($"Wrote {f.FullName}");
            return 0;
        });
        return new Command("docs", "Generated documentation.") { lifecycle };
    }

    private static Command Schema()
    {
        var script = new Command("script", "Print the schema EF Core would create for the configured provider (a starting point for a new migration).");
        script.SetAction(parse =>
        {
            using var sp = CliServices.Build();
            using var scope = sp.CreateScope();
            Console.WriteLine(scope.ServiceProvider.GetRequiredService<RetourDb>().Database.GenerateCreateScript());
            return 0;
        });
        return new Command("schema", "Schema tools for developers.") { script };
    }
}

/// <summary>The services a command needs: settings from the environment, the database, and the feature services.</summary>
public static class CliServices
{
    /// <summary>
    /// Makes (and stores) the signing key ring before any seeding, as the server does at start: made by the first link
    /// signed inside a seeding transaction, it would wait on that transaction's own write lock on SQLite.
    /// </summary>
    public static void MakeKeyRing(IServiceProvider sp) =>
        Microsoft.AspNetCore.DataProtection.DataProtectionCommonExtensions.Protect(
            sp.GetRequiredService<Microsoft.AspNetCore.DataProtection.IDataProtectionProvider>().CreateProtector("Retour.Startup"), "ready");

    public static IConfiguration? Configuration { get; set; }

    public static ServiceProvider Build()
    {
        // The same sources, in the same order, as the server: appsettings.json beside the executable, then the environment.
        var config = Configuration ?? new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .Build();
        var s = new ServiceCollection();
        s.AddSingleton(config);
        s.AddLogging(l => l.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        s.AddRetourDb();
        s.AddSingleton(TimeProvider.System);
        s.AddSingleton<Texts>();
        s.AddSingleton<PolicyBook>();
        s.AddSingleton<MerchantDirectory>();
        s.AddSingleton<DemoSeeder>();
        s.AddSingleton<DemoGenerator>();
        s.AddReturns();
        // What the demo seeder's parcel history goes through (tracking ingestion and failed-pickup recovery); the hosted
        // workers these features also register never start in a command.
        s.AddCarriers();
        s.AddOptions();
        Features.Portal.PortalFeature.AddSharedKeyRing(s);
        s.AddSingleton<Microsoft.AspNetCore.Identity.IPasswordHasher<Features.Staff.StaffUser>, Microsoft.AspNetCore.Identity.PasswordHasher<Features.Staff.StaffUser>>();
        return s.BuildServiceProvider();
    }
}
