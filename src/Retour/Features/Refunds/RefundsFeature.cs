using Retour.Infrastructure.Outbox;

namespace Retour.Features.Refunds;

public static class RefundsFeature
{
    public static IServiceCollection AddRefunds(this IServiceCollection s) => s
        .AddSingleton<IPaymentProvider, SandboxPaymentProvider>()
        .AddSingleton<PaymentCalls>()
        .AddSingleton<RefundIssuer>()
        .AddSingleton<RefundWorker>()
        .AddHostedService<RefundWorkerHost>()
        .AddSingleton<IOutboxHandler, RefundOnEvents>();

    public static void MapRefunds(this WebApplication app, RouteGroupBuilder api)
    {
        RefundEndpoints.Map(api);
        ExchangeEndpoints.Map(api);
        StoreCreditEndpoints.Map(api);
        SandboxPaymentEndpoints.Map(api);
    }
}
