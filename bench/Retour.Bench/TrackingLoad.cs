using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;

namespace Retour.Bench;

/// <summary>
/// Tracking ingestion into PostgreSQL, in the two shapes it arrives in:
/// (a) single-event signed webhooks as AfterShip and EasyPost send them: the whole tracking with its history, of which the
///     last checkpoint is new, alternating between the two providers, each with its real signature scheme;
/// (b) signed batches of 500 events over 50 parcels, as a polling bridge posts what it fetched (provider sandbox).
/// Each is measured against its limit in the same run: (a) the limit server doing one INSERT per request of the same body;
/// (b) a raw batched INSERT … ON CONFLICT DO NOTHING of the same rows. Afterwards the stored events are counted against the
/// events acknowledged, so a duplicate (or a lost event) shows.
/// </summary>
public static class TrackingLoad
{
    public const string AfterShipSecret = "bench-aftership-secret-0123456789";
    public const string EasyPostSecret = "bench-easypost-secret-0123456789";
    public const string BatchSecret = "bench-batch-secret-0123456789abcdef";
    public const int BatchEvents = 500;
    public const int BatchParcels = 50;
    /// <summary>How much history a webhook carries at most (a real parcel rarely has more checkpoints).</summary>
    public const int MaxHistory = 16;

    private static readonly DateTimeOffset Base = DateTimeOffset.UtcNow.AddDays(-2);

    /// <summary>The real AfterShip tracking (GetTrackingResult.json) and EasyPost tracker (trackers-retrieve.json), as templates.</summary>
    public sealed record Templates(JsonObject AfterShip, JsonObject EasyPost)
    {
        public static Templates Load()
        {
            var root = RealData();
            var a = (JsonObject)JsonNode.Parse(File.ReadAllBytes(Path.Combine(root, "tracking", "aftership", "api_responses", "GetTrackingResult.json")))!["data"]!["tracking"]!;
            var e = (JsonObject)JsonNode.Parse(File.ReadAllBytes(Path.Combine(root, "tracking", "easypost", "docs__responses__trackers__trackers-retrieve.json")))!;
            return new Templates(a, e);
        }
    }

    private static string RealData()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !Directory.Exists(Path.Combine(dir.FullName, "shared", "realdata"))) dir = dir.Parent;
        return dir is null ? throw new DirectoryNotFoundException("../shared/realdata not found above the bench") : Path.Combine(dir.FullName, "shared", "realdata");
    }

    private static (string Tag, string Subtag, string EasyPostStatus) Stage(int i) => i switch
    {
        0 => ("InTransit", "InTransit_002", "in_transit"),
        < 9 => ("InTransit", "InTransit_001", "in_transit"),
        9 => ("OutForDelivery", "OutForDelivery_001", "out_for_delivery"),
        _ => ("Delivered", "Delivered_001", "delivered"),
    };

    /// <summary>The k-th webhook: parcel k mod P, its (k div P)-th event, with the history before it; the body and its headers.</summary>
    public static (byte[] Body, string Path, string Header, string Signature) Webhook(Templates t, string slug, IReadOnlyList<string> parcels, long k)
    {
        var parcel = parcels[(int)(k % parcels.Count)];
        var n = (int)(k / parcels.Count);
        var first = Math.Max(0, n - MaxHistory + 1);
        if (k % 2 == 0)
        {
            var tr = (JsonObject)t.AfterShip.DeepClone();
            tr["tracking_number"] = parcel;
            tr["slug"] = "dhl";
            var (tag, subtag, _) = Stage(n);
            tr["tag"] = tag;
            tr["subtag"] = subtag;
            var cps = new JsonArray();
            for (var i = first; i <= n; i++)
            {
                var s = Stage(i);
                cps.Add(new JsonObject
                {
                    ["slug"] = "dhl", ["city"] = "Leipzig", ["created_at"] = Base.AddMinutes(i * 30 + 1).ToString("yyyy-MM-ddTHH:mm:sszzz"),
                    ["location"] = "Leipzig, DE", ["country_name"] = "Germany", ["message"] = $"Scan {i}: {s.Subtag}", ["country_iso3"] = "DEU",
                    ["tag"] = s.Tag, ["subtag"] = s.Subtag, ["subtag_message"] = s.Tag, ["checkpoint_time"] = Base.AddMinutes(i * 30).ToString("yyyy-MM-ddTHH:mm:sszzz"),
                    ["coordinates"] = new JsonArray(), ["state"] = null, ["zip"] = "04109", ["raw_tag"] = $"DHL_{i}",
                });
            }
            tr["checkpoints"] = cps;
            var body = Encoding.UTF8.GetBytes(new JsonObject { ["event"] = "tracking_update", ["event_id"] = Guid.NewGuid().ToString(), ["is_tracking_first_tag"] = n == 0, ["msg"] = tr }.ToJsonString());
            return (body, $"/api/v1/tracking/aftership/{slug}", "aftership-hmac-sha256", Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(AfterShipSecret), body)));
        }
        else
        {
            var tr = (JsonObject)t.EasyPost.DeepClone();
            tr["tracking_code"] = parcel;
            tr["carrier"] = "DHLExpress";
            tr["status"] = Stage(n).EasyPostStatus;
            var details = new JsonArray();
            for (var i = first; i <= n; i++)
                details.Add(new JsonObject
                {
                    ["object"] = "TrackingDetail", ["message"] = $"Scan {i}", ["description"] = "", ["status"] = Stage(i).EasyPostStatus, ["status_detail"] = "status_update",
                    ["datetime"] = Base.AddMinutes(i * 30).ToString("yyyy-MM-ddTHH:mm:ssZ"), ["source"] = "DHLExpress", ["carrier_code"] = $"DHL_{i}",
                    ["tracking_location"] = new JsonObject { ["object"] = "TrackingLocation", ["city"] = "LEIPZIG", ["state"] = null, ["country"] = "DE", ["zip"] = "04109" },
                });
            tr["tracking_details"] = details;
            var body = Encoding.UTF8.GetBytes(new JsonObject
            {
                ["object"] = "Event", ["id"] = "evt_" + Guid.NewGuid().ToString("N"), ["mode"] = "production", ["description"] = "tracker.updated", ["result"] = tr,
            }.ToJsonString());
            var key = Encoding.UTF8.GetBytes(EasyPostSecret.Normalize(NormalizationForm.FormKD));
            return (body, $"/api/v1/tracking/easypost/{slug}", "X-Hmac-Signature", "hmac-sha256-hex=" + Convert.ToHexStringLower(HMACSHA256.HashData(key, body)));
        }
    }

    /// <summary>The events (a) stores and the events (b) stores, as SQL conditions on tracking_events.</summary>
    public const string SingleEvents = "provider IN ('aftership', 'easypost')";
    public const string BatchedEvents = "provider = 'sandbox' AND event_key LIKE 'b%'";

    /// <summary>The merchant's tracking settings: the secrets the loads sign with, and a sandbox carrier serving Germany.</summary>
    public static async Task SetUpMerchantAsync(HttpClient api)
    {
        await Orchestrator.SendAsync(api, HttpMethod.Patch, "/api/v1/merchant", JsonSerializer.Serialize(new
        {
            aftership_secret = AfterShipSecret, easypost_secret = EasyPostSecret, sandbox_secret = BatchSecret,
        }));
        await Orchestrator.SendAsync(api, HttpMethod.Post, "/api/v1/carriers", """
            {"code":"sbx","name":"Sandbox Parcel","adapter":"sandbox","services":["drop_off","pickup"],"areas":[{"country":"DE"}],
             "rate_card":{"currency":"EUR","zones":[{"code":"de","areas":[{"country":"DE"}]}],"bands":[{"max_grams":30000,"prices":{"de":4.5}}]},
             "transit_days":2,"daily_capacity":1000000,"active":true}
            """);
    }

    /// <summary>
    /// Seeds <paramref name="count"/> orders and a drop-off return on each, then waits until the background work (the
    /// outbox: in process, or RabbitMQ and the workers) has booked every label with the sandbox carrier; the tracking numbers.
    /// </summary>
    public static async Task<List<string>> BookParcelsAsync(HttpClient api, Func<DbConnection> connect, string slug, int count)
    {
        await Orchestrator.SeedOrdersAsync(api, count);
        var started = DateTime.UtcNow;
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await Orchestrator.SendAsync(api, HttpMethod.Post, "/api/v1/returns",
                $$"""{"order_number":"B{{i}}","lines":[{"order_line_id":"L1","quantity":1,"reason":"too_small"}],"resolution":"refund","method":"drop_off"}"""));
        await using var conn = connect();
        await conn.OpenAsync();
        for (var waited = 0; ; waited++)
        {
            var booked = Convert.ToInt64(await Scalar(conn, "SELECT count(*) FROM shipments WHERE merchant_id = (SELECT id FROM merchants WHERE slug = @slug)", slug), CultureInfo.InvariantCulture);
            if (booked >= count) break;
            if (waited % 10 == 0) Console.WriteLine($"  {booked}/{count} parcels booked ({(DateTime.UtcNow - started).TotalSeconds:F0}s)");
            if (waited > 600) throw new TimeoutException("The sandbox did not book every parcel within 5 minutes.");
            await Task.Delay(500);
        }
        var parcels = new List<string>();
        await using var read = conn.CreateCommand();
        read.CommandText = "SELECT tracking_number FROM shipments WHERE merchant_id = (SELECT id FROM merchants WHERE slug = @slug) ORDER BY tracking_number";
        Parameter(read, "@slug", slug);
        await using var reader = await read.ExecuteReaderAsync();
        while (await reader.ReadAsync()) parcels.Add(reader.GetString(0));
        Console.WriteLine($"  {parcels.Count} parcels booked in {(DateTime.UtcNow - started).TotalSeconds:F0}s");
        return parcels;
    }

    /// <summary>(a)'s requests, one after another: the k-th signed webhook (see <see cref="Webhook"/>).</summary>
    public static Func<long, HttpRequestMessage> SignedWebhooks(Templates t, string slug, IReadOnlyList<string> parcels)
    {
        long sequence = -1;
        return _ =>
        {
            var (body, path, header, signature) = Webhook(t, slug, parcels, Interlocked.Increment(ref sequence));
            var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
            req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            req.Headers.Add(header, signature);
            return req;
        };
    }

    /// <summary>(b)'s requests, one after another: signed batches of <see cref="BatchEvents"/> new events.</summary>
    public static Func<long, HttpRequestMessage> SignedBatches(string slug, IReadOnlyList<string> parcels)
    {
        long sequence = -1;
        return _ =>
        {
            var body = BatchBody(BatchRows(parcels, Interlocked.Increment(ref sequence)));
            var req = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/tracking/sandbox/{slug}") { Content = new ByteArrayContent(body) };
            req.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            req.Headers.Add("X-Retour-Signature", BatchSignature(body));
            return req;
        };
    }

    /// <summary>The merchant's stored events matching <paramref name="where"/>, and the distinct ones (by parcel and event key).</summary>
    public static async Task<(long Stored, long Distinct)> CountStoredAsync(Func<DbConnection> connect, string slug, string where)
    {
        await using var conn = connect();
        await conn.OpenAsync();
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = $"SELECT count(*), count(DISTINCT shipment_id || '|' || event_key) FROM tracking_events WHERE merchant_id = (SELECT id FROM merchants WHERE slug = @slug) AND {where}";
        Parameter(cmd, "@slug", slug);
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return (Convert.ToInt64(r.GetValue(0), CultureInfo.InvariantCulture), Convert.ToInt64(r.GetValue(1), CultureInfo.InvariantCulture));
    }

    private static async Task<object?> Scalar(DbConnection conn, string sql, string slug)
    {
        await using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        Parameter(cmd, "@slug", slug);
        return await cmd.ExecuteScalarAsync();
    }

    private static void Parameter(DbCommand cmd, string name, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        cmd.Parameters.Add(p);
    }

    /// <summary>One event of batch b: parcel, id, code, time (the same rows go to Retour and to the raw INSERT).</summary>
    public readonly record struct Row(string Parcel, string Id, string Code, string Message, DateTimeOffset At, string Location);

    private static readonly string[] BatchCodes = ["HUB_IN", "HUB_OUT", "HUB_IN", "HUB_OUT", "HUB_IN", "HUB_OUT", "HUB_IN", "HUB_OUT", "OFD", "DLV"];

    public static Row[] BatchRows(IReadOnlyList<string> parcels, long b)
    {
        var rows = new Row[BatchEvents];
        var perParcel = BatchEvents / BatchParcels;
        for (var p = 0; p < BatchParcels; p++)
        {
            // Batches walk over the parcels, 50 at a time; a parcel's events in one batch are consecutive scans.
            var parcel = parcels[(int)((b * BatchParcels + p) % parcels.Count)];
            for (var j = 0; j < perParcel; j++)
            {
                var code = BatchCodes[j % BatchCodes.Length];
                rows[p * perParcel + j] = new Row(parcel, $"b{b}-{p}-{j}", code, $"Scan {code} ({b}/{j})", Base.AddHours(j).AddSeconds(b % 3600), "Leipzig hub");
            }
        }
        return rows;
    }

    public static byte[] BatchBody(Row[] rows) =>
        JsonSerializer.SerializeToUtf8Bytes(new
        {
            trackings = rows.GroupBy(r => r.Parcel).Select(g => new
            {
                tracking_number = g.Key, carrier = "sbx",
                events = g.Select(r => new { id = r.Id, code = r.Code, message = r.Message, occurred_at = r.At.ToString("O"), location = r.Location }),
            }),
        });

    public static string BatchSignature(byte[] body) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(BatchSecret), body));

    /// <summary>The raw limit of (b): C connections inserting the same rows, 500 per statement, ON CONFLICT DO NOTHING.</summary>
    public static async Task<LoadResult> RawBatchLimitAsync(string db, IReadOnlyList<string> parcels, int concurrency, TimeSpan warmup, TimeSpan duration)
    {
        await using (var c = new NpgsqlConnection(db))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                CREATE TABLE IF NOT EXISTS bench_events (id uuid PRIMARY KEY, parcel text NOT NULL, event_key text NOT NULL, code text NOT NULL,
                    message text, occurred_at timestamptz NOT NULL, location text, received_at timestamptz NOT NULL, UNIQUE (parcel, event_key))
                """, c);
            await cmd.ExecuteNonQueryAsync();
        }
        long sequence = -1;
        var window = new LoadWindow();
        var latencies = new List<double>[concurrency];
        var statuses = new Dictionary<int, long>[concurrency];
        var errors = new long[concurrency];
        await using var source = NpgsqlDataSource.Create(db);
        async Task Worker(int w)
        {
            latencies[w] = [];
            statuses[w] = [];
            while (!window.Stopped)
            {
                var rows = BatchRows(parcels, Interlocked.Increment(ref sequence));
                var started = Stopwatch.GetTimestamp();
                var status = 200;
                try
                {
                    await using var cmd = source.CreateCommand("""
                        INSERT INTO bench_events (id, parcel, event_key, code, message, occurred_at, location, received_at)
                        SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[], $8::timestamptz[])
                        ON CONFLICT DO NOTHING
                        """);
                    var now = DateTimeOffset.UtcNow;
                    cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(_ => Guid.CreateVersion7()).ToArray() });
                    cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Parcel).ToArray() });
                    cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Id).ToArray() });
                    cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Code).ToArray() });
                    cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Message).ToArray() });
                    cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.At).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
                    cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Location).ToArray() });
                    cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(_ => now).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
                    await cmd.ExecuteNonQueryAsync();
                }
                catch (Exception) { status = 0; }
                if (!window.Measuring) continue;
                latencies[w].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                statuses[w][status] = statuses[w].GetValueOrDefault(status) + 1;
                if (status != 200) errors[w]++;
            }
        }
        var seconds = await window.RunAsync(concurrency, Worker, warmup, duration);
        return LoadRunner.Summarise("limit: raw INSERT of 500", concurrency, seconds, latencies, statuses, errors);
    }
}
