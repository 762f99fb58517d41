namespace Retour.Features.Policies;

public static class PoliciesFeature
{
    public static IServiceCollection AddPolicies(this IServiceCollection s) => s.AddSingleton<PolicyBook>();

    public static void MapPolicies(this WebApplication app, RouteGroupBuilder api)
    {
        PolicyEndpoints.Map(api);
    }
}
