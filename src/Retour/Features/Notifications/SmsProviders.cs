using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Retour.Infrastructure;

namespace Retour.Features.Notifications;

/// <summary>What a provider said about one message: its id, or why not and whether trying again could help.</summary>
public sealed record SmsResult(string? ProviderRef, string? Error = null, bool Permanent = false)
{
    public bool Ok => Error is null;
}

public interface ISmsProvider
{
    string Name { get; }
    Task<SmsResult> SendAsync(string to, string body, CancellationToken ct);
}

public static class SmsProviders
{
    /// <summary>The configured provider, or null when SMS is off; a half-configured provider stops the start with a clear message.</summary>
    public static ISmsProvider? From(RetourSettings s, IHttpClientFactory http) => s.SmsProvider switch
    {
        null => null,
        "sandbox" => new SandboxSms(),
        "twilio" when s.SmsAccountSid is null || s.SmsAuthToken is null =>
            throw new InvalidOperationException("Sms:Provider=twilio needs Sms:AccountSid and Sms:AuthToken (env Sms__AccountSid, Sms__AuthToken)."),
        "twilio" => new TwilioSms(http, s.SmsBaseUrl, s.SmsAccountSid, s.SmsAuthToken, s.SmsFrom),
        var other => throw new InvalidOperationException($"Sms:Provider must be 'twilio' or 'sandbox', not '{other}'."),
    };
}

/// <summary>
/// Twilio's Messages API (POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form fields To, From and Body, HTTP
/// Basic with the account SID and auth token). 201 gives the message's sid; a 4xx answer names a Twilio error code and
/// is final (an invalid or unsubscribed number does not get better by retrying), except 429; 5xx and timeouts are retried.
/// </summary>
public sealed class TwilioSms(IHttpClientFactory http, string baseUrl, string accountSid, string authToken, string from) : ISmsProvider
{
    public string Name => "twilio";

    public async Task<SmsResult> SendAsync(string to, string body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{baseUrl}/2010-04-01/Accounts/{Uri.EscapeDataString(accountSid)}/Messages.json")
        {
            Content = new FormUrlEncodedContent([new("To", to), new("From", from), new("Body", body)]),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{accountSid}:{authToken}")));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        HttpResponseMessage response;
        try { response = await http.CreateClient("sms").SendAsync(request, ct); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return new SmsResult(null, "The SMS provider did not answer: " + e.Message);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            string? sid = null, message = null;
            int? code = null;
            try
            {
                using var doc = JsonDocument.Parse(text);
                var root = doc.RootElement;
                if (root.TryGetProperty("sid", out var s) && s.ValueKind == JsonValueKind.String) sid = s.GetString();
                if (root.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String) message = m.GetString();
                if (root.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number) code = c.GetInt32();
            }
            catch (JsonException) { }
            if (response.IsSuccessStatusCode && sid is not null) return new SmsResult(sid);
            var what = $"HTTP {(int)response.StatusCode}" + (code is { } n ? $", Twilio error {n}" : "") + (message is null ? "" : ": " + message);
            var permanent = (int)response.StatusCode is >= 400 and < 500 && response.StatusCode != HttpStatusCode.TooManyRequests;
            return new SmsResult(null, what, permanent);
        }
    }
}

/// <summary>
/// Accepts every message without sending it, like Twilio's test credentials, and fails the way their documented magic
/// numbers do: +15005550001 is not a valid number (21211), +15005550009 cannot receive SMS (21614), +15005550004 has
/// opted out (21610). Messages show as sent in the delivery log with an "SMsandbox…" id.
/// </summary>
public sealed class SandboxSms : ISmsProvider
{
    public string Name => "sandbox";

    public Task<SmsResult> SendAsync(string to, string body, CancellationToken ct) => Task.FromResult(to switch
    {
        "+15005550001" => new SmsResult(null, "HTTP 400, Twilio error 21211: The 'To' number +15005550001 is not a valid phone number.", true),
        "+15005550009" => new SmsResult(null, "HTTP 400, Twilio error 21614: 'To' number is not a valid mobile number.", true),
        "+15005550004" => new SmsResult(null, "HTTP 400, Twilio error 21610: Attempt to send to unsubscribed recipient.", true),
        _ => new SmsResult("SMsandbox" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))),
    });
}
