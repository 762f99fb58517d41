using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Retour.Core;
using Retour.Core.Logistics;
using Retour.Infrastructure.Http;

namespace Retour.Features.Carriers;

public sealed record AreaInput(string? Country, IReadOnlyList<string>? PostalCodes = null);
public sealed record ZoneInput(string? Code, IReadOnlyList<AreaInput>? Areas);
public sealed record BandInput(int? MaxGrams, IReadOnlyDictionary<string, decimal>? Prices);
public sealed record RateCardInput(string? Currency, IReadOnlyList<ZoneInput>? Zones, IReadOnlyList<BandInput>? Bands);

/// <summary>
/// A carrier as the API takes and gives it (POST and PUT bodies, GET answers): a GET answer can be edited and sent back.
/// created_at and updated_at are ignored on input.
/// </summary>
public sealed record CarrierInput(
    string? Code = null, string? Name = null, string? Adapter = null, IReadOnlyList<string>? Services = null, IReadOnlyList<AreaInput>? Areas = null,
    RateCardInput? RateCard = null, int? TransitDays = null, int? DailyCapacity = null, string? PickupCutoff = null,
    JsonElement? AdapterOptions = null, bool? Active = null, DateTimeOffset? CreatedAt = null, DateTimeOffset? UpdatedAt = null);

/// <summary>A carrier of the registry, with what it has booked today.</summary>
public sealed record CarrierDto(
    string Code, string Name, string Adapter, IReadOnlyList<string> Services, IReadOnlyList<AreaInput> Areas, RateCardInput? RateCard,
    int TransitDays, int? DailyCapacity, string? PickupCutoff, JsonElement? AdapterOptions, bool Active, DateTimeOffset CreatedAt, DateTimeOffset? UpdatedAt)
{
    public static CarrierDto From(Carrier c) => new(c.Code, c.Name, c.Adapter,
        c.Services.Split(',', StringSplitOptions.RemoveEmptyEntries), [.. ServiceArea.ParseList(c.Areas, "areas", []).Select(CarrierRegistry.ToInput)],
        c.RateCardJson is null ? null : Json.Deserialize<RateCardInput>(c.RateCardJson), c.TransitDays, c.DailyCapacity, c.PickupCutoff,
        c.AdapterOptions, c.Active, c.CreatedAt, c.UpdatedAt);
}

/// <summary>Checks carrier input (from the API or a CSV row) and turns it into the stored form.</summary>
public static partial class CarrierRegistry
{
    /// <summary>Words a carrier code cannot be: they are routes under /carriers.</summary>
    public static readonly string[] Reserved = ["scorecard", "allocation", "import"];

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,31}$")]
    private static partial Regex CodePattern();

    public static AreaInput ToInput(ServiceArea a) => new(a.Country, a.PostalCodes.Count == 0 ? null : [.. a.PostalCodes.Select(p => p.ToString())]);

    public static RateCard ToRateCard(RateCardInput input, List<FieldError> errors, string field = "rate_card")
    {
        var zones = (input.Zones ?? []).Select((z, i) => new RateZone(z.Code?.Trim() ?? "",
            [.. (z.Areas ?? []).Select((a, j) => ServiceArea.Build(a.Country, a.PostalCodes, $"{field}.zones[{i}].areas[{j}]", errors)).OfType<ServiceArea>()])).ToList();
        var bands = (input.Bands ?? []).Select((b, i) =>
        {
            if (b.MaxGrams is null) errors.Add(new($"{field}.bands[{i}].max_grams", "Each band needs max_grams."));
            return new WeightBand(b.MaxGrams ?? 0, b.Prices ?? new Dictionary<string, decimal>());
        }).ToList();
        var card = new RateCard(input.Currency?.Trim() ?? "", zones, bands);
        errors.AddRange(card.Validate(field));
        return card;
    }

    public static RateCardInput Normalized(RateCard card) => new(card.Currency,
        [.. card.Zones.Select(z => new ZoneInput(z.Code, [.. z.Areas.Select(ToInput)]))],
        [.. card.Bands.OrderBy(b => b.MaxGrams).Select(b => new BandInput(b.MaxGrams,
            b.Prices.ToDictionary(p => p.Key, p => p.Value / 1.000000000000000000000000000000000m)))]); // 8.50 is stored as 8.5

    /// <summary>Validates the input and writes it onto <paramref name="target"/> (a new or an existing carrier). Nothing is written when there are errors.</summary>
    public static IReadOnlyList<FieldError> Apply(CarrierInput input, Carrier target, CarrierAdapters adapters, DateTimeOffset now)
    {
        var errors = new List<FieldError>();
        var code = input.Code?.Trim() ?? "";
        if (!CodePattern().IsMatch(code)) errors.Add(new("code", "Use 1 to 32 lower-case letters, digits, '-' or '_', starting with a letter or digit, for example dhl."));
        else if (Reserved.Contains(code)) errors.Add(new("code", $"'{code}' is reserved; choose another code."));
        var name = input.Name?.Trim() ?? "";
        if (name.Length is 0 or > 100) errors.Add(new("name", "Give the carrier a name of 1 to 100 characters."));
        var adapterName = input.Adapter?.Trim() ?? "sandbox";
        var adapter = adapters.Find(adapterName);
        if (adapter is null) errors.Add(new("adapter", $"There is no adapter '{adapterName}'. This installation has: {string.Join(", ", adapters.Names.Order())}."));
        else errors.AddRange(adapter.CheckOptions(input.AdapterOptions));
        var services = (input.Services ?? []).Select(s => s.Trim()).Distinct().ToList();
        if (services.Count == 0) errors.Add(new("services", "Name at least one service: pickup, drop_off or box_free."));
        foreach (var s in services.Where(s => !CarrierProfile.AllServices.Contains(s)))
            errors.Add(new("services", $"'{s}' is not a service. Use pickup, drop_off or box_free."));
        if (services.Contains("box_free") && !services.Contains("drop_off")) errors.Add(new("services", "box_free is a kind of drop-off: offer drop_off too."));
        var areas = (input.Areas ?? []).Select((a, i) => ServiceArea.Build(a.Country, a.PostalCodes, $"areas[{i}]", errors)).OfType<ServiceArea>().ToList();
        if (areas.Count > 500) errors.Add(new("areas", "At most 500 areas."));
        RateCard? card = input.RateCard is null ? null : ToRateCard(input.RateCard, errors);
        var transit = input.TransitDays ?? 3;
        if (transit is < 1 or > 60) errors.Add(new("transit_days", "Promise 1 to 60 transit days."));
        if (input.DailyCapacity is < 0 or > 10_000_000) errors.Add(new("daily_capacity", "Use a number of parcels from 0 up, or leave it out for no limit."));
        string? cutoff = null;
        if (!string.IsNullOrWhiteSpace(input.PickupCutoff))
        {
            if (TimeOnly.TryParseExact(input.PickupCutoff.Trim(), "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var t)) cutoff = t.ToString("HH:mm", CultureInfo.InvariantCulture);
            else errors.Add(new("pickup_cutoff", "Write the cut-off as HH:mm in the shop's time zone, for example 16:00."));
        }
        if (errors.Count > 0) return errors;

        target.Code = code;
        target.Name = name;
        target.Adapter = adapterName;
        target.Services = string.Join(',', CarrierProfile.AllServices.Where(services.Contains));
        target.Areas = ServiceArea.Format(areas);
        target.RateCardJson = card is null ? null : Json.Serialize(Normalized(card));
        target.TransitDays = transit;
        target.DailyCapacity = input.DailyCapacity;
        target.PickupCutoff = cutoff;
        target.AdapterOptionsJson = input.AdapterOptions is { ValueKind: JsonValueKind.Object } o ? o.GetRawText() : null;
        target.Active = input.Active ?? true;
        target.UpdatedAt = now;
        return errors;
    }

    public static readonly string[] CsvColumns =
        ["code", "name", "adapter", "services", "areas", "transit_days", "daily_capacity", "pickup_cutoff", "active", "currency", "zones", "rates", "adapter_options"];

    /// <summary>
    /// One CSV row as carrier input. Lists use the compact forms of the README: services "pickup,drop_off"; areas
    /// "DE:10000..19999,8*;AT"; zones "domestic=DE|eu=AT;NL"; rates "2000:domestic=4.90,eu=8.50|10000:domestic=6.90";
    /// adapter_options "pickup_success_rate=0.8;book_failure_rate=0".
    /// </summary>
    public static CarrierInput FromCsv(IReadOnlyDictionary<string, string> f, List<FieldError> errors)
    {
        string? Get(string k) => f.TryGetValue(k, out var v) && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        int? Int(string k)
        {
            if (Get(k) is not { } v) return null;
            if (int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) return n;
            errors.Add(new(k, $"'{v}' is not a whole number.")); return null;
        }
        bool? active = Get("active")?.ToLowerInvariant() switch
        {
            null => null, "true" or "yes" or "1" => true, "false" or "no" or "0" => false,
            var v => Fail(v),
        };
        bool? Fail(string v) { errors.Add(new("active", $"'{v}' is not true or false.")); return null; }

        RateCardInput? card = null;
        if (Get("zones") is not null || Get("rates") is not null || Get("currency") is not null)
        {
            var zones = RateCard.ParseZones(Get("zones"), "zones", errors);
            var bands = RateCard.ParseBands(Get("rates"), "rates", errors);
            card = new RateCardInput(Get("currency"), [.. zones.Select(z => new ZoneInput(z.Code, [.. z.Areas.Select(ToInput)]))],
                [.. bands.Select(b => new BandInput(b.MaxGrams, b.Prices))]);
        }
        JsonElement? options = null;
        if (Get("adapter_options") is { } opts)
        {
            var obj = new JsonObject();
            foreach (var pair in opts.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var eq = pair.IndexOf('=');
                if (eq <= 0) { errors.Add(new("adapter_options", $"'{pair}': write an option as name=value.")); continue; }
                var value = pair[(eq + 1)..].Trim();
                obj[pair[..eq].Trim()] = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? JsonValue.Create(d) : JsonValue.Create(value);
            }
            options = JsonSerializer.SerializeToElement(obj);
        }
        return new CarrierInput(Get("code"), Get("name"), Get("adapter"),
            Get("services")?.Split([',', ' ', '|'], StringSplitOptions.RemoveEmptyEntries),
            [.. ServiceArea.ParseList(Get("areas"), "areas", errors).Select(ToInput)],
            card, Int("transit_days"), Int("daily_capacity"), Get("pickup_cutoff"), options, active);
    }
}
