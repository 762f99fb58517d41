using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.OpenApi;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Localization;
using Retour.Infrastructure.Outbox;

namespace Retour.Infrastructure;

/// <summary>The cross-cutting parts of the web host: database, JSON, problems, auth, limits, outbox, health, OpenAPI.</summary>
public static class HostSetup
{
    public static WebApplicationBuilder AddRetourHost(this WebApplicationBuilder builder)
    {
        builder.WebHost.UseUrls((builder.Configuration["RETOUR_URLS"] ?? RetourSettings.DefaultUrls).Split(';', StringSplitOptions.RemoveEmptyEntries));
        // Kestrel's own ceiling; BodyLimitMiddleware enforces each endpoint's (smaller) limit.
        builder.Services.Configure<KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = 64 * 1024 * 1024);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Update", LogLevel.Critical); // failed saves are handled and logged by us
        builder.AddRetourTelemetry();

        var s = builder.Services;
        s.AddRetourDb();
        s.AddSingleton(TimeProvider.System);
        s.AddSingleton<Texts>();
        s.AddScoped<IdempotencyScope>();
        // Request bodies bound by the endpoints are strict: a field the endpoint does not know ("reson" for "reason", or
        // anything else) is a 400 naming it, not silently ignored (as ReadStrictJsonAsync does for the hand-read ones).
        s.Configure<JsonOptions>(o =>
        {
            Json.Configure(o.SerializerOptions);
            o.SerializerOptions.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
        });
        s.AddRetourProblems();
        s.AddScopePolicies();
        s.AddRateLimiter(ConfigureRateLimits);
        s.AddOpenApi("v1", o => o.AddRetourShapes().AddDocumentTransformer((doc, _, _) =>
        {
            doc.Info.Title = "Retour API";
            doc.Info.Description = "Returns management over REST. Authenticate with 'Authorization: Bearer <api key>'. JSON is snake_case; money is a decimal string beside its currency; times are ISO 8601 UTC. Errors are RFC 9457 problem details. Every POST accepts an Idempotency-Key.";
            doc.Components ??= new OpenApiComponents();
            doc.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            doc.Components.SecuritySchemes["api_key"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http, Scheme = "bearer", Description = "A merchant API key, sent as 'Authorization: Bearer <key>'.",
            };
            doc.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("api_key", doc)] = [] }];
            return Task.CompletedTask;
        }));
        s.AddRetourHealth();
        // First of all hosted services: the schema must exist before anything (Data Protection's key ring included) reads it.
        s.Insert(0, ServiceDescriptor.Singleton<IHostedService, StartupTasks>());
        s.AddHostedService<OutboxRelayHost>();
        s.AddHostedService<Housekeeping>();
        s.AddSingleton<OutboxRelay>();
        s.AddSingleton<Broker>();
        s.AddHostedService<OutboxConsumer>();
        return builder;
    }

    private static void ConfigureRateLimits(RateLimiterOptions o)
    {
        o.OnRejected = async (ctx, ct) =>
        {
            if (ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry))
                ctx.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString();
            await Problems.Write(ctx.HttpContext, 429, "rate_limited", "Too many requests",
                "This API key sent more requests than its limit allows. Slow down and retry after the Retry-After seconds.");
        };
        o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
        {
            var perSecond = http.RequestServices.GetRequiredService<RetourSettings>().RateLimitPerSecond;
            var key = http.User.FindFirstValue(RetourClaims.KeyId);
            if (perSecond == 0 || key is null) return RateLimitPartition.GetNoLimiter("unlimited");
            return RateLimitPartition.GetTokenBucketLimiter(key, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = perSecond * 2, // a burst of two seconds' worth
                TokensPerPeriod = perSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        });
    }

    public static WebApplication UseRetourPipeline(this WebApplication app)
    {
        app.UseCorrelation();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(async (ctx, next) =>
        {
            ctx.Response.Headers.XContentTypeOptions = "nosniff";
            ctx.Response.Headers["Referrer-Policy"] = "no-referrer";
            ctx.Response.Headers.XFrameOptions = "DENY";
            await next(ctx);
        });
        app.UseRouting();
        app.UseMiddleware<BodyLimitMiddleware>();
        app.UseAuthentication();
        app.UseMiddleware<SessionCsrfGuard>();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.UseMiddleware<IdempotencyMiddleware>();
        return app;
    }

    public static WebApplication MapHostEndpoints(this WebApplication app)
    {
        app.MapRetourHealth();
        if (app.Services.GetRequiredService<RetourSettings>().Role == RetourRole.Worker) return app; // a worker serves its health only
        app.MapOpenApi("/openapi/{documentName}.json").AllowAnonymous();
        app.MapGet("/", () => Results.Redirect("/openapi/v1.json")).ExcludeFromDescription();
        ProblemPages.Map(app);
        return app;
    }
}
