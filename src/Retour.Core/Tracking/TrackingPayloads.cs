using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Retour.Core.Tracking;

/// <summary>One scan or status change as a provider reported it.</summary>
/// <param name="Id">Stable identity for de-duplication: the provider's own id, or a hash of what makes the event itself.</param>
/// <param name="Codes">The codes to look up, most specific first (the carrier's own code, the sub-status, the status).</param>
/// <param name="RawCode">Every code as received, joined by '|', kept with the event.</param>
public sealed record TrackingCheckpoint(string Id, IReadOnlyList<string> Codes, string RawCode, string? Message, DateTimeOffset OccurredAt, string? Location);

/// <summary>What one delivery says about one parcel.</summary>
public sealed record TrackingUpdate(string Provider, string TrackingNumber, string? Carrier, IReadOnlyList<TrackingCheckpoint> Checkpoints);

public sealed class TrackingPayloadException(string message) : Exception(message);

/// <summary>
/// Reads the tracking payloads of AfterShip (webhook <c>msg</c>, or the API's <c>data.tracking</c>), EasyPost (an Event whose
/// <c>result</c> is a Tracker, or a Tracker) and Shippo (<c>{"event":"track_updated","data":Track}</c>, or a Track), in the
/// shapes of ../shared/realdata/tracking, and Retour's sandbox carrier (batches of parcels with their events).
/// </summary>
public static class TrackingPayloads
{
    public static readonly IReadOnlyList<string> Providers = ["aftership", "easypost", "shippo", "sandbox"];
    public const int MaxCheckpoints = 1000;

    public static IReadOnlyList<TrackingUpdate> Parse(string provider, ReadOnlySpan<byte> body)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(body.ToArray(), new JsonDocumentOptions { MaxDepth = 32 }); }
        catch (JsonException e) { throw new TrackingPayloadException($"The body is not valid JSON: {e.Message}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new TrackingPayloadException("The body must be a JSON object.");
            return provider switch
            {
                "aftership" => [AfterShip(Obj(root, "msg") ?? Obj(Obj(root, "data"), "tracking") ?? root)],
                "easypost" => [EasyPost(Obj(root, "result") ?? root)],
                "shippo" => [Shippo(Obj(root, "data") ?? root)],
                "sandbox" => Sandbox(root),
                _ => throw new TrackingPayloadException($"Unknown provider '{provider}'. Use one of: {string.Join(", ", Providers)}."),
            };
        }
    }

    private static TrackingUpdate AfterShip(JsonElement t)
    {
        var number = Required(t, "tracking_number");
        var slug = Str(t, "slug");
        var list = new List<TrackingCheckpoint>();
        if (t.TryGetProperty("checkpoints", out var cps) && cps.ValueKind == JsonValueKind.Array)
            foreach (var cp in cps.EnumerateArray())
            {
                var at = Time(cp, "checkpoint_time") ?? Time(cp, "created_at") ?? throw new TrackingPayloadException("A checkpoint has no checkpoint_time.");
                var codes = Codes(Str(cp, "raw_tag"), Str(cp, "subtag"), Str(cp, "tag"));
                var message = Str(cp, "message");
                var location = Str(cp, "location") ?? Join(Str(cp, "city"), Str(cp, "state"), Str(cp, "country_name") ?? Str(cp, "country_iso3"));
                list.Add(Checkpoint(null, "aftership", number, codes, message, at, location, Str(cp, "slug") ?? slug));
            }
        // A tracking with no checkpoints yet still tells its tag.
        if (list.Count == 0 && Str(t, "tag") is { } tag)
            list.Add(Checkpoint(null, "aftership", number, Codes(Str(t, "subtag"), tag), Str(t, "subtag_message"), Time(t, "updated_at") ?? Time(t, "created_at") ?? DateTimeOffset.UnixEpoch, null, slug));
        return new TrackingUpdate("aftership", number, slug, Cap(list));
    }

    private static TrackingUpdate EasyPost(JsonElement t)
    {
        var number = Required(t, "tracking_code");
        var carrier = Str(t, "carrier")?.ToLowerInvariant();
        var list = new List<TrackingCheckpoint>();
        if (t.TryGetProperty("tracking_details", out var details) && details.ValueKind == JsonValueKind.Array)
            foreach (var d in details.EnumerateArray())
            {
                var at = Time(d, "datetime") ?? throw new TrackingPayloadException("A tracking detail has no datetime.");
                var loc = Obj(d, "tracking_location");
                var location = loc is { } l ? Join(Str(l, "city"), Str(l, "state"), Str(l, "zip"), Str(l, "country")) : null;
                list.Add(Checkpoint(null, "easypost", number, Codes(Str(d, "carrier_code"), Str(d, "status_detail"), Str(d, "status")), Str(d, "message"), at, location, carrier));
            }
        if (list.Count == 0 && Str(t, "status") is { } status)
            list.Add(Checkpoint(null, "easypost", number, Codes(Str(t, "status_detail"), status), null, Time(t, "updated_at") ?? Time(t, "created_at") ?? DateTimeOffset.UnixEpoch, null, carrier));
        return new TrackingUpdate("easypost", number, carrier, Cap(list));
    }

    private static TrackingUpdate Shippo(JsonElement t)
    {
        var number = Required(t, "tracking_number");
        var carrier = Str(t, "carrier")?.ToLowerInvariant();
        var list = new List<TrackingCheckpoint>();
        var seen = new HashSet<string>();
        void Add(JsonElement s)
        {
            var id = Str(s, "object_id");
            if (id is not null && !seen.Add(id)) return;
            var at = Time(s, "status_date") ?? Time(s, "object_created") ?? throw new TrackingPayloadException("A tracking status has no status_date.");
            var sub = Obj(s, "substatus");
            var loc = Obj(s, "location");
            var location = loc is { } l ? Join(Str(l, "city"), Str(l, "state"), Str(l, "zip"), Str(l, "country")) : null;
            list.Add(Checkpoint(id, "shippo", number, Codes(sub is { } x ? Str(x, "code") : null, Str(s, "status")), Str(s, "status_details"), at, location, carrier));
        }
        if (t.TryGetProperty("tracking_history", out var history) && history.ValueKind == JsonValueKind.Array)
            foreach (var h in history.EnumerateArray()) if (h.ValueKind == JsonValueKind.Object) Add(h);
        if (Obj(t, "tracking_status") is { } current) Add(current);
        return new TrackingUpdate("shippo", number, carrier, Cap(list));
    }

    /// <summary>The sandbox carrier's batch: {"trackings":[{"tracking_number","carrier","events":[{"id","code","message","occurred_at","location"}]}]}.</summary>
    private static IReadOnlyList<TrackingUpdate> Sandbox(JsonElement root)
    {
        if (!root.TryGetProperty("trackings", out var ts) || ts.ValueKind != JsonValueKind.Array)
            throw new TrackingPayloadException("The body must have a 'trackings' array.");
        var updates = new List<TrackingUpdate>();
        foreach (var t in ts.EnumerateArray())
        {
            if (t.ValueKind != JsonValueKind.Object) throw new TrackingPayloadException("Each tracking must be an object.");
            var number = Required(t, "tracking_number");
            var carrier = Str(t, "carrier")?.ToLowerInvariant();
            var list = new List<TrackingCheckpoint>();
            if (t.TryGetProperty("events", out var evs) && evs.ValueKind == JsonValueKind.Array)
                foreach (var e in evs.EnumerateArray())
                {
                    var at = Time(e, "occurred_at") ?? throw new TrackingPayloadException("An event has no occurred_at.");
                    var code = Str(e, "code") ?? throw new TrackingPayloadException("An event has no code.");
                    list.Add(Checkpoint(Str(e, "id"), "sandbox", number, [code], Str(e, "message"), at, Str(e, "location"), carrier));
                }
            updates.Add(new TrackingUpdate("sandbox", number, carrier, Cap(list)));
        }
        return updates;
    }

    private static TrackingCheckpoint Checkpoint(string? id, string provider, string number, IReadOnlyList<string> codes, string? message, DateTimeOffset at, string? location, string? carrier)
    {
        var raw = string.Join('|', codes);
        id ??= Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{provider}\n{number}\n{at.UtcDateTime:O}\n{raw}\n{message}")))[..32];
        return new TrackingCheckpoint(Truncate(id, 64)!, codes, Truncate(raw, 200)!, Truncate(message, 1000), at, Truncate(location, 200));
    }

    private static IReadOnlyList<TrackingCheckpoint> Cap(List<TrackingCheckpoint> list) =>
        list.Count <= MaxCheckpoints ? list : throw new TrackingPayloadException($"At most {MaxCheckpoints} events per parcel in one delivery.");

    private static string[] Codes(params string?[] codes) => [.. codes.Where(c => !string.IsNullOrWhiteSpace(c)).Select(c => c!.Trim()).Distinct()];

    private static JsonElement? Obj(JsonElement? e, string name) =>
        e is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v : null;

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;

    private static string Required(JsonElement e, string name) =>
        Str(e, name) is { } s ? Truncate(s.Trim(), 64)! : throw new TrackingPayloadException($"The tracking has no '{name}'.");

    /// <summary>In UTC: carriers report local times with their offset (the instant is kept, the offset is not).</summary>
    private static DateTimeOffset? Time(JsonElement e, string name) =>
        Str(e, name) is { } s && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t.ToUniversalTime() : null;

    private static string? Join(params string?[] parts)
    {
        var s = string.Join(", ", parts.Where(p => !string.IsNullOrWhiteSpace(p)));
        return s.Length == 0 ? null : s;
    }

    private static string? Truncate(string? s, int max) => s is null || s.Length <= max ? s : s[..max];
}
