using System.Security.Cryptography;
using System.Text;
using Retour.Core.Addresses;

namespace Retour.Core.Logistics;

/// <summary>How much each part of the score counts. They need not add up to 1: the score divides by their sum.</summary>
public sealed record AllocationWeights(decimal Cost = 0.4m, decimal Speed = 0.3m, decimal Performance = 0.3m)
{
    public decimal Sum => Cost + Speed + Performance;
}

/// <summary>
/// A merchant rule. <c>pin</c> prefers <see cref="Carrier"/>, <c>exclude</c> removes it, <c>split</c> shares the matching returns
/// between carriers by <see cref="Shares"/> (percentages). A rule matches when every condition it sets matches: the country and
/// postal codes of the shopper's address, a category of a returned item, the service.
/// </summary>
public sealed record AllocationRule
{
    public required string Type { get; init; }
    public string? Country { get; init; }
    public IReadOnlyList<string>? PostalCodes { get; init; }
    public string? Category { get; init; }
    public string? Service { get; init; }
    public string? Carrier { get; init; }
    public IReadOnlyDictionary<string, int>? Shares { get; init; }

    public const string Pin = "pin", Exclude = "exclude", Split = "split";

    public bool Matches(AllocationRequest r)
    {
        if (Country is not null && !string.Equals(Country, r.Origin?.Country, StringComparison.OrdinalIgnoreCase)) return false;
        if (PostalCodes is { Count: > 0 })
        {
            var code = PostalPattern.Normalize(r.Origin?.PostalCode);
            if (!PostalCodes.Select(p => PostalPattern.Parse(p, out _)).Any(p => p is not null && p.Matches(code))) return false;
        }
        if (Category is not null && !r.Categories.Contains(Category, StringComparer.OrdinalIgnoreCase)) return false;
        return Service is null || Service == r.Service;
    }

    public string Describe()
    {
        var where = new List<string>();
        if (Country is not null) where.Add(Country);
        if (PostalCodes is { Count: > 0 }) where.Add("postal " + string.Join(",", PostalCodes));
        if (Category is not null) where.Add("category " + Category);
        if (Service is not null) where.Add(Service);
        var scope = where.Count == 0 ? "all returns" : string.Join(", ", where);
        return Type switch
        {
            Split => $"split {string.Join("/", (Shares ?? new Dictionary<string, int>()).Select(s => $"{s.Key} {s.Value}%"))} for {scope}",
            _ => $"{Type} {Carrier} for {scope}",
        };
    }
}

public sealed record AllocationSettings
{
    public AllocationWeights Weights { get; init; } = new();
    public IReadOnlyList<AllocationRule> Rules { get; init; } = [];
    /// <summary>The weight of a unit whose order line does not say, for rate cards.</summary>
    public int DefaultUnitGrams { get; init; } = 1000;

    public static AllocationSettings Default { get; } = new();

    public IReadOnlyList<FieldError> Validate(ICollection<string> carrierCodes)
    {
        var errors = new List<FieldError>();
        if (Weights.Cost < 0 || Weights.Speed < 0 || Weights.Performance < 0) errors.Add(new("weights", "Weights cannot be negative."));
        else if (Weights.Sum <= 0) errors.Add(new("weights", "At least one weight must be above zero."));
        else if (Weights.Cost > 100 || Weights.Speed > 100 || Weights.Performance > 100) errors.Add(new("weights", "Use weights from 0 to 100."));
        if (DefaultUnitGrams is < 1 or > 100_000) errors.Add(new("default_unit_grams", "Use a weight from 1 to 100000 grams."));
        if (Rules.Count > 200) errors.Add(new("rules", "At most 200 rules."));
        for (var i = 0; i < Rules.Count; i++)
        {
            var r = Rules[i];
            var f = $"rules[{i}]";
            if (r.Type is not (AllocationRule.Pin or AllocationRule.Exclude or AllocationRule.Split))
            { errors.Add(new($"{f}.type", "Use pin, exclude or split.")); continue; }
            if (r.Country is not null && (r.Country.Length != 2 || !r.Country.All(char.IsAsciiLetterUpper)))
                errors.Add(new($"{f}.country", "Use a two-letter ISO country code in capitals, for example DE."));
            foreach (var p in r.PostalCodes ?? [])
                if (PostalPattern.Parse(p, out var error) is null) errors.Add(new($"{f}.postal_codes", error!));
            if (r.Service is not null && !CarrierProfile.AllServices.Contains(r.Service)) errors.Add(new($"{f}.service", "Use pickup, drop_off or box_free."));
            if (r.Type == AllocationRule.Split)
            {
                if (r.Carrier is not null) errors.Add(new($"{f}.carrier", "A split names its carriers in shares."));
                if (r.Shares is not { Count: >= 2 }) errors.Add(new($"{f}.shares", "A split needs at least two carriers, for example {\"dhl\": 70, \"ups\": 30}."));
                else
                {
                    foreach (var (code, share) in r.Shares)
                    {
                        if (!carrierCodes.Contains(code)) errors.Add(new($"{f}.shares.{code}", $"There is no carrier '{code}'."));
                        if (share is < 1 or > 100) errors.Add(new($"{f}.shares.{code}", "A share is a percentage from 1 to 100."));
                    }
                    if (r.Shares.Values.Sum() != 100) errors.Add(new($"{f}.shares", $"The shares add up to {r.Shares.Values.Sum()}, not 100."));
                }
            }
            else if (r.Carrier is null) errors.Add(new($"{f}.carrier", $"A {r.Type} rule names a carrier."));
            else if (!carrierCodes.Contains(r.Carrier)) errors.Add(new($"{f}.carrier", $"There is no carrier '{r.Carrier}'."));
        }
        return errors;
    }
}

/// <summary>A carrier's record over the last 30 days, from Retour's own tracking data.</summary>
public sealed record CarrierPerformance(int PickupsAttempted, int PickupsSucceeded, int Delivered, int OnTime, int Moved, int Damaged)
{
    public static CarrierPerformance None { get; } = new(0, 0, 0, 0, 0, 0);

    /// <summary>What a carrier without history is assumed to do, worth <see cref="PriorWeight"/> observations.</summary>
    public const decimal PriorPickup = 0.90m, PriorOnTime = 0.85m, PriorDamage = 0.02m;
    public const int PriorWeight = 10;

    public decimal PickupRate => Smooth(PickupsSucceeded, PickupsAttempted, PriorPickup);
    public decimal OnTimeRate => Smooth(OnTime, Delivered, PriorOnTime);
    public decimal DamageRate => Smooth(Damaged, Moved, PriorDamage);

    /// <summary>0..1: pickup success (for pickups), on-time rate and the absence of damage (a 20 % damage rate scores 0).</summary>
    public decimal Score(string service)
    {
        var safe = 1 - Math.Min(1m, DamageRate * 5);
        return Math.Round(service == "pickup" ? 0.4m * PickupRate + 0.4m * OnTimeRate + 0.2m * safe : (2 * OnTimeRate + safe) / 3, 4);
    }

    private static decimal Smooth(int hits, int n, decimal prior) => (hits + PriorWeight * prior) / (n + PriorWeight);
}

/// <summary>One return to allocate. <see cref="Key"/> (the return's id) makes splits deterministic per return.</summary>
public sealed record AllocationRequest(
    string Key, string Service, PostalAddress? Origin, string? DestinationCountry, int Grams, IReadOnlyList<string> Categories,
    DateOnly? PickupDate, DateTime LocalNow, string Currency, string? Requested = null);

public sealed record CandidateScore(
    string Carrier, decimal Score, decimal CostScore, decimal SpeedScore, decimal PerformanceScore,
    decimal? Cost, string? Currency, int TransitDays, DateOnly? PickupDate, string? Note);

public sealed record Exclusion(string Carrier, string Reason);

/// <summary>A booking try: the carrier, and the error when it failed.</summary>
public sealed record BookingAttempt(string Carrier, bool Succeeded, string? Error, DateTimeOffset At);

/// <summary>
/// The decision, stored with the shipment: the candidates in the order they are tried (the first is the choice), their
/// scores, each excluded carrier with its reason, the rule that decided (if any), and the booking attempts (fallbacks).
/// </summary>
public sealed record AllocationDecision(
    string? Chosen, IReadOnlyList<CandidateScore> Candidates, IReadOnlyList<Exclusion> Excluded, string? Rule, string Explanation,
    AllocationWeights Weights, IReadOnlyList<BookingAttempt> Attempts)
{
    public AllocationDecision WithAttempt(BookingAttempt attempt) => this with { Attempts = [.. Attempts, attempt] };
}

/// <summary>
/// Picks the carrier for a return: filters the registry by service, area, destination, capacity left today and the active flag,
/// scores the rest by cost, speed and measured performance with the merchant's weights, then applies the merchant's rules and
/// the shopper's choice. Pure and deterministic: the same inputs give the same decision.
/// </summary>
public static class CarrierAllocator
{
    public static AllocationDecision Allocate(
        AllocationRequest request, IReadOnlyList<CarrierProfile> carriers, AllocationSettings settings,
        IReadOnlyDictionary<string, int> bookedToday, IReadOnlyDictionary<string, CarrierPerformance> performance)
    {
        var excluded = new List<Exclusion>();
        var feasible = new List<(CarrierProfile Carrier, decimal? Cost, string? Currency, int Days, DateOnly? Pickup, string? Note)>();
        var matching = settings.Rules.Select((r, i) => (Rule: r, Index: i + 1)).Where(x => x.Rule.Matches(request)).ToList();

        foreach (var c in carriers.OrderBy(c => c.Code, StringComparer.Ordinal))
        {
            var reason = Filter(c, request, bookedToday);
            if (reason is null && matching.FirstOrDefault(m => m.Rule.Type == AllocationRule.Exclude && m.Rule.Carrier == c.Code) is { Rule: not null } ex)
                reason = $"excluded by rule {ex.Index} ({ex.Rule.Describe()})";
            decimal? cost = null;
            string? currency = null, note = null;
            if (reason is null && c.Rates is { } rates)
            {
                var (price, why) = rates.Quote(request.Origin?.Country, request.Origin?.PostalCode, request.Grams);
                if (price is null) reason = why;
                else (cost, currency) = (price, rates.Currency);
            }
            if (reason is not null) { excluded.Add(new Exclusion(c.Code, reason)); continue; }

            DateOnly? pickup = null;
            var days = Math.Max(1, c.TransitDays);
            if (request.Service == "pickup")
            {
                var earliest = c.FirstPickupDay(request.LocalNow);
                pickup = request.PickupDate is { } wanted && wanted >= earliest ? wanted : earliest;
                if (request.PickupDate is { } day && pickup != day)
                {
                    note = $"past its {c.PickupCutoff:HH\\:mm} cut-off: collects on {pickup:yyyy-MM-dd} instead of {day:yyyy-MM-dd}";
                    days += pickup.Value.DayNumber - day.DayNumber;
                }
            }
            if (c.Rates is null) note = Join(note, "no rate card: cost scored as average");
            else if (currency != request.Currency) note = Join(note, $"priced in {currency}, not comparable with {request.Currency}: cost scored as average");
            feasible.Add((c, cost, currency, days, pickup, note));
        }

        var comparable = feasible.Where(f => f.Cost is not null && f.Currency == request.Currency).Select(f => f.Cost!.Value).ToList();
        var minCost = comparable.Count > 0 ? comparable.Min() : 0;
        var minDays = feasible.Count > 0 ? feasible.Min(f => f.Days) : 1;
        var w = settings.Weights;
        var scored = feasible.Select(f =>
        {
            var costScore = f.Cost is { } cost && f.Currency == request.Currency ? (cost == 0 ? 1 : Math.Round(minCost / cost, 4)) : 0.5m;
            var speedScore = Math.Round((decimal)minDays / f.Days, 4);
            var perf = performance.GetValueOrDefault(f.Carrier.Code, CarrierPerformance.None).Score(request.Service);
            var score = Math.Round((w.Cost * costScore + w.Speed * speedScore + w.Performance * perf) / w.Sum, 4);
            return new CandidateScore(f.Carrier.Code, score, costScore, speedScore, perf, f.Cost, f.Currency, f.Days, f.Pickup, f.Note);
        }).OrderByDescending(s => s.Score).ThenBy(s => s.Carrier, StringComparer.Ordinal).ToList();

        string? rule = null;
        string explanation;
        if (scored.Count == 0)
        {
            explanation = carriers.Count == 0 ? "The merchant has no carriers." : $"No carrier can take this {request.Service.Replace('_', '-')} return: every carrier was excluded.";
            return new AllocationDecision(null, scored, excluded, null, explanation, w, []);
        }

        CandidateScore? first = null;
        var notes = new List<string>();
        if (request.Requested is { } asked)
        {
            first = scored.FirstOrDefault(s => s.Carrier == asked);
            if (first is not null) { rule = "shopper"; explanation = $"{asked} was chosen by the shopper"; }
            else notes.Add($"the shopper's choice {asked} is not available ({excluded.FirstOrDefault(e => e.Carrier == asked)?.Reason ?? "not in the registry"})");
        }
        if (first is null && matching.FirstOrDefault(m => m.Rule.Type == AllocationRule.Pin) is { Rule: not null } pin)
        {
            first = scored.FirstOrDefault(s => s.Carrier == pin.Rule.Carrier);
            if (first is not null) rule = $"rule {pin.Index}: {pin.Rule.Describe()}";
            else notes.Add($"rule {pin.Index} pins {pin.Rule.Carrier}, which is not available ({excluded.FirstOrDefault(e => e.Carrier == pin.Rule.Carrier)?.Reason ?? "not in the registry"})");
        }
        if (first is null && matching.FirstOrDefault(m => m.Rule.Type == AllocationRule.Split) is { Rule.Shares: not null } split)
        {
            var shares = split.Rule.Shares!.Where(s => scored.Any(c => c.Carrier == s.Key)).OrderBy(s => s.Key, StringComparer.Ordinal).ToList();
            if (shares.Count > 0)
            {
                var total = shares.Sum(s => s.Value);
                var bucket = Bucket(request.Key) % total;
                var carrier = shares[0].Key;
                for (int i = 0, acc = 0; i < shares.Count; i++)
                {
                    acc += shares[i].Value;
                    if (bucket < acc) { carrier = shares[i].Key; break; }
                }
                first = scored.First(s => s.Carrier == carrier);
                rule = $"rule {split.Index}: {split.Rule.Describe()}";
            }
            else notes.Add($"rule {split.Index} splits between carriers that are all unavailable");
        }
        first ??= scored[0];
        explanation = rule switch
        {
            null => $"{first.Carrier} has the best score, {first.Score:0.####} (cost {first.CostScore:0.##}, speed {first.SpeedScore:0.##}, performance {first.PerformanceScore:0.##}), of {scored.Count} candidate{(scored.Count == 1 ? "" : "s")}",
            "shopper" => $"{first.Carrier} was chosen by the shopper",
            _ => $"{first.Carrier} by {rule}",
        };
        if (notes.Count > 0) explanation += "; " + string.Join("; ", notes);
        if (excluded.Count > 0) explanation += "; excluded: " + string.Join("; ", excluded.Select(e => $"{e.Carrier} ({e.Reason})"));
        explanation += ".";
        var ordered = new List<CandidateScore> { first };
        ordered.AddRange(scored.Where(s => s != first));
        return new AllocationDecision(first.Carrier, ordered, excluded, rule, explanation, w, []);
    }

    /// <summary>Why a carrier cannot take the return at all, or null.</summary>
    private static string? Filter(CarrierProfile c, AllocationRequest r, IReadOnlyDictionary<string, int> bookedToday)
    {
        if (!c.Active) return "inactive";
        if (!c.Offers(r.Service)) return $"does not offer {r.Service.Replace('_', '-')}";
        if (!c.Serves(r.Origin?.Country, r.Origin?.PostalCode)) return $"does not serve {r.Origin?.Country} {r.Origin?.PostalCode}".TrimEnd();
        if (!c.Reaches(r.DestinationCountry)) return $"does not deliver to the warehouse's country {r.DestinationCountry}";
        if (c.DailyCapacity is { } cap && bookedToday.GetValueOrDefault(c.Code) >= cap) return $"its daily capacity of {cap} is used up today";
        return null;
    }

    /// <summary>0..9999 from the key, the same on every machine and run (unlike string.GetHashCode).</summary>
    public static int Bucket(string key) =>
        (int)(BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 0) % 10000);

    private static string Join(string? a, string b) => a is null ? b : $"{a}; {b}";
}
