namespace Retour.Features.Tenancy;

public static class TenancyFeature
{
    public static IServiceCollection AddTenancy(this IServiceCollection s) => s.AddSingleton<MerchantDirectory>();
}
