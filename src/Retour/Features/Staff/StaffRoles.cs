using Retour.Features.Tenancy;

namespace Retour.Features.Staff;

/// <summary>
/// The four console roles, each a fixed set of API scopes. A signed-in user carries their role's scopes as claims, so the
/// API's scope policies decide for sessions exactly as for API keys (ADR 22): an Analyst's approve is 403 either way.
/// </summary>
public static class StaffRoles
{
    public const string Admin = "admin";
    public const string Agent = "agent";
    public const string Warehouse = "warehouse";
    public const string Analyst = "analyst";
    public static readonly IReadOnlyList<string> All = [Admin, Agent, Warehouse, Analyst];

    private static readonly string[] Reads =
        [Scopes.OrdersRead, Scopes.ReturnsRead, Scopes.PolicyRead, Scopes.CatalogRead, Scopes.CarriersRead, Scopes.WarehouseRead, Scopes.RefundsRead];

    private static readonly Dictionary<string, string[]> ScopesByRole = new()
    {
        [Admin] = [.. Scopes.All],
        // Support: decides returns, talks to shoppers, issues and retries refunds; changes no settings.
        [Agent] = [.. Reads, Scopes.ReturnsWrite, Scopes.ReturnsOverride, Scopes.RefundsWrite],
        // Receives, inspects and disposes; sees returns and products, nothing financial to change.
        [Warehouse] = [Scopes.OrdersRead, Scopes.ReturnsRead, Scopes.CatalogRead, Scopes.CarriersRead, Scopes.WarehouseRead, Scopes.WarehouseWrite],
        // Reads everything a merchant has, and its dashboards and exports; changes nothing.
        [Analyst] = [.. Reads, Scopes.AnalyticsRead],
    };

    public static bool IsRole(string? role) => role is not null && ScopesByRole.ContainsKey(role);

    public static IReadOnlyList<string> ScopesOf(string role) => ScopesByRole.TryGetValue(role, out var s) ? s : [];

    public static bool Can(string role, string scope) => ScopesOf(role).Contains(scope);
}
