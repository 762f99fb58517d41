using System.Data.Common;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Retour.Features.Staff;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Api;

/// <summary>
/// Every API endpoint, found from the app's own route table (so a new endpoint is covered without editing this file):
/// <list type="bullet">
/// <item>the authorization matrix: endpoint × role (anonymous, each staff role's scopes as an API key) × tenant (another
/// merchant's identifiers): 401, 403 or an answer as the scopes say, and nothing of the other merchant's read or changed;</item>
/// <item>the fuzz suite: hostile route values and query strings, and hostile bodies (malformed JSON, wrong types, huge
/// numbers, negative quantities, 10 MB, invalid UTF-8, script and SQL injection, path traversal): never a 5xx, and the
/// merchant's data unchanged.</item>
/// </list>
/// Background work is off in this host, so a fingerprint of the merchant's rows taken before and after only moves when a
/// request itself wrote.
/// </summary>
public sealed class EndpointMatrixTests
{
    private sealed record Endpoint(string Method, string Pattern, string? Scope, bool Anonymous, IReadOnlyList<string> Parameters)
    {
        public override string ToString() => $"{Method} {Pattern}";
        public bool HasBody => Method is "POST" or "PUT" or "PATCH";
    }

    private sealed record World(TestMerchant Merchant, Guid ReturnId, string Rma, string Order, string Email, Guid WebhookId, Guid KeyId, Guid UserId, Guid DeadLetterId)
    {
        /// <summary>Strings that identify this merchant's data: none may appear in another merchant's answer (unless it sent it).</summary>
        public IEnumerable<string> Secrets => [Merchant.Id.ToString(), .. Owned, $"http://127.0.0.1:9/{Order.Split('-')[0]}"];
        /// <summary>The identifiers of records this merchant owns.</summary>
        public IEnumerable<string> Owned => [ReturnId.ToString(), Rma, WebhookId.ToString(), KeyId.ToString(), UserId.ToString(), Order, DeadLetterId.ToString()];
    }

    private static ConfiguredRetourApp NewApp() => new(null, new Dictionary<string, string?>
    {
        ["RETOUR_OUTBOX_RELAY"] = "false", ["RETOUR_WEBHOOK_ALLOW_LOCAL"] = "true",
    });

    private static IReadOnlyList<Endpoint> Endpoints(RetourApp app)
    {
        var list = new List<Endpoint>();
        foreach (var e in app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = e.RoutePattern.RawText ?? "";
            if (!pattern.StartsWith("/api/v1/", StringComparison.Ordinal)) continue;
            var methods = e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            var scope = e.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).FirstOrDefault(p => p?.StartsWith("scope:", StringComparison.Ordinal) == true)?[6..];
            var anonymous = e.Metadata.GetMetadata<IAllowAnonymous>() is not null;
            var parameters = e.RoutePattern.Parameters.Select(p => p.Name).ToList();
            foreach (var m in methods) list.Add(new Endpoint(m, pattern, scope, anonymous, parameters));
        }
        return [.. list.DistinctBy(x => x.ToString()).OrderBy(x => x.Pattern).ThenBy(x => x.Method)];
    }

    private static async Task<World> WorldAsync(RetourApp app, string prefix)
    {
        var m = await app.NewMerchantAsync();
        var order = $"{prefix}-ORDER-1";
        (await m.Client.Post("/api/v1/orders", Orders.Delivered(order))).Expect(HttpStatusCode.Created);
        var ret = (await m.Client.Post("/api/v1/returns", Orders.ReturnOf(order))).Expect(HttpStatusCode.Created);
        var hook = (await m.Client.Post("/api/v1/webhooks", new { url = $"http://127.0.0.1:9/{prefix}", events = new[] { "*" } })).Expect(HttpStatusCode.Created);
        var key = (await m.Client.Post("/api/v1/api-keys", new { name = prefix + " extra", scopes = new[] { Scopes.ReturnsRead } })).Expect(HttpStatusCode.Created);
        var user = await Staff.AddAsync(app, m.Id, $"{prefix.ToLowerInvariant()}-agent-{Guid.NewGuid():N}@matrix.test", StaffRoles.Agent);
        // An event that failed every attempt, for the dead-letter endpoints.
        var dead = Retour.Infrastructure.Outbox.OutboxMessage.Create(m.Id, "return.approved", new { return_id = Guid.NewGuid() }, DateTimeOffset.UtcNow);
        dead.DeadAt = DateTimeOffset.UtcNow;
        dead.Attempts = 12;
        dead.LastError = "receiver is down";
        await app.WithDb(m.Id, async db => { db.OutboxMessages.Add(dead); return await db.SaveChangesAsync(); });
        return new World(m, Guid.Parse(ret.Str("id")), ret.Str("rma"), order, "shopper@example.com", Guid.Parse(hook.Str("id")), Guid.Parse(key.Str("id")), user, dead.Id);
    }

    /// <summary>A route value from the world: the real identifier a parameter of this name and place names.</summary>
    private static string Value(World w, Endpoint e, string parameter) => parameter switch
    {
        "idOrRma" => w.Rma,
        "id" when e.Pattern.StartsWith("/api/v1/returns/", StringComparison.Ordinal) => w.ReturnId.ToString(),
        "id" when e.Pattern.StartsWith("/api/v1/webhooks/", StringComparison.Ordinal) => w.WebhookId.ToString(),
        "id" when e.Pattern.StartsWith("/api/v1/api-keys/", StringComparison.Ordinal) => w.KeyId.ToString(),
        "id" when e.Pattern.StartsWith("/api/v1/dead-letters/", StringComparison.Ordinal) => w.DeadLetterId.ToString(),
        "userId" => w.UserId.ToString(),
        "number" => w.Order,
        "email" => w.Email,
        "slug" => w.Merchant.Slug,
        "provider" => "aftership",
        "code" => "sbx",
        _ => Guid.NewGuid().ToString(),
    };

    private static string Path(Endpoint e, Func<string, string> value) =>
        Regex.Replace(e.Pattern, @"\{([A-Za-z]+)(:[^}]*)?\}", m => value(m.Groups[1].Value));

    private static HttpRequestMessage Request(Endpoint e, string path, HttpContent? body = null, string? key = null)
    {
        var req = new HttpRequestMessage(new HttpMethod(e.Method), path);
        if (e.HasBody) req.Content = body ?? new StringContent("{}", Encoding.UTF8, "application/json");
        if (key is not null) req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return req;
    }

    private static async Task<string> KeyAsync(RetourApp app, Guid merchant, IEnumerable<string> scopes)
    {
        var secret = ApiKey.NewSecret();
        await app.WithDb(merchant, async db =>
        {
            db.ApiKeys.Add(new ApiKey { MerchantId = merchant, Name = "matrix", Prefix = ApiKey.PrefixOf(secret), Hash = ApiKey.HashOf(secret), Scopes = string.Join(' ', scopes), CreatedAt = DateTimeOffset.UtcNow });
            return await db.SaveChangesAsync();
        });
        return secret;
    }

    /// <summary>A hash of every row the merchant owns, table by table (tables with a merchant_id column).</summary>
    private static Task<Dictionary<string, string>> FingerprintAsync(RetourApp app, Guid merchant) => app.WithDb(merchant, async db =>
    {
        var result = new Dictionary<string, string>();
        var conn = db.Database.GetDbConnection();
        if (conn.State != System.Data.ConnectionState.Open) await conn.OpenAsync();
        foreach (var entity in db.Model.GetEntityTypes().Where(t => t.FindProperty("MerchantId") is not null && t.GetTableName() is not null).DistinctBy(t => t.GetTableName()))
        {
            var table = entity.GetTableName()!;
            await using var cmd = conn.CreateCommand();
            cmd.CommandText = $"SELECT * FROM \"{table}\" WHERE merchant_id = @m";
            var p = cmd.CreateParameter();
            p.ParameterName = "@m";
            p.Value = db.IsPostgres ? merchant : merchant.ToString().ToUpperInvariant();
            cmd.Parameters.Add(p);
            var rows = new List<string>();
            await using (DbDataReader r = await cmd.ExecuteReaderAsync())
                while (await r.ReadAsync())
                    rows.Add(string.Join('\u001f', Enumerable.Range(0, r.FieldCount).Select(i => r.IsDBNull(i) ? "∅" : Convert.ToString(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
            rows.Sort(StringComparer.Ordinal);
            result[table] = $"{rows.Count}:{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', rows))))[..16]}";
        }
        return result;
    });

    private static string Changed(Dictionary<string, string> before, Dictionary<string, string> after) =>
        string.Join(", ", after.Where(kv => !before.TryGetValue(kv.Key, out var v) || v != kv.Value).Select(kv => kv.Key));

    /// <summary>
    /// Who may call what is a product decision: docs/api-scopes.md lists every endpoint with its scope and the roles that
    /// have it, and must match the route table (RETOUR_UPDATE_DOCS=1 rewrites it), so a permission change shows in review.
    /// </summary>
    [Fact]
    public async Task ScopeReference_MatchesTheRouteTable()
    {
        await using var app = NewApp();
        var text = new StringBuilder();
        text.AppendLine("# API endpoints, scopes and roles").AppendLine();
        text.AppendLine("Generated from the route table by `EndpointMatrixTests` (run it with `RETOUR_UPDATE_DOCS=1` after changing an endpoint's");
        text.AppendLine("scope). An API key needs the scope; a console session has its role's scopes (ADR 22). Public endpoints check a provider's");
        text.AppendLine("signature or serve public data instead.").AppendLine();
        text.AppendLine($"| endpoint | scope | {string.Join(" | ", StaffRoles.All)} |");
        text.AppendLine($"|---|---|{string.Join("", StaffRoles.All.Select(_ => "---|"))}");
        foreach (var e in Endpoints(app))
            text.AppendLine($"| `{e}` | {(e.Anonymous ? "public" : e.Scope is null ? "any key" : $"`{e.Scope}`")} | " +
                string.Join(" | ", StaffRoles.All.Select(r => e.Anonymous || e.Scope is null || StaffRoles.Can(r, e.Scope) ? "yes" : "")) + " |");
        var file = System.IO.Path.Combine(Repo.Root, "docs", "api-scopes.md");
        if (Environment.GetEnvironmentVariable("RETOUR_UPDATE_DOCS") == "1") await File.WriteAllTextAsync(file, text.ToString());
        Assert.True(File.Exists(file) && await File.ReadAllTextAsync(file) == text.ToString(),
            "docs/api-scopes.md does not match the route table: run `RETOUR_UPDATE_DOCS=1 dotnet test tests/Retour.Tests --filter ScopeReference` and review the diff.");
    }

    [Fact]
    public async Task Authorization_EveryEndpoint_ByRole_AndAcrossTenants()
    {
        await using var app = NewApp();
        var a = await WorldAsync(app, "A");
        var b = await WorldAsync(app, "B");
        var endpoints = Endpoints(app);
        Assert.True(endpoints.Count > 80, $"found {endpoints.Count} endpoints");
        var guarded = endpoints.Where(e => !e.Anonymous).ToList();
        var problems = new List<string>();
        // Every endpoint either names its scope or is deliberately public (webhooks from providers, the public policy).
        foreach (var e in guarded.Where(e => e.Scope is null && e.Pattern != "/api/v1/me"))
            problems.Add($"{e}: no scope policy");

        using var client = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        async Task<(int Status, string Body)> Send(HttpRequestMessage req)
        {
            using var res = await client.SendAsync(req);
            return ((int)res.StatusCode, await res.Content.ReadAsStringAsync());
        }

        // Anonymous: 401 on every guarded endpoint.
        foreach (var e in guarded)
        {
            var (status, _) = await Send(Request(e, Path(e, p => Value(a, e, p))));
            if (status != 401) problems.Add($"{e} anonymous: {status}, not 401");
        }

        // Another tenant: merchant B's admin key with A's identifiers reads nothing of A's and changes nothing of A's.
        var before = await FingerprintAsync(app, a.Merchant.Id);
        foreach (var e in guarded)
        {
            var path = Path(e, p => Value(a, e, p));
            var (status, body) = await Send(Request(e, path, key: b.Merchant.ApiKey));
            var leaked = a.Secrets.Where(s => !path.Contains(s, StringComparison.OrdinalIgnoreCase) && body.Contains(s, StringComparison.OrdinalIgnoreCase)).ToList();
            if (leaked.Count > 0) problems.Add($"{e} as merchant B: answer {status} shows A's {string.Join(", ", leaked)}");
            // A's own records named in the path (a return, an order, a webhook, a key, a staff member) are not B's to read or act on.
            var named = a.Owned.Where(x => path.Contains(x, StringComparison.OrdinalIgnoreCase)).ToList();
            if (status is >= 200 and < 300 && named.Count > 0)
                problems.Add($"{e} as merchant B on A's {string.Join(", ", named)}: {status}");
            if (status >= 500) problems.Add($"{e} as merchant B: {status}");
        }
        var after = await FingerprintAsync(app, a.Merchant.Id);
        if (Changed(before, after) is { Length: > 0 } changed) problems.Add($"merchant B's requests changed A's {changed}");

        // Each role's scopes, as an API key of A's: 403 exactly where the role lacks the endpoint's scope.
        foreach (var role in StaffRoles.All)
        {
            var key = await KeyAsync(app, a.Merchant.Id, StaffRoles.ScopesOf(role));
            foreach (var e in guarded.Where(e => e.Scope is not null))
            {
                var allowed = StaffRoles.Can(role, e.Scope!);
                var (status, _) = await Send(Request(e, Path(e, p => Value(a, e, p)), key: key));
                if (!allowed && status != 403) problems.Add($"{e} as {role} (without {e.Scope}): {status}, not 403");
                if (allowed && status is 401 or 403) problems.Add($"{e} as {role} (with {e.Scope}): {status}");
                if (status >= 500) problems.Add($"{e} as {role}: {status}");
            }
        }
        Assert.True(problems.Count == 0, $"{problems.Count} problems over {guarded.Count} endpoints:\n{string.Join("\n", problems)}\n{app.RecentErrors}");
    }

    private static readonly string[] HostileValues =
    [
        "..%2F..%2F..%2F..%2Fetc%2Fpasswd", "..\\..\\windows\\win.ini", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "'%20OR%20'1'%3D'1'%3B%20DROP%20TABLE%20returns%3B--",
        "99999999999999999999999999999999999999", "-1", "1e309", new string('A', 4000), "%C3%28", "%2500", "%E2%80%AE",
    ];

    private const string HostileQuery = "?limit=-1&cursor=..%2F..%2Fetc&status=%3Cscript%3E&from=99999-99-99&to=' OR 1=1 --&q=%00%C3%28&page=99999999999999999999&currency=1e309";

    private static IEnumerable<(string Name, Func<HttpContent> Body)> HostileBodies()
    {
        HttpContent Json(string s) => new StringContent(s, Encoding.UTF8, "application/json");
        yield return ("malformed JSON", () => Json("{\"lines\": [{\"order_line_id\": "));
        yield return ("trailing comma", () => Json("{\"a\": 1,}"));
        yield return ("an array", () => Json("[]"));
        yield return ("a bare string", () => Json("\"x\""));
        yield return ("wrong types", () => Json("""{"lines": "'; DROP TABLE returns; --", "quantity": "many", "amount": {"$gt": ""}, "email": ["<script>alert(1)</script>"], "active": "yes", "events": 7}"""));
        yield return ("huge numbers", () => Json("""{"quantity": 1e308, "amount": 99999999999999999999999999999999999999, "limit": -9223372036854775809, "grams": 1e999999}"""));
        yield return ("negative quantities", () => Json("""{"lines": [{"order_line_id": "L1", "quantity": -3, "unit": -1, "reason": "too_small"}], "quantity": -1, "amount": "-10.00", "days": -30}"""));
        yield return ("script and SQL injection", () => Json("""{"<script>alert(1)</script>": "' OR 1=1 --", "__proto__": {"admin": true}, "'; DROP TABLE merchants; --": 1}"""));
        yield return ("path traversal", () => Json("""{"../../../../etc/passwd": "x", "file_name": "../../../../etc/passwd", "url": "file:///etc/passwd", "0": null}"""));
        yield return ("invalid UTF-8", () =>
        {
            var c = new ByteArrayContent([.. "{\"name\": \""u8, 0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, .. "\"}"u8]);
            c.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return c;
        });
        yield return ("10 MB", () => Json("{\"comment\": \"" + new string('x', 10 * 1024 * 1024) + "\"}"));
        yield return ("not JSON at all", () => new StringContent("<xml>" + new string('<', 1000), Encoding.UTF8, "application/xml"));
        yield return ("multipart with a traversal file name", () =>
        {
            var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(Encoding.UTF8.GetBytes("#!/bin/sh\nrm -rf /\n"));
            file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(file, "photo", "../../../../etc/passwd");
            return form;
        });
    }

    /// <summary>Actions that read no body, so a hostile one cannot stop them (each does its work once here).</summary>
    private static readonly HashSet<string> Bodiless = ["POST /api/v1/webhooks/{id:guid}/rotate-secret", "POST /api/v1/dead-letters/{id:guid}/retry"];

    [Fact]
    public async Task Fuzzing_EveryEndpoint_NeverAnswers5xx_NorChangesData()
    {
        await using var app = NewApp();
        var w = await WorldAsync(app, "F");
        var endpoints = Endpoints(app);
        var key = w.Merchant.ApiKey;
        using var client = app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var problems = new List<string>();
        var sent = 0;
        async Task<int> Send(HttpRequestMessage req, string what)
        {
            sent++;
            int status;
            try
            {
                using var res = await client.SendAsync(req);
                status = (int)res.StatusCode;
            }
            catch (Exception ex) { problems.Add($"{what}: {ex.GetType().Name} {ex.Message}"); return 0; }
            if (status >= 500) problems.Add($"{what}: {status}");
            return status;
        }

        // 1. Hostile route values (one parameter at a time, the others real) and query strings.
        var before = await FingerprintAsync(app, w.Merchant.Id);
        foreach (var e in endpoints)
        {
            foreach (var parameter in e.Parameters)
                foreach (var hostile in HostileValues)
                {
                    var path = Path(e, p => p == parameter ? hostile : Value(w, e, p));
                    await Send(Request(e, path, key: key), $"{e} with {parameter}={hostile[..Math.Min(hostile.Length, 40)]}");
                }
            if (e.Method == "GET") await Send(Request(e, Path(e, p => Value(w, e, p)) + HostileQuery, key: key), $"{e} with a hostile query");
        }
        var after = await FingerprintAsync(app, w.Merchant.Id);
        if (Changed(before, after) is { Length: > 0 } changed1) problems.Add($"hostile route values changed {changed1}");

        // 2. Hostile bodies on every endpoint that takes one, with real route values. An endpoint that takes no body (an
        // action such as rotate-secret) does its work on the first request whatever the body: it is noted, and the
        // fingerprint taken again after it.
        var bodiless = new List<string>();
        foreach (var e in endpoints.Where(e => e.HasBody && !e.Anonymous))
        {
            var path = Path(e, p => Value(w, e, p));
            var baseline = await FingerprintAsync(app, w.Merchant.Id);
            var probe = await Send(Request(e, path, HostileBodies().First().Body(), key), $"{e} with malformed JSON");
            if (probe is >= 200 and < 300)
            {
                // Only actions known to take no body may do their work whatever it is; any other endpoint must refuse it.
                if (!Bodiless.Contains(e.ToString())) problems.Add($"{e} accepted malformed JSON ({probe})");
                bodiless.Add(e.ToString());
                continue;
            }
            foreach (var (name, body) in HostileBodies().Skip(1))
            {
                var status = await Send(Request(e, path, body(), key), $"{e} with {name}");
                if (status is >= 200 and < 300) problems.Add($"{e} accepted {name} ({status})");
            }
            var now = await FingerprintAsync(app, w.Merchant.Id);
            if (Changed(baseline, now) is { Length: > 0 } changed2) problems.Add($"{e}: hostile bodies changed {changed2}");
        }

        // 3. The anonymous endpoints (providers' webhooks, the public policy) with the same bodies: refused, unchanged.
        var beforeAnonymous = await FingerprintAsync(app, w.Merchant.Id);
        foreach (var e in endpoints.Where(e => e.Anonymous))
        {
            var path = Path(e, p => Value(w, e, p));
            foreach (var (name, body) in HostileBodies())
                await Send(Request(e, path, e.HasBody ? body() : null), $"{e} (anonymous) with {name}");
        }
        if (Changed(beforeAnonymous, await FingerprintAsync(app, w.Merchant.Id)) is { Length: > 0 } changed3) problems.Add($"anonymous endpoints changed {changed3}");

        // 4. One hostile field at a time inside an otherwise valid body, on the main write endpoints: each must reach the
        // validator and be refused there.
        var beforeFields = await FingerprintAsync(app, w.Merchant.Id);
        var line = new { order_line_id = "L1", quantity = 1, reason = "too_small" };
        var targeted = new (string Method, string Path, object Body)[]
        {
            ("POST", "/api/v1/returns", new { order_number = w.Order, lines = new[] { line with { quantity = -1 } }, resolution = "refund", method = "drop_off" }),
            ("POST", "/api/v1/returns", new { order_number = w.Order, lines = new[] { line with { quantity = int.MaxValue } }, resolution = "refund", method = "drop_off" }),
            ("POST", "/api/v1/returns", new { order_number = "' OR 1=1; DROP TABLE returns; --", lines = new[] { line }, resolution = "refund", method = "drop_off" }),
            ("POST", "/api/v1/returns", new { order_number = w.Order, lines = new[] { line with { order_line_id = "../../../../etc/passwd" } }, resolution = "refund", method = "drop_off" }),
            ("POST", "/api/v1/returns", new { order_number = w.Order, lines = new[] { line with { reason = "<script>alert(1)</script>" } }, resolution = "refund", method = "drop_off" }),
            ("POST", "/api/v1/returns", new { order_number = w.Order, lines = new[] { line }, resolution = "refund'; DROP TABLE returns; --", method = "drop_off" }),
            ("POST", "/api/v1/orders", Orders.Order("F-NEG", DateTimeOffset.UtcNow.AddDays(-3), null, lines: [Orders.Line("L1", "TEE", -20m, 1)])),
            ("POST", "/api/v1/orders", Orders.Order("F-QTY", DateTimeOffset.UtcNow.AddDays(-3), null, lines: [Orders.Line("L1", "TEE", 20m, -2)])),
            ("POST", "/api/v1/orders", Orders.Order("F-CUR", DateTimeOffset.UtcNow.AddDays(-3), null, currency: "EU'R", lines: [Orders.Line("L1", "TEE", 20m, 1)])),
            ("POST", $"/api/v1/returns/{w.Rma}/inspections", new { lines = new[] { new { order_line_id = "L1", unit = -1, grade = "like_new" } } }),
            ("POST", $"/api/v1/returns/{w.Rma}/inspections", new { lines = new[] { new { order_line_id = "L1", unit = 1, grade = "<script>alert(1)</script>" } } }),
            ("POST", "/api/v1/webhooks", new { url = "file:///etc/passwd", events = new[] { "*" } }),
            ("POST", "/api/v1/webhooks", new { url = "http://169.254.169.254/latest/meta-data/", events = new[] { "*" } }),
            ("POST", "/api/v1/webhooks", new { url = "javascript:alert(1)", events = new[] { "*" } }),
            ("PATCH", "/api/v1/merchant", new { brand_color = "<script>alert(1)</script>" }),
            ("PATCH", "/api/v1/merchant", new { logo_url = "javascript:alert(1)" }),
            ("PATCH", "/api/v1/merchant", new { pickup_max_attempts = -1 }),
            ("PATCH", "/api/v1/merchant", new { pickup_answer_hours = int.MaxValue }),
            ("POST", "/api/v1/api-keys", new { name = "x", scopes = new[] { "root:all'; --" } }),
        };
        foreach (var (method, target, body) in targeted)
        {
            var json = System.Text.Json.JsonSerializer.Serialize(body, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web) { PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower });
            var req = new HttpRequestMessage(new HttpMethod(method), target) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            var status = await Send(req, $"{method} {target} with {json[..Math.Min(json.Length, 120)]}");
            if (status is < 400 or >= 500) problems.Add($"{method} {target}: {status} for {json[..Math.Min(json.Length, 160)]}");
        }
        if (Changed(beforeFields, await FingerprintAsync(app, w.Merchant.Id)) is { Length: > 0 } changed4) problems.Add($"hostile fields changed {changed4}");

        Assert.True(sent > 1000, $"sent {sent} requests");
        Assert.True(problems.Count == 0, $"{problems.Count} problems in {sent} requests (bodiless: {string.Join(", ", bodiless)}):\n{string.Join("\n", problems.Take(80))}\n{app.RecentErrors}");
    }
}
