using Retour.Cli;
using Retour.Features.Analytics;
using Retour.Features.Carriers;
using Retour.Features.Catalog;
using Retour.Features.Console;
using Retour.Features.Demo;
using Retour.Features.Notifications;
using Retour.Features.Orders;
using Retour.Features.Policies;
using Retour.Features.Portal;
using Retour.Features.Refunds;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Features.Warehouses;
using Retour.Features.Webhooks;
using Retour.Infrastructure;

// `retour <command>` runs a command-line task; no command (or `retour web`) serves the API.
if (Commands.IsCommand(args)) return await Commands.RunAsync(args);

// appsettings.json sits beside the executable; the working directory is the user's (./data lives there).
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args,
    ContentRootPath = args.Any(a => a.StartsWith("--contentRoot", StringComparison.OrdinalIgnoreCase)) ? null : AppContext.BaseDirectory,
});
// `retour web` and `retour worker` are roles of this executable (ADR 27); without either, one process does both.
if (args is ["web" or "worker", ..]) builder.Configuration["RETOUR_ROLE"] = args[0];
builder.AddRetourHost();
builder.Services
    .AddTenancy()
    .AddPolicies()
    .AddReturns()
    .AddCarriers()
    .AddRefunds()
    .AddWebhooks()
    .AddNotifications()
    .AddAnalytics()
    .AddDemo()
    .AddPortal()
    .AddConsole();

var app = builder.Build();
var role = app.Services.GetRequiredService<RetourSettings>().Role;
app.UseRetourPipeline();

// A worker serves only its health over HTTP.
if (role != RetourRole.Worker)
{
    var api = app.MapGroup("/api/v1");
    app.MapOrders(api);
    app.MapReturns(api);
    app.MapPolicies(api);
    Retour.Features.Tenancy.MerchantEndpoints.Map(api);
    Retour.Features.Tenancy.MerchantEndpoints.MapPublic(app);
    app.MapCatalog(api);
    app.MapCarriers(api);
    app.MapWarehouse(api);
    app.MapRefunds(api);
    app.MapWebhooks(api);
    app.MapNotifications(api);
    app.MapAnalytics(api);
    app.MapPortal();
    app.MapConsole(api);
}
app.MapHostEndpoints();

await app.RunAsync();
return 0;

public partial class Program;
