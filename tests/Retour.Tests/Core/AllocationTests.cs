using System.Text.Json;
using Retour.Core;
using Retour.Core.Addresses;
using Retour.Core.Logistics;
using Xunit;

namespace Retour.Tests.Core;

/// <summary>The carrier registry's parts (postal areas, rate cards) and allocation: filters, scores, rules, determinism.</summary>
public sealed class AllocationTests
{
    private static readonly PostalAddress Berlin = new("Sam", "Hauptstr. 1", null, "Berlin", null, "10115", "DE");
    private static readonly PostalAddress Munich = new("Sam", "Marienplatz 1", null, "München", null, "80331", "DE");
    private static readonly DateTime Morning = new(2026, 11, 23, 9, 0, 0); // a Monday

    private static RateCard Card(string currency, decimal domestic, int maxGrams = 5000) =>
        new(currency, [new RateZone("de", [new ServiceArea("DE", [])])], [new WeightBand(maxGrams, new Dictionary<string, decimal> { ["de"] = domestic })]);

    private static CarrierProfile Carrier(string code, decimal? price = null, int days = 3, string services = "pickup,drop_off",
        string areas = "DE;AT", int? capacity = null, TimeOnly? cutoff = null, bool active = true, string currency = "EUR") =>
        new(code, code.ToUpperInvariant(), "sandbox", services.Split(','), ServiceArea.ParseList(areas, "areas", []),
            price is { } p ? Card(currency, p) : null, days, capacity, cutoff, active);

    private static AllocationRequest Request(string key = "r1", string service = "pickup", PostalAddress? from = null, int grams = 1000,
        string[]? categories = null, DateOnly? pickup = null, string? requested = null) =>
        new(key, service, from ?? Berlin, "DE", grams, categories ?? ["apparel"], pickup, Morning, "EUR", requested);

    private static readonly Dictionary<string, int> NoneBooked = [];
    private static readonly Dictionary<string, CarrierPerformance> NoHistory = [];

    [Fact]
    public void PostalPatterns_MatchPrefixesAndRanges_IgnoringSpacesAndHyphens_AndRefuseNonsense()
    {
        var areas = ServiceArea.ParseList("DE:10000..14999,8*;GB:SW1*;PL:00-9..01-0;AT", "areas", []);
        Assert.Equal("DE:10000..14999,8*;GB:SW1*;PL:009..010;AT", ServiceArea.Format(areas));
        Assert.True(areas[0].Matches("DE", "10115"));
        Assert.True(areas[0].Matches("de", "80331"));
        Assert.False(areas[0].Matches("DE", "20095"));
        Assert.False(areas[0].Matches("DE", null));
        Assert.True(areas[1].Matches("GB", "SW1A 1AA"));
        Assert.False(areas[1].Matches("GB", "SW2 1AA"));
        Assert.True(areas[2].Matches("PL", "00-950"));
        Assert.True(areas[3].Matches("AT", "1010"));
        Assert.False(areas[3].Matches("DE", "1010"));

        var errors = new List<FieldError>();
        ServiceArea.ParseList("DEU;DE:2..10;DE:9..1;DE:1!", "areas", errors);
        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.Message.Contains("two-letter ISO"));
        Assert.Contains(errors, e => e.Message.Contains("same length"));
        Assert.Contains(errors, e => e.Message.Contains("starts after it ends"));
    }

    [Fact]
    public void RateCards_QuoteByZoneAndBand_ParseTheCompactForm_AndValidate()
    {
        var errors = new List<FieldError>();
        var zones = RateCard.ParseZones("de=DE|near=AT;NL;FR:75*", "zones", errors);
        var bands = RateCard.ParseBands("2000:de=4.90,near=8.50|10000:de=6.90,near=11", "rates", errors);
        Assert.Empty(errors);
        var card = new RateCard("EUR", zones, bands);
        Assert.Empty(card.Validate("rate_card"));
        Assert.Equal((4.90m, (string?)null), card.Quote("DE", "10115", 1500));
        Assert.Equal((11m, (string?)null), card.Quote("AT", "1010", 2001));
        Assert.Equal((8.50m, (string?)null), card.Quote("FR", "75001", 2000));
        Assert.Contains("no zone", card.Quote("FR", "13001", 100).Reason);
        Assert.Contains("heavier than its heaviest band (10000 g)", card.Quote("DE", "10115", 12000).Reason);
        Assert.Equal("de=DE|near=AT;NL;FR:75*", card.FormatZones());
        Assert.Equal("2000:de=4.90,near=8.50|10000:de=6.90,near=11", card.FormatBands());

        var bad = new RateCard("euro", [new RateZone("a", []), new RateZone("a", [new ServiceArea("DE", [])])],
            [new WeightBand(0, new Dictionary<string, decimal> { ["b"] = -1 })]);
        var fields = bad.Validate("rate_card").Select(e => e.Field).ToList();
        Assert.Contains("rate_card.currency", fields);
        Assert.Contains("rate_card.zones[0].areas", fields);
        Assert.Contains("rate_card.zones[1].code", fields);
        Assert.Contains("rate_card.bands[0].max_grams", fields);
        Assert.Contains("rate_card.bands[0].prices.b", fields);
    }

    [Fact]
    public void Filters_ExcludeEachCarrierWithItsReason()
    {
        IReadOnlyList<CarrierProfile> carriers =
        [
            Carrier("ok", 5m),
            Carrier("asleep", 5m, active: false),
            Carrier("dropper", 5m, services: "drop_off"),
            Carrier("south", 5m, areas: "DE:8*"),
            Carrier("full", 5m, capacity: 2),
            Carrier("light", 5m) with { Rates = Card("EUR", 5m, maxGrams: 500) },
            Carrier("abroad", 5m, areas: "AT"),
        ];
        var d = CarrierAllocator.Allocate(Request(), carriers, AllocationSettings.Default, new Dictionary<string, int> { ["full"] = 2 }, NoHistory);
        Assert.Equal("ok", d.Chosen);
        Assert.Equal(["ok"], d.Candidates.Select(c => c.Carrier));
        var why = d.Excluded.ToDictionary(e => e.Carrier, e => e.Reason);
        Assert.Equal("inactive", why["asleep"]);
        Assert.Equal("does not offer pickup", why["dropper"]);
        Assert.Equal("does not serve DE 10115", why["south"]);
        Assert.Equal("its daily capacity of 2 is used up today", why["full"]);
        Assert.Contains("heavier than its heaviest band", why["light"]);
        Assert.Equal("does not serve DE 10115", why["abroad"]);
        Assert.Contains("excluded: abroad (does not serve DE 10115)", d.Explanation);

        // Munich is in the south's area; the destination warehouse must be reachable too.
        Assert.Contains("south", CarrierAllocator.Allocate(Request(from: Munich), carriers, AllocationSettings.Default, NoneBooked, NoHistory).Candidates.Select(c => c.Carrier));
        var toFrance = Request() with { DestinationCountry = "FR" };
        Assert.Equal("does not deliver to the warehouse's country FR",
            CarrierAllocator.Allocate(toFrance, [Carrier("ok", 5m)], AllocationSettings.Default, NoneBooked, NoHistory).Excluded.Single().Reason);
        var none = CarrierAllocator.Allocate(Request(), [Carrier("asleep", active: false)], AllocationSettings.Default, NoneBooked, NoHistory);
        Assert.Null(none.Chosen);
        Assert.Contains("every carrier was excluded", none.Explanation);
    }

    [Fact]
    public void Scores_FollowTheMerchantsWeights_AndMeasuredPerformanceWithAPrior()
    {
        IReadOnlyList<CarrierProfile> carriers = [Carrier("cheap", 4m, days: 5), Carrier("fast", 8m, days: 1)];
        var byCost = new AllocationSettings { Weights = new AllocationWeights(1, 0, 0) };
        var bySpeed = new AllocationSettings { Weights = new AllocationWeights(0, 1, 0) };
        Assert.Equal("cheap", CarrierAllocator.Allocate(Request(), carriers, byCost, NoneBooked, NoHistory).Chosen);
        var fast = CarrierAllocator.Allocate(Request(), carriers, bySpeed, NoneBooked, NoHistory);
        Assert.Equal("fast", fast.Chosen);
        Assert.Equal(1m, fast.Candidates[0].SpeedScore);
        Assert.Equal(0.2m, fast.Candidates[1].SpeedScore);
        Assert.Equal(0.5m, fast.Candidates[0].CostScore); // 4 / 8
        Assert.Equal(1m, fast.Candidates[1].CostScore);

        // Equal on paper; one carrier failed most pickups over the month.
        IReadOnlyList<CarrierProfile> twins = [Carrier("a", 5m), Carrier("b", 5m)];
        var history = new Dictionary<string, CarrierPerformance> { ["a"] = new(100, 55, 50, 30, 55, 6), ["b"] = new(100, 97, 90, 85, 97, 0) };
        var d = CarrierAllocator.Allocate(Request(), twins, AllocationSettings.Default, NoneBooked, history);
        Assert.Equal("b", d.Chosen);
        Assert.True(d.Candidates[0].PerformanceScore > d.Candidates[1].PerformanceScore);
        // Without history both get the prior, and the code breaks the tie.
        Assert.Equal("a", CarrierAllocator.Allocate(Request(), twins, AllocationSettings.Default, NoneBooked, NoHistory).Chosen);
        // Two bad pickups out of two barely move a new carrier: the prior (10 observations at 90 %) dominates.
        Assert.InRange(new CarrierPerformance(2, 0, 0, 0, 0, 0).PickupRate, 0.74m, 0.76m);
        // A card in another currency is not compared: it scores average on cost, and says so.
        var usd = CarrierAllocator.Allocate(Request(), [Carrier("eu", 5m), Carrier("us", 1m, currency: "USD")], byCost, NoneBooked, NoHistory);
        Assert.Equal("eu", usd.Chosen);
        Assert.Contains("priced in USD, not comparable with EUR", usd.Candidates.Single(c => c.Carrier == "us").Note);
    }

    [Fact]
    public void Rules_PinExcludeAndSplit_AndTheShoppersChoiceComesFirst()
    {
        IReadOnlyList<CarrierProfile> carriers = [Carrier("dhl", 5m), Carrier("ups", 9m), Carrier("gls", 6m)];
        var settings = new AllocationSettings
        {
            Rules =
            [
                new AllocationRule { Type = AllocationRule.Exclude, Carrier = "dhl", Category = "furniture" },
                new AllocationRule { Type = AllocationRule.Pin, Carrier = "ups", Country = "DE", PostalCodes = ["8*"] },
                new AllocationRule { Type = AllocationRule.Split, Country = "DE", Shares = new Dictionary<string, int> { ["dhl"] = 70, ["gls"] = 30 } },
            ],
        };
        Assert.Empty(settings.Validate(["dhl", "ups", "gls"]));
        var pinned = CarrierAllocator.Allocate(Request(from: Munich), carriers, settings, NoneBooked, NoHistory);
        Assert.Equal("ups", pinned.Chosen);
        Assert.Equal("rule 2: pin ups for DE, postal 8*", pinned.Rule);
        Assert.Equal(3, pinned.Candidates.Count); // the others stay as fallbacks

        var furniture = CarrierAllocator.Allocate(Request(categories: ["furniture"]), carriers, settings, NoneBooked, NoHistory);
        Assert.Equal("excluded by rule 1 (exclude dhl for category furniture)", furniture.Excluded.Single().Reason);
        Assert.Equal("gls", furniture.Chosen); // the split's only remaining carrier

        // 70/30 over many returns, and always the same carrier for the same return.
        var picks = Enumerable.Range(0, 2000).Select(i => CarrierAllocator.Allocate(Request(key: $"ret-{i}"), carriers, settings, NoneBooked, NoHistory).Chosen).ToList();
        Assert.InRange(picks.Count(p => p == "dhl"), 1300, 1500);
        Assert.Equal(2000 - picks.Count(p => p == "dhl"), picks.Count(p => p == "gls"));
        Assert.Equal(picks[17], CarrierAllocator.Allocate(Request(key: "ret-17"), carriers, settings, NoneBooked, NoHistory).Chosen);

        var shopper = CarrierAllocator.Allocate(Request(from: Munich, requested: "gls"), carriers, settings, NoneBooked, NoHistory);
        Assert.Equal(("gls", "shopper"), (shopper.Chosen, shopper.Rule));
        var gone = CarrierAllocator.Allocate(Request(from: Munich, requested: "dpd"), carriers, settings, NoneBooked, NoHistory);
        Assert.Equal("ups", gone.Chosen);
        Assert.Contains("the shopper's choice dpd is not available (not in the registry)", gone.Explanation);

        var bad = new AllocationSettings
        {
            Weights = new AllocationWeights(0, 0, 0),
            Rules = [new AllocationRule { Type = "prefer" }, new AllocationRule { Type = AllocationRule.Split, Shares = new Dictionary<string, int> { ["dhl"] = 70, ["dpd"] = 20 } },
                new AllocationRule { Type = AllocationRule.Pin, Country = "Germany" }],
        };
        var fields = bad.Validate(["dhl", "ups"]).Select(e => e.Field).ToList();
        Assert.Equal(["weights", "rules[0].type", "rules[1].shares.dpd", "rules[1].shares", "rules[2].country", "rules[2].carrier"], fields);
    }

    [Fact]
    public void TheSameInputs_GiveTheSameDecision_AndACutOffMovesThePickup()
    {
        IReadOnlyList<CarrierProfile> carriers = [Carrier("a", 5m, cutoff: new TimeOnly(8, 0)), Carrier("b", 7m, days: 2), Carrier("c", active: false)];
        var history = new Dictionary<string, CarrierPerformance> { ["a"] = new(20, 18, 15, 12, 18, 1) };
        var tomorrow = DateOnly.FromDateTime(Morning).AddDays(1);
        var one = CarrierAllocator.Allocate(Request(pickup: tomorrow), carriers, AllocationSettings.Default, NoneBooked, history);
        var two = CarrierAllocator.Allocate(Request(pickup: tomorrow), [.. carriers.Reverse()], AllocationSettings.Default, NoneBooked, history);
        Assert.Equal(JsonSerializer.Serialize(one), JsonSerializer.Serialize(two));
        var a = one.Candidates.Single(c => c.Carrier == "a");
        Assert.Equal(tomorrow.AddDays(1), a.PickupDate); // booked at 09:00, past its 08:00 cut-off
        Assert.Equal(4, a.TransitDays);
        Assert.Contains("past its 08:00 cut-off", a.Note);
        Assert.Equal(tomorrow, one.Candidates.Single(c => c.Carrier == "b").PickupDate);
    }

    [Fact]
    public void SandboxLife_IsDeterministicBySeed_AndCoversPickupFailuresDuplicatesAndLateEvents()
    {
        var normal = new SandboxBehaviour();
        Assert.Equal(SandboxLife.Plan(42, "pickup", 3, normal, TimeSpan.FromHours(20)), SandboxLife.Plan(42, "pickup", 3, normal, TimeSpan.FromHours(20)));

        // A failed pickup ends the plan: the carrier waits to be booked again (the NDR answer), then tries once more.
        var never = SandboxLife.Plan(7, "pickup", 3, normal with { PickupSuccessRate = 0 }, TimeSpan.FromHours(20));
        var failure = Assert.Single(never);
        Assert.StartsWith("PU_FAIL", failure.Code);
        Assert.Contains("(attempt 1)", failure.Message);
        var second = SandboxLife.Plan(SandboxLife.SeedOf(7, 1), "pickup", 3, normal with { PickupSuccessRate = 0 }, TimeSpan.FromHours(20), pickupAttemptsSoFar: 1);
        Assert.Contains("(attempt 2)", Assert.Single(second).Message);
        Assert.NotEqual(failure.Id, second[0].Id); // a re-booking's events are new events
        Assert.Equal(7, SandboxLife.SeedOf(7, 0));

        var clean = normal with { PickupSuccessRate = 1, ExceptionRate = 0, DamageRate = 0, DelayRate = 0, DuplicateRate = 0, OutOfOrderRate = 0 };
        var life = SandboxLife.Plan(7, "pickup", 3, clean, TimeSpan.FromHours(20));
        Assert.Equal(["PU_OK", "HUB_IN", "HUB_OUT", "OFD", "DLV"], life.Select(e => e.Code));
        Assert.True(life.Zip(life.Skip(1)).All(p => p.First.At < p.Second.At));
        var transit = life[^1].At - life[0].At;
        Assert.InRange(transit.TotalHours, 62, 72); // about the promised 3 days

        var messy = SandboxLife.Plan(7, "drop_off", 3, clean with { DuplicateRate = 1, OutOfOrderRate = 1, DamageRate = 1 }, TimeSpan.Zero);
        Assert.Equal("DROP_SCAN", messy[0].Code);
        Assert.Contains(messy, e => e.Code == "EXC_DMG");
        Assert.Equal(messy.Count / 2, messy.Select(e => e.Id).Distinct().Count()); // each reported twice
        Assert.Contains(messy, e => e.VisibleAt > e.At + TimeSpan.FromMinutes(40)); // some arrive after the next event
        Assert.Empty(SandboxLife.ReportedBy(messy, TimeSpan.Zero));
        Assert.Equal(messy.Count, SandboxLife.ReportedBy(messy, TimeSpan.FromDays(30)).Count);
    }

    [Fact]
    public void Scorecard_CountsPickupsNdrTransitAndDamage()
    {
        var t = new DateTimeOffset(2026, 11, 1, 10, 0, 0, TimeSpan.Zero);
        ShipmentFacts[] facts =
        [
            new("dhl", "pickup", 0, t, t.AddHours(40), false, 2),   // first attempt, on time
            new("dhl", "pickup", 1, t, t.AddHours(60), true, 2),    // recovered after a failure, late, damaged
            new("dhl", "pickup", 2, null, null, false, 2),          // failed twice, still waiting
            new("dhl", "drop_off", 0, t, null, false, 2),           // in transit
            new("ups", "drop_off", 0, null, null, false, 3),        // label not used yet
        ];
        var cards = CarrierScorecard.Compute(facts);
        var dhl = cards["dhl"];
        Assert.Equal((4, 3, 5, 2), (dhl.Shipments, dhl.PickupShipments, dhl.PickupsAttempted, dhl.PickupsSucceeded));
        Assert.Equal(0.4m, dhl.PickupSuccessRate);
        Assert.Equal(0.3333m, dhl.FirstAttemptRate);
        Assert.Equal(0.6667m, dhl.NdrRate);
        Assert.Equal(0.5m, dhl.RecoveryRate);
        Assert.Equal(0.5m, dhl.OnTimeRate);
        Assert.Equal(0.3333m, dhl.DamageRate);
        Assert.Equal(50, dhl.AvgTransitHours);
        Assert.Null(cards["ups"].PickupSuccessRate);
        Assert.Null(cards["ups"].OnTimeRate);
    }

    private static readonly CarrierProfile Dhl = new("dhl", "DHL", "sandbox", ["pickup"], [new ServiceArea("DE", [])], null, 2, null, new TimeOnly(16, 0), true);

    [Fact]
    public void PickupRecovery_AsksTheShopperUntilTheLastAttempt_ThenSupport()
    {
        var now = new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);
        var rules = new PickupRecoverySettings(MaxAttempts: 3, AnswerHours: 48);
        var first = PickupRecovery.OnFailure(1, now, rules);
        Assert.False(first.Escalate);
        Assert.Equal(now.AddHours(48), first.AnswerBy);
        Assert.False(PickupRecovery.OnFailure(2, now, rules).Escalate);
        var third = PickupRecovery.OnFailure(3, now, rules);
        Assert.True(third.Escalate);
        Assert.Null(third.AnswerBy);
        Assert.Contains("3 failed pickup attempts", third.EscalationReason);
        Assert.True(PickupRecovery.Overdue(now, now));
        Assert.False(PickupRecovery.Overdue(now.AddSeconds(1), now));
        Assert.False(PickupRecovery.Overdue(null, now));
        Assert.Equal("refused", PickupRecovery.ReasonOf("refused"));
        Assert.Equal("other", PickupRecovery.ReasonOf("teleported"));
        Assert.Equal(["pickup_max_attempts", "pickup_answer_hours"], new PickupRecoverySettings(0, 0).Validate().Select(e => e.Field));
        Assert.True(PickupRecovery.Open(NdrState.Escalated));
        Assert.False(PickupRecovery.Open(NdrState.Rebooked));
    }

    [Fact]
    public void PickupRecovery_ChecksTheDay_AndACorrectedAddress_ByCountryAndCarrierArea()
    {
        // Monday 2026-11-23, 17:00 local: past the 16:00 cut-off, so Wednesday is the first day; Sunday never.
        var localNow = new DateTime(2026, 11, 23, 17, 0, 0);
        var days = PickupRecovery.Days(Dhl, localNow);
        Assert.Equal(new DateOnly(2026, 11, 25), days[0]);
        Assert.DoesNotContain(days, d => d.DayOfWeek == DayOfWeek.Sunday);
        Assert.Empty(PickupRecovery.Check(RecoveryAction.Confirm, new DateOnly(2026, 11, 25), null, Dhl, localNow));
        Assert.Equal("pickup_date", Assert.Single(PickupRecovery.Check(RecoveryAction.Confirm, new DateOnly(2026, 11, 24), null, Dhl, localNow)).Field);
        Assert.Equal("pickup_date", Assert.Single(PickupRecovery.Check(RecoveryAction.Confirm, null, null, Dhl, localNow)).Field);
        Assert.Equal("address", Assert.Single(PickupRecovery.Check(RecoveryAction.FixAddress, days[0], null, Dhl, localNow)).Field);
        var bad = new Retour.Core.Addresses.PostalAddress("Ana", "Hauptstr. 1", null, "Berlin", null, "1234", "DE", null);
        Assert.Equal("address.postal_code", Assert.Single(PickupRecovery.Check(RecoveryAction.FixAddress, days[0], bad, Dhl, localNow)).Field);
        var austria = new Retour.Core.Addresses.PostalAddress("Ana", "Ring 1", null, "Wien", null, "1010", "AT", null);
        Assert.Contains("does not collect", Assert.Single(PickupRecovery.Check(RecoveryAction.FixAddress, days[0], austria, Dhl, localNow)).Message);
        var good = bad with { PostalCode = "10115" };
        Assert.Empty(PickupRecovery.Check(RecoveryAction.FixAddress, days[0], good, Dhl, localNow));
    }
}
