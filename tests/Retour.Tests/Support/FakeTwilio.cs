using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Retour.Tests.Support;

/// <summary>
/// A real HTTP server on 127.0.0.1 that speaks Twilio's Messages API as documented: POST
/// /2010-04-01/Accounts/{sid}/Messages.json with HTTP Basic and form fields To, From, Body; 201 with the message's sid,
/// 401 with error 20003 for wrong credentials, 400 with error 21211 for +15005550001. A test can make it answer 500.
/// </summary>
public sealed class FakeTwilio
{
    public const string AccountSid = "AC00000000000000000000000000000001";
    public const string AuthToken = "test-auth-token";
    public sealed record Message(string Sid, string To, string From, string Body);

    private static readonly Lazy<FakeTwilio> Shared = new(() => StartAsync().GetAwaiter().GetResult());
    public static FakeTwilio Instance => Shared.Value;

    public ConcurrentQueue<Message> Messages { get; } = new();
    /// <summary>Numbers whose next request gets a 500 (then works).</summary>
    public ConcurrentDictionary<string, int> FailNext { get; } = new();
    public string Url { get; private set; } = "";

    private static async Task<FakeTwilio> StartAsync()
    {
        var self = new FakeTwilio();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        app.MapPost("/2010-04-01/Accounts/{sid}/Messages.json", async (string sid, HttpContext ctx) =>
        {
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AccountSid}:{AuthToken}"));
            if (sid != AccountSid || ctx.Request.Headers.Authorization.ToString() != expected)
                return Results.Json(new { code = 20003, message = "Authenticate", more_info = "https://www.twilio.com/docs/errors/20003", status = 401 }, statusCode: 401);
            var form = await ctx.Request.ReadFormAsync();
            var (to, from, body) = (form["To"].ToString(), form["From"].ToString(), form["Body"].ToString());
            if (to == "+15005550001")
                return Results.Json(new { code = 21211, message = $"The 'To' number {to} is not a valid phone number.", more_info = "https://www.twilio.com/docs/errors/21211", status = 400 }, statusCode: 400);
            if (self.FailNext.TryRemove(to, out _))
                return Results.Json(new { code = 20500, message = "An internal server error has occurred", status = 500 }, statusCode: 500);
            var messageSid = "SM" + Guid.NewGuid().ToString("N");
            self.Messages.Enqueue(new Message(messageSid, to, from, body));
            return Results.Json(new
            {
                sid = messageSid, account_sid = sid, to, from, body, status = "queued", num_segments = "1", direction = "outbound-api", api_version = "2010-04-01",
                uri = $"/2010-04-01/Accounts/{sid}/Messages/{messageSid}.json",
            }, statusCode: 201);
        });
        await app.StartAsync();
        self.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return self;
    }

    public async Task<Message> WaitForAsync(string to, Func<Message, bool> match, string what, int seconds = 20)
    {
        for (var i = 0; i < seconds * 20; i++)
        {
            if (Messages.FirstOrDefault(m => m.To == to && match(m)) is { } hit) return hit;
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException($"No SMS to {to}: {what}. Got: {string.Join(" | ", Messages.Where(m => m.To == to).Select(m => m.Body))}");
    }
}
