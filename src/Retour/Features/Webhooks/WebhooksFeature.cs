using Retour.Infrastructure.Outbox;

namespace Retour.Features.Webhooks;

public static class WebhooksFeature
{
    public static IServiceCollection AddWebhooks(this IServiceCollection s)
    {
        // No redirects: a delivery goes to the URL the merchant gave, nowhere else.
        s.AddHttpClient(WebhookSender.ClientName, c =>
        {
            c.Timeout = Timeout.InfiniteTimeSpan; // each attempt has its own timeout (RETOUR_WEBHOOK_TIMEOUT_MS)
            c.DefaultRequestHeaders.UserAgent.ParseAdd("Retour-Webhooks/1.0");
        }).ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
        return s.AddSingleton<WebhookDirectory>()
            .AddSingleton<WebhookSender>()
            .AddHostedService<WebhookSenderHost>()
            .AddSingleton<IOutboxHandler, WebhookFanOut>();
    }

    public static void MapWebhooks(this WebApplication app, RouteGroupBuilder api)
    {
        WebhookEndpoints.Map(api);
        DeadLetterEndpoints.Map(api);
    }
}
