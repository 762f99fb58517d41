using Bogus;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Returns;
using Retour.Core.Addresses;
using Retour.Core.Logistics;
using Retour.Core.Tracking;
using Retour.Core.Warehouse;
using Retour.Features.Carriers;
using Retour.Features.Warehouses;
using Retour.Features.Catalog;
using Retour.Features.Orders;
using Retour.Features.Policies;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Demo;

public sealed record DemoKeys(string ApiKey, string ShopifySecret, bool Created, string? StaffPassword = null);

/// <summary>
/// The demo merchant "demo": a catalogue, 240 orders over the last 120 days (most delivered, some still on their way,
/// a few cancelled), some returns in various states, the demo policy and three carriers. Deterministic (seeded),
/// relative to the day it runs. RETOUR_DEMO_API_KEY and RETOUR_DEMO_SHOPIFY_SECRET fix the keys on every start.
/// </summary>
public sealed class DemoSeeder(IServiceScopeFactory scopes, RetourSettings settings, TimeProvider clock, ILogger<DemoSeeder> log)
{
    public const string Slug = "demo";
    public const string ShopDomain = "retour-demo.myshopify.com";
    public const int OrderCount = 240;
    private static readonly (string Locale, string Country, string BogusLocale)[] Markets =
        [("en", "GB", "en_GB"), ("de", "DE", "de"), ("es", "ES", "es"), ("ar", "AE", "ar"), ("ru", "RU", "ru"), ("ko", "KR", "ko")];

    public async Task<DemoKeys> EnsureAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
        var apiKey = settings.DemoApiKey ?? ReadOrCreate("demo-api-key.txt", ApiKey.NewSecret);
        if (apiKey.Length < 16) throw new InvalidOperationException("RETOUR_DEMO_API_KEY must have at least 16 characters.");
        var now = clock.GetUtcNow();

        var merchant = await db.Merchants.FirstOrDefaultAsync(m => m.Slug == Slug, ct);
        if (merchant is not null)
        {
            db.Tenant.Set(merchant.Id);
            if (!await db.Warehouses.AnyAsync(ct)) SeedWarehouse(db, now); // demo data from before the portal (schema 1)
            await FixKeysAsync(db, merchant, apiKey, now, ct);
            return new DemoKeys(apiKey, merchant.ShopifySecret!, false, await EnsureStaffAsync(scope.ServiceProvider, db, now, ct));
        }

        var shopifySecret = settings.DemoShopifySecret ?? ReadOrCreate("demo-shopify-secret.txt", () => "shpss_" + ApiKey.NewSecret()[4..]);
        log.LogInformation("Seeding the demo merchant '{Slug}'", Slug);
        (merchant, _) = await MerchantSetup.CreateAsync(db, new NewMerchant(Slug, "Demo Outfitters", "EUR", "Europe/Berlin", "en",
            apiKey, ShopDomain, shopifySecret, DemoCatalogue.Policy), now, ct);
        merchant.BrandColor = "#0f5c4d";
        SeedLogo(db, merchant, now);
        SetTrackingSecrets(merchant);
        SeedCatalogue(db, now);
        SeedCarriers(db, now);
        SeedWarehouse(db, now);
        await db.SaveChangesAsync(ct);
        await SeedOrdersAsync(db, now, ct);
        await SeedReturnsAsync(scope.ServiceProvider, db, now, ct);
        await SeedParcelHistoryAsync(scope.ServiceProvider, db, now, ct);
        await SeedWarehouseAsync(db, now, ct);
        return new DemoKeys(apiKey, shopifySecret, true, await EnsureStaffAsync(scope.ServiceProvider, db, now, ct));
    }

    /// <summary>
    /// The demo's four staff, one per role: admin@demo.test, agent@demo.test, warehouse@demo.test and analyst@demo.test.
    /// Their password is RETOUR_DEMO_STAFF_PASSWORD when set (and follows it when it changes), else made once and kept in
    /// the data directory, so the banner can print it on every start.
    /// </summary>
    private async Task<string> EnsureStaffAsync(IServiceProvider services, RetourDb db, DateTimeOffset now, CancellationToken ct)
    {
        var password = settings.DemoStaffPassword ?? ReadOrCreate("demo-staff-password.txt", () => "demo-" + ApiKey.NewSecret()[4..16]);
        var hasher = services.GetRequiredService<Microsoft.AspNetCore.Identity.IPasswordHasher<Staff.StaffUser>>();
        foreach (var role in Staff.StaffRoles.All)
        {
            var email = $"{role}@demo.test";
            var normalized = email.ToUpperInvariant();
            var user = await db.StaffUsers.FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, ct);
            if (user is null)
            {
                user = new Staff.StaffUser { Email = email, NormalizedEmail = normalized, Name = $"Demo {char.ToUpperInvariant(role[0])}{role[1..]}", CreatedAt = now };
                user.PasswordHash = hasher.HashPassword(user, password);
                db.StaffUsers.Add(user);
            }
            else if (user.PasswordHash is null ||
                     hasher.VerifyHashedPassword(user, user.PasswordHash, password) == Microsoft.AspNetCore.Identity.PasswordVerificationResult.Failed)
            {
                user.PasswordHash = hasher.HashPassword(user, password);
                user.SecurityStamp = Guid.NewGuid().ToString("N");
            }
            if (!await db.StaffMemberships.AnyAsync(m => m.UserId == user.Id, ct))
                db.StaffMemberships.Add(new Staff.StaffMembership { UserId = user.Id, Role = role, CreatedAt = now });
        }
        await db.SaveChangesAsync(ct);
        return password;
    }

    /// <summary>Demo Outfitters' logo (demo-logo.svg drawn by Chromium), stored as an upload would store it.</summary>
    private static void SeedLogo(RetourDb db, Merchant merchant, DateTimeOffset now)
    {
        using var stream = typeof(DemoSeeder).Assembly.GetManifestResourceStream("demo-logo.png")!;
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        var (type, data) = Retour.Core.Media.Photos.Clean(ms.ToArray())!.Value;
        var logo = new MerchantLogo { MerchantId = merchant.Id };
        merchant.LogoUrl = logo.Set(merchant.Slug, type, data, Retour.Core.Media.Photos.Dimensions(data)!.Value, now);
        db.MerchantLogos.Add(logo);
    }

    private async Task FixKeysAsync(RetourDb db, Merchant merchant, string apiKey, DateTimeOffset now, CancellationToken ct)
    {
        var hash = ApiKey.HashOf(apiKey);
        if (!await db.ApiKeys.AnyAsync(k => k.Hash == hash && k.RevokedAt == null, ct))
        {
            // The demo key changed (RETOUR_DEMO_API_KEY): the old demo admin keys stop working.
            await db.ApiKeys.Where(k => k.Name == "admin" && k.RevokedAt == null).ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), ct);
            db.ApiKeys.Add(MerchantSetup.AdminKey(merchant.Id, apiKey, now));
        }
        else
        {
            // A demo made by an older version: its admin key gains the scopes added since (warehouse, refunds…).
            var all = string.Join(' ', Scopes.All);
            await db.ApiKeys.Where(k => k.Hash == hash && k.Name == "admin" && k.Scopes != all).ExecuteUpdateAsync(s => s.SetProperty(k => k.Scopes, all), ct);
        }
        if (settings.DemoShopifySecret is { } secret && merchant.ShopifySecret != secret) merchant.ShopifySecret = secret;
        SetTrackingSecrets(merchant);
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// The demo's tracking webhook secrets: fixed by RETOUR_DEMO_AFTERSHIP_SECRET, RETOUR_DEMO_EASYPOST_SECRET and
    /// RETOUR_DEMO_SHIPPO_TOKEN when set (so scripts can sign events), else random and kept in the data directory.
    /// </summary>
    private void SetTrackingSecrets(Merchant merchant)
    {
        merchant.AftershipSecret = settings.DemoAftershipSecret ?? merchant.AftershipSecret ?? ReadOrCreate("demo-aftership-secret.txt", ApiKey.NewSecret);
        merchant.EasypostSecret = settings.DemoEasypostSecret ?? merchant.EasypostSecret ?? ReadOrCreate("demo-easypost-secret.txt", ApiKey.NewSecret);
        merchant.ShippoToken = settings.DemoShippoToken ?? merchant.ShippoToken ?? ReadOrCreate("demo-shippo-token.txt", ApiKey.NewSecret);
    }

    private string ReadOrCreate(string file, Func<string> create)
    {
        var path = Path.Combine(settings.DataDir, file);
        if (File.Exists(path)) return File.ReadAllText(path).Trim();
        Directory.CreateDirectory(settings.DataDir);
        var value = create();
        File.WriteAllText(path, value);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return value;
    }

    public static void SeedCatalogue(RetourDb db, DateTimeOffset now)
    {
        var stock = new Random(7);
        foreach (var p in DemoCatalogue.Products)
            db.Products.Add(new Product
            {
                Sku = p.Sku, ProductCode = p.ProductCode, Title = p.Title, Category = p.Category, Price = p.Price, FinalSale = p.FinalSale,
                VariantJson = p.Variant is null ? null : Json.Serialize(p.Variant), Stock = stock.Next(0, 40), Supplier = p.Supplier,
                Cost = Math.Round(p.Price * 0.4m, 2), // landed cost: what liquidation recovers a share of
                CreatedAt = now, UpdatedAt = now,
            });
    }

    private static void SeedCarriers(RetourDb db, DateTimeOffset now)
    {
        // Three carriers that differ in price, speed, reach and behaviour, so allocation and the scorecard have something to tell.
        db.Carriers.Add(new Carrier
        {
            Code = "dhl", Name = "DHL Paket", Services = "pickup,drop_off", Areas = "DE;AT;NL;BE;FR;ES;GB", TransitDays = 2, DailyCapacity = 500, PickupCutoff = "15:00",
            RateCardJson = Rates("EUR", "de=DE|eu=AT;NL;BE;FR;ES|gb=GB", "2000:de=4.50,eu=8.90,gb=12.90|10000:de=6.90,eu=13.90,gb=18.90|31500:de=11.90,eu=24.90,gb=32.90"),
            AdapterOptionsJson = """{"pickup_success_rate": 0.93}""", CreatedAt = now,
        });
        db.Carriers.Add(new Carrier
        {
            Code = "ups", Name = "UPS", Services = "pickup,drop_off", Areas = "DE;AT;NL;BE;FR;ES;GB;US;AE;KR;RU", TransitDays = 3, PickupCutoff = "17:00",
            RateCardJson = Rates("EUR", "de=DE|eu=AT;NL;BE;FR;ES;GB|world=US;AE;KR;RU", "5000:de=7.90,eu=11.90,world=34.90|30000:de=12.90,eu=19.90,world=59.90"),
            AdapterOptionsJson = """{"pickup_success_rate": 0.82, "delay_rate": 0.2}""", CreatedAt = now,
        });
        db.Carriers.Add(new Carrier
        {
            Code = "hermes", Name = "Hermes", Services = "drop_off,box_free", Areas = "DE;AT", TransitDays = 3, DailyCapacity = 300,
            RateCardJson = Rates("EUR", "de=DE|at=AT", "25000:de=3.95,at=6.95"), AdapterOptionsJson = """{"duplicate_rate": 0.1}""", CreatedAt = now,
        });
    }

    private static string Rates(string currency, string zones, string bands)
    {
        var errors = new List<Retour.Core.FieldError>();
        var card = new RateCard(currency, RateCard.ParseZones(zones, "zones", errors), RateCard.ParseBands(bands, "rates", errors));
        errors.AddRange(card.Validate("rate_card"));
        if (errors.Count > 0) throw new InvalidOperationException("Demo rate card: " + string.Join("; ", errors.Select(e => e.Message)));
        return Json.Serialize(CarrierRegistry.Normalized(card));
    }

    private static void SeedWarehouse(RetourDb db, DateTimeOffset now) =>
        db.Warehouses.Add(new Warehouse
        {
            Code = "ber1", Name = "Demo Outfitters Returns", IsDefault = true, CreatedAt = now,
            AddressJson = Json.Serialize(new PostalAddress("Demo Outfitters Returns", "Lagerstraße 12", "Tor 3", "Berlin", null, "12057", "DE", "+49 30 1234567")),
        });

    // Bogus draws British postcodes from letter patterns, and some do not exist (the portal checks them); these are real.
    private static readonly string[] BritishPostcodes = ["EC1Y 8SY", "SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "LS1 4AP", "G2 1DY", "EH1 1YZ", "BS1 4DJ"];

    private static async Task SeedOrdersAsync(RetourDb db, DateTimeOffset now, CancellationToken ct)
    {
        var rng = new Random(42);
        var customers = Enumerable.Range(0, 90).Select(i =>
        {
            var market = Markets[i % Markets.Length];
            var f = new Faker(market.BogusLocale) { Random = new Randomizer(1000 + i) };
            var first = f.Name.FirstName();
            var last = f.Name.LastName();
            return (Email: $"shopper{i + 1}@example.com", Name: $"{first} {last}", market.Locale, market.Country,
                Street: f.Address.StreetAddress(), City: f.Address.City(),
                Postal: market.Country switch { "GB" => BritishPostcodes[i % BritishPostcodes.Length], "AE" => null, _ => f.Address.ZipCode() },
                // Spain and Korea write the province on the envelope; the portal asks for it there.
                Region: market.Country is "ES" or "KR" ? f.Address.State() : null);
        }).ToList();
        var products = DemoCatalogue.Products;
        for (var n = 0; n < OrderCount; n++)
        {
            // Repeat customers: the first 30 shoppers order far more often than the rest.
            var c = customers[rng.NextDouble() < 0.5 ? rng.Next(30) : rng.Next(customers.Count)];
            var placed = now.AddDays(-120 + 120.0 * n / OrderCount).AddMinutes(rng.Next(0, 600));
            var age = (now - placed).TotalDays;
            DateTimeOffset? delivered = age > 6 || (age > 2 && rng.NextDouble() < 0.6) ? placed.AddDays(2 + rng.Next(0, 4)) : null;
            if (delivered > now) delivered = null;
            var lines = Enumerable.Range(0, 1 + rng.Next(0, 3)).Select(i =>
            {
                var p = products[rng.Next(products.Count)];
                var qty = p.Price < 15 ? 1 + rng.Next(0, 3) : 1;
                var discount = rng.NextDouble() < 0.2 ? Math.Round(p.Price * qty * 0.1m, 2) : 0m;
                var tax = Math.Round((p.Price * qty - discount) * 0.19m, 2);
                return new LineInput($"L{i + 1}", p.Sku, p.Title, p.Category, qty, p.Price, tax, p.FinalSale, p.Variant, discount, p.ProductCode);
            }).DistinctBy(l => l.Sku).Select((l, i) => l with { Id = $"L{i + 1}" }).ToList();
            var input = new OrderInput($"D{1001 + n}", placed, delivered, "EUR",
                new CustomerInput(c.Email, c.Name, c.Locale),
                new AddressInput(c.Name, c.Street, c.City, c.Postal, c.Country, Region: c.Region),
                lines, FulfilledAt: placed.AddDays(1), CancelledAt: n % 97 == 13 ? placed.AddHours(3) : null,
                ShippingTotal: 4.90m, PaymentReference: $"pay_demo_{1001 + n}");
            var (data, errors) = OrderValidation.Validate(input, "api", now);
            if (data is null) throw new InvalidOperationException("Demo order invalid: " + string.Join("; ", errors.Select(e => e.Message)));
            await OrderIngestion.UpsertAsync(db, data with { DeliveredAt = input.CancelledAt is null ? delivered : null }, now, ct);
        }
        await db.SaveChangesAsync(ct);
        db.ChangeTracker.Clear();
    }

    private async Task SeedReturnsAsync(IServiceProvider services, RetourDb db, DateTimeOffset now, CancellationToken ct)
    {
        var returnServices = services.GetRequiredService<ReturnServices>();
        var rng = new Random(99);
        string[] reasons = ["too_small", "too_large", "changed_mind", "defective", "not_as_described", "quality", "damaged", "too_small"];
        var candidates = await db.Orders.AsNoTracking().Where(o => o.DeliveredAt != null && o.CancelledAt == null && o.DeliveredAt > now.AddDays(-28))
            .OrderBy(o => o.Number).Select(o => o.Number).ToListAsync(ct);
        var actor = new Actor("shopper", null, "demo shopper");
        var made = new List<Return>();
        foreach (var number in candidates.Where((_, i) => i % 3 == 0).Take(30))
        {
            var order = await db.Orders.AsNoTracking().Include(o => o.Lines).FirstAsync(o => o.Number == number, ct);
            var line = order.Lines.OrderBy(l => l.Position).FirstOrDefault(l => !l.FinalSale && l.Category is not ("beauty" or "gift_cards"));
            if (line is null) continue;
            var request = new CreateReturnRequest(number,
                [new CreateReturnLine(line.LineRef, 1, reasons[rng.Next(reasons.Length)], rng.NextDouble() < 0.4 ? "Did not fit as expected." : null)],
                rng.NextDouble() < 0.7 ? "refund" : "store_credit", rng.NextDouble() < 0.5 ? "drop_off" : "pickup");
            if (await CreateReturn.CreateAsync(db, returnServices, request, false, null, actor, null, clock, ct) is CreateReturn.Outcome.Created created)
                made.Add(created.Return);
        }
        // A few returns further along the lifecycle, so lists and filters have something to show.
        var staff = new Actor("system", null, "demo support");
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        foreach (var (ret, i) in made.Select((r, i) => (r, i)))
        {
            db.Returns.Attach(ret);
            if (ret.Status == ReturnStatus.PendingReview && i % 2 == 0) await ReturnTransitions.MoveAsync(db, ret, ReturnStatus.Rejected, staff, "Outside our goodwill rules.", now, ct);
            else if (ret.Status == ReturnStatus.Approved && i % 5 == 1) await ReturnTransitions.MoveAsync(db, ret, ReturnStatus.Cancelled, staff, "The shopper decided to keep it.", now, ct);
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    private sealed class PastClock(DateTimeOffset at) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => at;
    }

    /// <summary>
    /// A month of parcels that have already travelled, so the carrier scorecard, the NDR queue and allocation's measured
    /// performance have something to show at once: returns made 8 to 29 days ago (each as of its own day), booked with the
    /// three carriers, and their sandbox lives, in real time, fed through tracking ingestion as the poller would. Failed
    /// pickups were mostly answered by the shopper and booked again; a few were not, and wait in the queue.
    /// </summary>
    private async Task SeedParcelHistoryAsync(IServiceProvider services, RetourDb db, DateTimeOffset now, CancellationToken ct)
    {
        var returnServices = services.GetRequiredService<ReturnServices>();
        var ingest = services.GetRequiredService<TrackingIngest>();
        var carriers = await db.Carriers.AsNoTracking().ToDictionaryAsync(c => c.Code, ct);
        var rng = new Random(2026);
        var orders = await db.Orders.AsNoTracking().Include(o => o.Lines)
            .Where(o => o.DeliveredAt != null && o.CancelledAt == null && o.DeliveredAt < now.AddDays(-9) && o.DeliveredAt > now.AddDays(-50))
            .OrderBy(o => o.Number).ToListAsync(ct);
        var actor = new Actor("shopper", null, "demo shopper");
        foreach (var (order, i) in orders.Select((o, i) => (o, i)))
        {
            var line = order.Lines.OrderBy(l => l.Position).FirstOrDefault(l => !l.FinalSale && l.Category is not ("beauty" or "gift_cards") && l.ReturnedQuantity < l.Quantity);
            if (line is null) continue;
            var day = order.DeliveredAt!.Value.AddDays(1 + rng.Next(3)).AddHours(rng.Next(8, 18));
            if (day > now.AddDays(-8)) day = now.AddDays(-8);
            if (day < now.AddDays(-29)) day = now.AddDays(-29).AddHours(rng.Next(0, 48)); // within the scorecard's 30 days
            var pickup = rng.NextDouble() < 0.45;
            var request = new CreateReturnRequest(order.Number, [new CreateReturnLine(line.LineRef, 1, rng.NextDouble() < 0.6 ? "too_small" : "changed_mind", null)],
                "refund", pickup ? "pickup" : "drop_off");
            db.ChangeTracker.Clear();
            if (await CreateReturn.CreateAsync(db, returnServices, request, false, null, actor, null, new PastClock(day), ct) is not CreateReturn.Outcome.Created created
                || created.Return.Status != ReturnStatus.Approved) continue;
            var ret = await db.Returns.Include(r => r.Lines).FirstAsync(r => r.Id == created.Return.Id, ct);
            // UPS collects and carries further; DHL is dearer but surer; Hermes only takes parcels at its shops.
            var code = pickup ? (i % 2 == 0 ? "dhl" : "ups") : new[] { "dhl", "ups", "hermes" }[i % 3];
            var carrier = carriers[code];
            var shipment = new Shipment
            {
                MerchantId = ret.MerchantId, ReturnId = ret.Id, CarrierCode = code, Service = pickup ? "pickup" : "drop_off",
                TrackingNumber = SandboxCarrier.TrackingNumber($"{ret.Id:N}:{code}"), Status = pickup ? "pickup_scheduled" : "info_received", StatusAt = day,
                PickupDate = pickup ? DateOnly.FromDateTime(day.UtcDateTime).AddDays(1) : null, PickupWindow = pickup ? "09:00-13:00" : null,
                PromisedDays = carrier.TransitDays, CreatedAt = day, UpdatedAt = day,
            };
            shipment.SimSeed = SandboxLife.SeedOf(shipment.TrackingNumber);
            if (shipment.PickupDate?.DayOfWeek == DayOfWeek.Sunday) shipment.PickupDate = shipment.PickupDate.Value.AddDays(1);
            db.Shipments.Add(shipment);
            ret.CarrierCode = code;
            await ReturnTransitions.MoveAsync(db, ret, ReturnStatus.AwaitingShipment, new Actor("carrier", code, carrier.Name), $"{carrier.Name} {shipment.TrackingNumber}", day, ct);
            await db.SaveChangesAsync(ct);

            // The parcel's life in real time; after a failed pickup the shopper usually picks a new day within a day.
            for (var leg = 0; leg < 3; leg++)
            {
                var start = CarrierWorker.PlanStart(shipment);
                var events = CarrierWorker.Plan(shipment, carrier).Where(e => start + e.At <= now).ToList();
                if (events.Count > 0)
                    await ingest.IngestAsync(db, [new TrackingUpdate("sandbox", shipment.TrackingNumber, code, [.. events.Select(e =>
                        new TrackingCheckpoint(e.Id, [e.Code], e.Code, e.Message, start + e.At, e.Location))])], new Actor("carrier", code, carrier.Name), ct);
                db.ChangeTracker.Clear();
                shipment = await db.Shipments.FirstAsync(s => s.Id == shipment.Id, ct);
                var open = await db.NdrCases.FirstOrDefaultAsync(c => c.ShipmentId == shipment.Id && c.State == NdrState.AwaitingShopper, ct);
                if (open is null || rng.NextDouble() < 0.25) break;
                var answered = open.FailedAt.AddHours(6 + rng.Next(20));
                if (answered > now) break;
                var date = DateOnly.FromDateTime(answered.UtcDateTime).AddDays(1);
                if (date.DayOfWeek == DayOfWeek.Sunday) date = date.AddDays(1);
                (open.Action, open.AnsweredBy, open.AnsweredAt, open.RequestedDate, open.AnswerBy) = (RecoveryAction.Confirm, "shopper", answered, date, null);
                var r = await db.Returns.Include(x => x.Lines).FirstAsync(x => x.Id == shipment.ReturnId, ct);
                var from = Json.Deserialize<PostalAddress>(r.FromAddressJson ?? "null")!;
                var booked = await new SandboxCarrier().RebookPickupAsync(shipment.TrackingNumber, date, from, carrier.AdapterOptions, ct);
                await PickupRebooking.RecordAsync(db, open, shipment, r, carrier.Name, date, booked, TrackingStatus.PickupScheduled, answered, ct);
                await db.SaveChangesAsync(ct);
            }
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>The demo's suppliers and their claim windows, so defective units go back in supplier batches.</summary>
    public static readonly Supplier[] Suppliers =
    [
        new("nordic_textiles", "Nordic Textiles", 30), new("denim_works", "Denim Works", 30), new("arctic_gear", "Arctic Gear", 60), new("stride", "Stride", 45),
        new("soundlab", "SoundLab", 90), new("voltco", "VoltCo", 60), new("casa_bella", "Casa Bella", 30), new("glow_labs", "Glow Labs", 14),
    ];

    /// <summary>
    /// The warehouse's part of the demo: parcels that reached it are scanned in, and most of them inspected with the rule
    /// table's proposals waiting for the operator. Their refunds then go out live, through the outbox and the sandbox
    /// payment provider, as for any return inspected; the rest wait at the inspection bench.
    /// </summary>
    private static async Task SeedWarehouseAsync(RetourDb db, DateTimeOffset now, CancellationToken ct)
    {
        db.ChangeTracker.Clear();
        var merchant = await db.Merchants.FirstAsync(m => m.Id == db.Tenant.MerchantId, ct);
        var rules = new WarehouseRules { Suppliers = Suppliers };
        merchant.WarehouseRulesJson = System.Text.Json.JsonSerializer.Serialize(rules, Json.Options);
        await db.SaveChangesAsync(ct);
        var warehouse = await db.Warehouses.AsNoTracking().OrderByDescending(w => w.IsDefault).ThenBy(w => w.Code).Select(w => w.Code).FirstAsync(ct);
        var arrived = await db.Returns.AsNoTracking().Where(r => r.Status == ReturnStatus.Delivered).OrderBy(r => r.StatusChangedAt).Select(r => r.Id).ToListAsync(ct);
        var inspector = new Actor("system", null, "demo warehouse");
        Grade[] grades = [Grade.LikeNew, Grade.New, Grade.Used, Grade.LikeNew, Grade.Defective, Grade.Damaged, Grade.LikeNew, Grade.MissingParts];
        foreach (var (id, i) in arrived.Select((id, i) => (id, i)))
        {
            db.ChangeTracker.Clear();
            var ret = await db.Returns.Include(r => r.Lines).FirstAsync(r => r.Id == id, ct);
            var at = ret.StatusChangedAt.AddHours(4 + i % 20);
            if (at > now) at = now;
            await ReturnTransitions.MoveAsync(db, ret, ReturnStatus.Received, inspector, $"scanned in at {warehouse} (rma)", at, ct);
            (ret.ReceivedAt, ret.WarehouseCode) = (at, warehouse);
            if (i % 4 != 2)
            {
                var planned = new List<(ReturnLine, int, Grade, Dictionary<string, bool>, string?)>();
                foreach (var line in ret.Lines)
                    for (var unit = 1; unit <= line.Quantity; unit++)
                    {
                        var grade = grades[(i + unit) % grades.Length];
                        var questions = Checklists.For(rules.Checklists, line.Category);
                        // A unit that is not as new fails its checklist's last question (the stain, the damage, the missing part).
                        var answers = questions.Select((q, n) => (q, ok: grade is Grade.New or Grade.LikeNew || n < questions.Count - 1)).ToDictionary(x => x.q, x => x.ok);
                        planned.Add((line, unit, grade, answers, grade is Grade.New or Grade.LikeNew ? null : $"Graded {Codes.Of(grade)} at the bench."));
                    }
                await InspectReturn.RecordAsync(db, rules, ret, planned, 0, inspector, at.AddHours(2) > now ? now : at.AddHours(2), ct);
            }
            await db.SaveChangesAsync(ct);
        }
        db.ChangeTracker.Clear();
    }
}
