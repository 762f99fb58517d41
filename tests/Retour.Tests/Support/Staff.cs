using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Retour.Features.Staff;
using Retour.Infrastructure.Db;

namespace Retour.Tests.Support;

/// <summary>Staff accounts for tests: made through Identity's UserManager, signed in through the real form at /console/login.</summary>
public static partial class Staff
{
    public const string Password = "correct-horse-battery";

    public static async Task<Guid> AddAsync(RetourApp app, Guid merchantId, string email, string role, string password = Password)
    {
        await using var scope = app.Services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<TenantContext>().Set(merchantId);
        var users = scope.ServiceProvider.GetRequiredService<UserManager<StaffUser>>();
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        var user = await users.FindByEmailAsync(email);
        if (user is null)
        {
            user = new StaffUser { Email = email, NormalizedEmail = email.ToUpperInvariant(), Name = email.Split('@')[0], CreatedAt = DateTimeOffset.UtcNow };
            var result = await users.CreateAsync(user, password);
            if (!result.Succeeded) throw new InvalidOperationException(string.Join("; ", result.Errors.Select(e => e.Description)));
        }
        db.StaffMemberships.Add(new StaffMembership { UserId = user.Id, Role = role, CreatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        return user.Id;
    }

    /// <summary>A client with its own cookie jar, not signed in.</summary>
    public static HttpClient Browser(RetourApp app) =>
        app.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    public static async Task<string> FormTokenAsync(HttpClient client, string url)
    {
        var html = await client.GetStringAsync(url);
        return TokenRegex().Match(html) is { Success: true } m ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException("No antiforgery token on " + url);
    }

    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string url, IDictionary<string, string> fields, string? tokenFrom = null)
    {
        var form = new Dictionary<string, string>(fields) { ["__rt"] = await FormTokenAsync(client, tokenFrom ?? url) };
        return await client.PostAsync(url, new FormUrlEncodedContent(form));
    }

    /// <summary>Signs in with the form; returns the response to the (last) POST.</summary>
    public static Task<HttpResponseMessage> SignInAsync(HttpClient client, string email, string password = Password) =>
        PostFormAsync(client, "/console/login", new Dictionary<string, string> { ["email"] = email, ["password"] = password, ["return_url"] = "/console" });

    public static async Task<HttpClient> SessionAsync(RetourApp app, string email, string password = Password)
    {
        var client = Browser(app);
        var res = await SignInAsync(client, email, password);
        if (res.StatusCode != HttpStatusCode.Redirect) throw new Xunit.Sdk.XunitException($"Sign-in of {email} failed: {(int)res.StatusCode} {await res.Content.ReadAsStringAsync()}");
        return client;
    }

    /// <summary>RFC 6238 TOTP (SHA-1, 30 s, 6 digits) from a Base32 key, as an authenticator app computes it.</summary>
    public static string Totp(string base32Key, DateTimeOffset at)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bits = string.Concat(base32Key.TrimEnd('=').ToUpperInvariant().Select(c => Convert.ToString(alphabet.IndexOf(c), 2).PadLeft(5, '0')));
        var key = Enumerable.Range(0, bits.Length / 8).Select(i => Convert.ToByte(bits.Substring(i * 8, 8), 2)).ToArray();
        var counter = BitConverter.GetBytes(at.ToUnixTimeSeconds() / 30);
        if (BitConverter.IsLittleEndian) Array.Reverse(counter);
        var hash = HMACSHA1.HashData(key, counter);
        var offset = hash[^1] & 0x0f;
        var code = ((hash[offset] & 0x7f) << 24 | hash[offset + 1] << 16 | hash[offset + 2] << 8 | hash[offset + 3]) % 1_000_000;
        return code.ToString("D6");
    }

    [GeneratedRegex("name=\"__rt\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenRegex();
}
