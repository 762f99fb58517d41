namespace Retour.Features.Demo;

public static class DemoFeature
{
    public static IServiceCollection AddDemo(this IServiceCollection s) => s.AddSingleton<DemoSeeder>().AddSingleton<DemoGenerator>();
}
