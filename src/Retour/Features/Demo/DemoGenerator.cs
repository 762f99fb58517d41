using Microsoft.EntityFrameworkCore;
using Retour.Core.Analytics;
using Retour.Core.Money;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Retour.Core.Warehouse;
using Retour.Features.Analytics;
using Retour.Features.Orders;
using Retour.Features.Policies;
using Retour.Features.Refunds;
using Retour.Features.Returns;
using Retour.Features.Warehouses;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Demo;

public sealed record GenerateOptions(string Merchant, int Returns, int Months = 24, int Seed = 7, int ChunkReturns = 50_000);

public sealed record GenerateReport(long Orders, long OrderLines, long Returns, long ReturnLines, long Refunds, long Inspections, long AuditEvents,
    long RollupCells, TimeSpan Elapsed)
{
    /// <summary>Of <see cref="Elapsed"/>, the time spent writing to the database.</summary>
    public TimeSpan WriteTime { get; init; }
    /// <summary>Shopper profiles recounted at the end (every shopper of the merchant).</summary>
    public long Shoppers { get; init; }
}

/// <summary>Progress of a run: returns written so far of the target, and what it is doing.</summary>
public readonly record struct GenerateProgress(long Returns, long Target, string Phase);

/// <summary>
/// `retour demo generate`: fills a merchant with a realistic history of orders and returns, fast (binary COPY on
/// PostgreSQL), for dashboards and benchmarks at scale. Everything goes where the product keeps it (orders, returns,
/// refunds, inspections, dispositions, status-change audit events) and the analytics facts and rollups are built by the
/// same code as the live path (<see cref="FactLoader.BuildReturn"/>), so a rebuild from the raw rows changes nothing.
///
/// The shape: orders follow a season (November and December peaks, a slow spring) with 20 % growth a year; return rates
/// by category per unit (apparel ~27 %, footwear ~22 %, electronics ~9 %, home ~7 %; beauty and gift cards are not
/// returnable); reason mixes per category, with products that run small (JEANS-30, sneakers 40/41) or large (DRESS) and
/// suppliers with quality problems (denim_works, voltco); holiday orders return more and late, so returns peak in
/// January; German shoppers return more than Gulf or Korean ones; 2 % of shoppers are serial returners who often send
/// things back worn; carriers differ in transit time. Returns made recently are still under way.
/// </summary>
public sealed class DemoGenerator(IServiceScopeFactory scopes, PolicyBook policies, TimeProvider clock)
{
    public const string OrderPrefix = "G";

    private sealed record Product(string Sku, string Code, string Title, string Category, decimal Price, bool FinalSale, string? Supplier, string? VariantJson);
    private sealed class Customer
    {
        public required string Email, Name, Country, Region, City, Locale;
        public bool Serial;
        public List<(DateTimeOffset Placed, Guid Id, bool Returned)> Orders { get; } = [];
    }

    private static readonly (string Country, double Weight, double ReturnFactor, string Locale, string[] Regions, string[] Cities)[] Markets =
    [
        ("DE", 35, 1.15, "de", ["BY", "BE", "NW", "HE", "HH", "BW", "SN"], ["München", "Berlin", "Köln", "Frankfurt", "Hamburg", "Stuttgart", "Leipzig"]),
        ("GB", 14, 1.0, "en", ["ENG", "SCT", "WLS"], ["London", "Edinburgh", "Cardiff"]),
        ("US", 14, 1.0, "en", ["CA", "NY", "TX", "FL", "WA", "IL"], ["Los Angeles", "New York", "Austin", "Miami", "Seattle", "Chicago"]),
        ("ES", 10, 0.9, "es", ["MD", "CT", "AN", "VC"], ["Madrid", "Barcelona", "Sevilla", "Valencia"]),
        ("FR", 8, 0.95, "en", ["IDF", "ARA", "PAC"], ["Paris", "Lyon", "Marseille"]),
        ("NL", 5, 1.05, "en", ["NH", "ZH", "UT"], ["Amsterdam", "Rotterdam", "Utrecht"]),
        ("AE", 5, 0.8, "ar", ["DU", "AZ"], ["Dubai", "Abu Dhabi"]),
        ("KR", 5, 0.85, "ko", ["11", "26"], ["Seoul", "Busan"]),
        ("RU", 2, 0.8, "ru", ["MOW", "SPE"], ["Moscow", "Saint Petersburg"]),
        ("SA", 2, 0.8, "ar", ["01", "02"], ["Riyadh", "Jeddah"]),
    ];

    private static readonly Dictionary<string, double> CategoryRate = new()
    {
        ["apparel"] = 0.27, ["footwear"] = 0.22, ["electronics"] = 0.09, ["home"] = 0.07,
    };

    private static readonly Dictionary<string, (ReasonCode Reason, double Weight)[]> ReasonMix = new()
    {
        ["apparel"] = [(ReasonCode.TooSmall, 28), (ReasonCode.TooLarge, 22), (ReasonCode.ChangedMind, 15), (ReasonCode.NotAsDescribed, 12), (ReasonCode.Quality, 10),
            (ReasonCode.WrongItem, 4), (ReasonCode.ArrivedLate, 3), (ReasonCode.Damaged, 2), (ReasonCode.BetterPrice, 2), (ReasonCode.Defective, 1), (ReasonCode.Other, 1)],
        ["footwear"] = [(ReasonCode.TooSmall, 30), (ReasonCode.TooLarge, 20), (ReasonCode.ChangedMind, 15), (ReasonCode.Quality, 12), (ReasonCode.NotAsDescribed, 10),
            (ReasonCode.WrongItem, 4), (ReasonCode.Damaged, 3), (ReasonCode.ArrivedLate, 3), (ReasonCode.BetterPrice, 2), (ReasonCode.Other, 1)],
        ["electronics"] = [(ReasonCode.Defective, 35), (ReasonCode.ChangedMind, 20), (ReasonCode.NotAsDescribed, 12), (ReasonCode.Damaged, 10), (ReasonCode.BetterPrice, 8),
            (ReasonCode.WrongItem, 6), (ReasonCode.Quality, 4), (ReasonCode.ArrivedLate, 3), (ReasonCode.Other, 2)],
        ["home"] = [(ReasonCode.Damaged, 25), (ReasonCode.ChangedMind, 20), (ReasonCode.NotAsDescribed, 20), (ReasonCode.Quality, 15), (ReasonCode.WrongItem, 7),
            (ReasonCode.Defective, 5), (ReasonCode.ArrivedLate, 3), (ReasonCode.BetterPrice, 3), (ReasonCode.Other, 2)],
    };

    private static readonly double[] MonthWeight = [0.8, 0.7, 0.8, 0.85, 0.9, 0.9, 0.85, 0.85, 0.9, 1.0, 1.5, 1.7];

    public async Task<GenerateReport> RunAsync(GenerateOptions o, IProgress<GenerateProgress>? progress, CancellationToken ct)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        await using var setupScope = scopes.CreateAsyncScope();
        var setupDb = setupScope.ServiceProvider.GetRequiredService<RetourDb>();
        var merchant = await setupDb.Merchants.AsNoTracking().FirstOrDefaultAsync(m => m.Slug == o.Merchant, ct)
            ?? throw new InvalidOperationException($"There is no merchant '{o.Merchant}'. Create it first (retour demo seed, or retour merchant create).");
        setupDb.Tenant.Set(merchant.Id);
        var policy = await policies.CurrentAsync(setupDb, ct) ?? throw new InvalidOperationException($"Merchant '{o.Merchant}' has no policy.");
        if (!await setupDb.Products.AnyAsync(ct))
        {
            // A shop without a catalogue gets the demo's, so the products its orders name exist.
            DemoSeeder.SeedCatalogue(setupDb, clock.GetUtcNow());
            await setupDb.SaveChangesAsync(ct);
        }
        var products = (await setupDb.Products.AsNoTracking().OrderBy(p => p.Sku).ToListAsync(ct))
            .Select(p => new Product(p.Sku, p.ProductCode, p.Title, p.Category, p.Price, p.FinalSale, p.Supplier, p.VariantJson)).ToList();
        var carriers = await setupDb.Carriers.AsNoTracking().OrderBy(c => c.Code).Select(c => c.Code).ToListAsync(ct);
        var warehouses = await setupDb.Warehouses.AsNoTracking().OrderByDescending(w => w.IsDefault).ThenBy(w => w.Code).Select(w => w.Code).ToListAsync(ct);
        if (warehouses.Count == 0) warehouses = ["main"];
        var existing = await setupDb.Orders.CountAsync(x => x.Number.StartsWith(OrderPrefix), ct);
        var run = new Run(o, merchant.Id, merchant.Zone, merchant.Currency, policy.Row.Id, policy.Row.Version, policy.Policy, products, carriers, warehouses,
            clock.GetUtcNow(), existing);
        await run.GenerateAsync(scopes, progress, ct);
        return run.Report(started.Elapsed) with { WriteTime = run.FlushTime.Elapsed, Shoppers = run.Shoppers };
    }

    /// <summary>One run: chronological days, each day's orders, their returns, written in chunks (one transaction each).</summary>
    private sealed class Run(GenerateOptions o, Guid merchantId, TimeZoneInfo zone, string currency, Guid policyId, int policyVersion, ReturnPolicy policy,
        List<Product> products, List<string> carriers, List<string> warehouses, DateTimeOffset now, int existingOrders)
    {
        private readonly Random _rng = new(o.Seed);
        private readonly List<Customer> _customers = [];
        private readonly HashSet<string> _rmas = [];
        private readonly Dictionary<(string Language, string Reason), List<string>> _phrases = ReasonClassifier.LoadEmbedded()
            .GroupBy(x => (x.Language, x.Reason)).ToDictionary(g => g.Key, g => g.Select(x => x.Text).ToList());
        /// <summary>What each phrase's words name, classified once (the same classifier the live path runs per comment).</summary>
        private readonly Dictionary<string, string> _said = [];
        private string? Said(string? comment) =>
            comment is null ? null : _said.TryGetValue(comment, out var s) ? s : _said[comment] = FactLoader.Classify(comment)!;
        private long _written;
        public long Shoppers { get; private set; }
        private long _orders, _orderLines, _returns, _returnLines, _refunds, _inspections, _audits, _cells;
        private int _orderSeq;
        /// <summary>Where the inspections of the return being made start in the chunk.</summary>
        private int _firstInspection;
        private readonly Dictionary<string, Product> _bySku = products.GroupBy(p => p.Sku).ToDictionary(g => g.Key, g => g.First());
        public readonly System.Diagnostics.Stopwatch FlushTime = new();
        private Chunk _chunk = new();

        private sealed class Chunk
        {
            public List<Order> Orders { get; } = [];
            public List<OrderLine> OrderLines { get; } = [];
            public List<Return> Returns { get; } = [];
            public List<ReturnLine> ReturnLines { get; } = [];
            public List<Refund> Refunds { get; } = [];
            public List<Inspection> Inspections { get; } = [];
            public List<UnitDisposition> Dispositions { get; } = [];
            public List<AuditEvent> Audits { get; } = [];
            public List<AnalyticsFact> Facts { get; } = [];
            public RollupCube Cube { get; } = new();
        }

        public GenerateReport Report(TimeSpan elapsed) => new(_orders, _orderLines, _returns, _returnLines, _refunds, _inspections, _audits, _cells, elapsed);

        private double Next() => _rng.NextDouble();

        /// <summary>Times as the database keeps them (microseconds), so facts built here equal facts rebuilt from the rows.</summary>
        private static DateTimeOffset Micros(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % 10, TimeSpan.Zero);

        private T Pick<T>(IReadOnlyList<(T Item, double Weight)> items)
        {
            var total = items.Sum(i => i.Weight);
            var x = Next() * total;
            foreach (var (item, w) in items) { if ((x -= w) < 0) return item; }
            return items[^1].Item;
        }

        /// <summary>Chance that one unit of this product comes back, for this shopper, for an order placed in this month.</summary>
        private static double UnitRate(Product p, Customer c, double marketFactor, int month)
        {
            if (p.FinalSale || !CategoryRate.TryGetValue(p.Category, out var rate)) return 0;
            if (p.Sku.StartsWith("JEANS-30", StringComparison.Ordinal) || p.Sku.StartsWith("SNEAK-40", StringComparison.Ordinal)
                || p.Sku.StartsWith("SNEAK-41", StringComparison.Ordinal) || p.Code == "DRESS") rate *= 1.35;
            if (p.Supplier is "denim_works" or "voltco") rate *= 1.25;
            if (month is 11 or 12) rate *= 1.25;
            if (c.Serial) rate *= 2.6;
            return Math.Min(0.9, rate * marketFactor);
        }

        private ReasonCode ReasonFor(Product p)
        {
            var mix = ReasonMix.GetValueOrDefault(p.Category) ?? ReasonMix["home"];
            if (p.Sku.StartsWith("JEANS-30", StringComparison.Ordinal) || p.Sku.StartsWith("SNEAK-40", StringComparison.Ordinal) || p.Sku.StartsWith("SNEAK-41", StringComparison.Ordinal))
                return Next() < 0.6 ? ReasonCode.TooSmall : Pick(mix);
            if (p.Code == "DRESS") return Next() < 0.55 ? ReasonCode.TooLarge : Pick(mix);
            if (p.Supplier == "denim_works" && Next() < 0.3) return Next() < 0.5 ? ReasonCode.Quality : ReasonCode.NotAsDescribed;
            if (p.Supplier == "voltco" && Next() < 0.35) return ReasonCode.Defective;
            return Pick(mix);
        }

        public async Task GenerateAsync(IServiceScopeFactory scopes, IProgress<GenerateProgress>? progress, CancellationToken ct)
        {
            _orderSeq = existingOrders;
            var end = now;
            var start = now.AddMonths(-o.Months);
            var days = (int)(end - start).TotalDays;
            // Expected returns per order, by Monte Carlo over the catalogue and markets, sets the daily volume for the target.
            var perOrder = EstimateReturnsPerOrder();
            var weights = Enumerable.Range(0, days).Select(d =>
            {
                var day = start.AddDays(d);
                var growth = Math.Pow(1.2, (double)d / 365);
                var weekday = day.DayOfWeek is DayOfWeek.Sunday ? 1.15 : day.DayOfWeek is DayOfWeek.Saturday ? 0.9 : 1.0;
                // Orders of the last three weeks have not all come back yet.
                var ripe = Math.Clamp((end - day).TotalDays / 21.0, 0, 1);
                return (Volume: MonthWeight[day.Month - 1] * growth * weekday, Ripe: ripe);
            }).ToList();
            // Returns each day's orders are expected to bring, and what is still to come from each day on.
            var expectedPerDay = weights.Select(w => w.Volume * (0.25 + 0.75 * w.Ripe) * perOrder).ToArray();
            var toCome = new double[days + 1];
            for (var d = days - 1; d >= 0; d--) toCome[d] = toCome[d + 1] + expectedPerDay[d];
            progress?.Report(new GenerateProgress(0, o.Returns, "orders and returns"));
            try
            {
                // One chunk is written while the next is made: the database and the generator each keep a core busy.
                var queue = System.Threading.Channels.Channel.CreateBounded<Chunk>(1);
                var writer = Task.Run(async () =>
                {
                    try
                    {
                        await foreach (var chunk in queue.Reader.ReadAllAsync(ct))
                        {
                            await WriteAsync(scopes, chunk, ct);
                            progress?.Report(new GenerateProgress(Interlocked.Read(ref _written), o.Returns, "orders and returns"));
                        }
                    }
                    catch (Exception e)
                    {
                        // Closing the channel with the error wakes a generator waiting to hand over the next chunk.
                        queue.Writer.TryComplete(e);
                        throw;
                    }
                }, ct);
                async Task FlushAsync()
                {
                    var chunk = _chunk;
                    _chunk = new Chunk();
                    if (chunk.Orders.Count == 0) return;
                    try { await queue.Writer.WriteAsync(chunk, ct); }
                    catch (System.Threading.Channels.ChannelClosedException) { await writer; throw; } // a failed write ends the run with its error
                }
                double predicted = 0;
                for (var d = 0; d < days; d++)
                {
                    // The volume follows the season; its scale corrects itself day by day by how many returns the orders so far
                    // actually brought against the estimate, so the target is met at the end of the period, not before it.
                    var observed = (_returns + 200.0) / (predicted + 200.0);
                    var scale = Math.Max(0, o.Returns - _returns) / Math.Max(1e-9, observed * toCome[d]);
                    var count = (int)Math.Round(weights[d].Volume * scale + (Next() - 0.5));
                    var dayStart = start.AddDays(d);
                    // In the order they were placed, so a shopper's earlier orders are made before their later ones.
                    var times = new double[Math.Max(0, count)];
                    for (var i = 0; i < times.Length; i++) times[i] = Next() * 86_400;
                    Array.Sort(times);
                    foreach (var second in times)
                    {
                        var placed = Micros(dayStart.AddSeconds(second));
                        if (placed >= end) break;
                        if (MakeOrder(CustomerFor(), placed) && _chunk.Returns.Count >= o.ChunkReturns) await FlushAsync();
                    }
                    predicted += count * expectedPerDay[d] / weights[d].Volume; // expected returns of this day's orders
                }
                // What is still missing comes from orders of new shoppers placed three to ten weeks ago (so no one's history moves).
                while (_returns < o.Returns)
                    if (MakeOrder(NewCustomer(), Micros(end.AddDays(-21 - Next() * 49))) && _chunk.Returns.Count >= o.ChunkReturns) await FlushAsync();
                await FlushAsync();
                queue.Writer.TryComplete();
                await writer;
            }
            catch (Exception) when (Interlocked.Read(ref _written) > 0)
            {
                // The chunks written before the failure stay: their shoppers get their profiles. The run's own error is the one reported.
                try { await RebuildProfilesAsync(scopes, CancellationToken.None); }
                catch (Exception) { /* the database that failed the run may fail this too */ }
                throw;
            }
            // The shoppers' lifetime counts, in one statement over everything written (exact, however often this runs).
            progress?.Report(new GenerateProgress(_returns, o.Returns, "shopper profiles"));
            await RebuildProfilesAsync(scopes, ct);
            progress?.Report(new GenerateProgress(_returns, o.Returns, "done"));
        }

        private async Task RebuildProfilesAsync(IServiceScopeFactory scopes, CancellationToken ct)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            FlushTime.Start();
            try
            {
                using (await db.WriteSlotAsync(ct))
                    Shoppers = await ShopperProfiles.RebuildAsync(db, merchantId, now, ct);
            }
            finally { FlushTime.Stop(); }
        }

        private double EstimateReturnsPerOrder()
        {
            var rng = new Random(o.Seed + 1);
            double sum = 0;
            const int n = 20_000;
            var returnable = products.Where(p => !p.FinalSale).ToList();
            for (var i = 0; i < n; i++)
            {
                var market = Markets[Math.Min(Markets.Length - 1, (int)(rng.NextDouble() * Markets.Length))];
                var c = new Customer { Email = "", Name = "", Country = "", Region = "", City = "", Locale = "", Serial = rng.NextDouble() < 0.02 };
                var lines = 1 + (int)(rng.NextDouble() * 3);
                var none = 1.0;
                for (var l = 0; l < lines; l++)
                    none *= 1 - UnitRate(products[(int)(rng.NextDouble() * products.Count)], c, market.ReturnFactor, 1 + (int)(rng.NextDouble() * 12));
                sum += 1 - none;
            }
            return sum / n * 0.92; // some returns are made after a second look at the order (lines that stay), see MakeOrder
        }

        private Customer CustomerFor() =>
            _customers.Count > 0 && Next() < 0.58 ? _customers[(int)(Next() * _customers.Count)] : NewCustomer();

        private Customer NewCustomer()
        {
            var market = Pick(Markets.Select(m => (m, m.Weight)).ToList());
            var k = (int)(Next() * market.Regions.Length);
            var i = _orderSeq + 1; // the number of the order it is made for: unique across runs
            var c = new Customer
            {
                Email = $"shopper.g{i}@example.test", Name = $"Shopper {i}", Country = market.Country, Region = market.Regions[k], City = market.Cities[k],
                Locale = market.Locale, Serial = Next() < 0.02,
            };
            _customers.Add(c);
            return c;
        }

        /// <summary>Makes an order (and its return, while the target is not met); true when it made a return.</summary>
        private bool MakeOrder(Customer c, DateTimeOffset placed)
        {
            var market = Markets.First(m => m.Country == c.Country);
            var orderId = Guid.CreateVersion7();
            var number = $"{OrderPrefix}{++_orderSeq:D7}";
            var delivered = Micros(placed.AddHours(30 + Next() * 90));
            var cancelled = Next() < 0.015;
            var order = new Order
            {
                Id = orderId, MerchantId = merchantId, Number = number, Source = "api", PlacedAt = placed, FulfilledAt = Micros(placed.AddHours(12 + Next() * 20)),
                DeliveredAt = cancelled || delivered > now ? null : delivered, CancelledAt = cancelled ? placed.AddHours(2) : null, Currency = currency,
                CustomerEmail = c.Email, CustomerName = c.Name, CustomerLocale = c.Locale, ShipName = c.Name, ShipLine1 = $"{1 + (int)(Next() * 200)} Demo Street",
                ShipCity = c.City, ShipRegion = c.Region, ShipPostalCode = $"{10000 + (int)(Next() * 89999)}", ShipCountry = c.Country, ShippingTotal = 4.90m,
                PaymentReference = $"pay_{orderId:N}", CreatedAt = placed, UpdatedAt = placed,
            };
            var lineCount = 1 + (int)(Next() * 3);
            var picked = new HashSet<int>();
            for (var l = 0; l < lineCount; l++)
            {
                var idx = (int)(Next() * products.Count);
                if (!picked.Add(idx)) continue;
                var p = products[idx];
                var qty = Next() < 0.85 ? 1 : 2;
                var discount = Next() < 0.2 ? Currencies.Round(p.Price * qty * 0.1m, currency) : 0m;
                order.Lines.Add(new OrderLine
                {
                    MerchantId = merchantId, OrderId = orderId, LineRef = $"L{order.Lines.Count + 1}", Position = order.Lines.Count, Sku = p.Sku, ProductCode = p.Code,
                    Title = p.Title, Category = p.Category, VariantJson = p.VariantJson, Quantity = qty, UnitPrice = p.Price,
                    Tax = Currencies.Round((p.Price * qty - discount) * 0.19m, currency), Discount = discount, FinalSale = p.FinalSale,
                });
            }
            var earlier = FactLoader.Earlier([.. Enumerable.Reverse(c.Orders)], placed, orderId);

            // Which units come back, and when.
            Return? ret = null;
            if (!cancelled && order.DeliveredAt is { } got)
            {
                var backLines = new List<(OrderLine Line, Product P, int Units, ReasonCode Reason)>();
                foreach (var line in order.Lines)
                {
                    var p = _bySku[line.Sku!];
                    var units = 0;
                    for (var u = 0; u < line.Quantity; u++) if (Next() < UnitRate(p, c, market.ReturnFactor, placed.Month)) units++;
                    if (units > 0) backLines.Add((line, p, units, ReasonFor(p)));
                }
                var holiday = placed.Month is 11 or 12;
                var lag = holiday ? 5 + Next() * 40 : 1 + Next() * Next() * 28;
                var requested = Micros(got.AddDays(lag));
                if (backLines.Count > 0 && requested < now && _returns < o.Returns)
                    ret = MakeReturn(order, c, backLines, requested, earlier);
            }
            c.Orders.Add((placed, orderId, ret is not null));
            _chunk.Orders.Add(order);
            _chunk.OrderLines.AddRange(order.Lines);
            _orders++;
            _orderLines += order.Lines.Count;
            var orderFact = FactLoader.BuildOrder(placed, order.CancelledAt, order.ShipCountry, order.ShipRegion, earlier.Orders,
                [.. order.Lines.Select(l => (l.Sku, l.ProductCode, l.Category, l.Quantity, l.UnitPrice, l.Discount, l.Tax))], zone, currency);
            Rollup.Contribute(orderFact, _chunk.Cube, 1);
            _chunk.Facts.Add(new AnalyticsFact { EntityId = orderId, MerchantId = merchantId, Kind = "order", Day = orderFact.Day.DayNumber, Json = FactJson.Write(orderFact), UpdatedAt = now });
            return ret is not null;
        }

        private Return MakeReturn(Order order, Customer c, List<(OrderLine Line, Product P, int Units, ReasonCode Reason)> back, DateTimeOffset at,
            (int Orders, int WithReturns) history)
        {
            var value = back.Sum(b => FactLoader.LineValue(b.Line.UnitPrice, b.Line.Discount, b.Line.Tax, b.Line.Quantity, b.Units, currency).Value);
            var resolution = back.Any(b => b.P.Category is "apparel" or "footwear" && b.Reason is ReasonCode.TooSmall or ReasonCode.TooLarge) && Next() < 0.35
                ? Resolution.Exchange : Next() < 0.2 ? Resolution.StoreCredit : Resolution.Refund;
            if (resolution == Resolution.Exchange && !policy.Resolutions.Contains(Resolution.Exchange)) resolution = Resolution.Refund;
            var cheap = back.All(b => b.Line.UnitPrice < (policy.KeepItThreshold ?? 0));
            var method = cheap && Next() < 0.7 ? ReturnMethod.Keep : Next() switch { < 0.62 => ReturnMethod.DropOff, < 0.9 => ReturnMethod.Pickup, _ => ReturnMethod.InStore };
            var carrier = method is ReturnMethod.DropOff or ReturnMethod.Pickup && carriers.Count > 0
                ? carriers[Math.Min(carriers.Count - 1, Next() switch { < 0.5 => 0, < 0.8 => 1, _ => 2 })] : null;
            var warehouse = method == ReturnMethod.Keep ? null : c.Country == "US" && warehouses.Count > 1 ? warehouses[1] : warehouses[0];

            var factLines = back.Select(b =>
            {
                var (v, t) = FactLoader.LineValue(b.Line.UnitPrice, b.Line.Discount, b.Line.Tax, b.Line.Quantity, b.Units, currency);
                return new FactLine(b.Line.Sku!, b.P.Code, b.P.Category, b.P.Supplier ?? Rollup.None, Codes.Of(b.Reason), b.Units, v, 0, t);
            }).ToList();
            var priced = WhatIf.Price(factLines, method, resolution, policy, currency, offerKeepIt: false);
            var estimate = new RefundBreakdown(currency, priced.Items, priced.Tax, 0, priced.RestockingFee, priced.ReturnShippingFee, priced.Bonus, priced.Refund, [], []);
            var estimateJson = Json.Serialize(estimate);
            var decision = Approval.Decide(policy.AutoApproval, [], estimate, [.. back.Select(b => b.Reason)], new CustomerHistory(history.Orders, history.WithReturns));

            string rma;
            do rma = Rma.New(); while (!_rmas.Add(rma));
            var ret = new Return
            {
                MerchantId = merchantId, Rma = rma, OrderId = order.Id, OrderNumber = order.Number, CustomerEmail = c.Email, Resolution = resolution, Method = method,
                PolicyVersionId = policyId, PolicyVersion = policyVersion, Currency = currency, EstimateTotal = estimate.Total, EstimateJson = estimateJson,
                DecisionOutcome = decision.Outcome, DecisionJson = Json.Serialize(decision), Flags = string.Join(',', decision.Flags), Locale = c.Locale,
                CarrierCode = carrier, CarrierRequested = carrier is not null && Next() < 0.3, CreatedBy = "shopper", CreatedAt = at,
            };
            ret.Touch(at);
            var lines = back.Select(b => new ReturnLine
            {
                MerchantId = merchantId, ReturnId = ret.Id, OrderLineId = b.Line.Id, OrderLineRef = b.Line.LineRef, Sku = b.Line.Sku, Title = b.Line.Title,
                Category = b.Line.Category, Quantity = b.Units, Reason = b.Reason,
                Comment = Next() < 0.25 && _phrases.TryGetValue((c.Locale, Codes.Of(b.Reason)), out var said) ? said[(int)(Next() * said.Count)] : null,
            }).ToList();
            ret.Lines.AddRange(lines);

            var moves = Lifetime(ret, decision.Outcome, method, carrier, c.Serial, at);
            var used = new Dictionary<Guid, int>();
            decimal recovered = 0;
            (decimal Amount, string Json, DateTimeOffset? At)? refund = null;
            foreach (var (to, when) in moves)
            {
                var from = ret.Status;
                ret.TryMoveTo(to, when);
                _chunk.Audits.Add(new AuditEvent
                {
                    MerchantId = merchantId, EntityType = "return", EntityId = ret.Id, Action = "status_changed", FromState = Codes.Of(from), ToState = Codes.Of(to),
                    ActorType = to is ReturnStatus.InTransit or ReturnStatus.Delivered ? "carrier" : "system", ActorName = to is ReturnStatus.InTransit or ReturnStatus.Delivered ? carrier : "Retour",
                    OccurredAt = when,
                });
                if (to == ReturnStatus.Received) ret.ReceivedAt = when;
                if (to == ReturnStatus.Received) ret.WarehouseCode = warehouse;
                if (to == ReturnStatus.Inspected) used = Inspect(ret, lines, back, c.Serial, when);
                if (to == ReturnStatus.Resolved)
                {
                    var json = estimateJson;
                    refund = (resolution == Resolution.Exchange ? 0m : priced.Refund, json, when);
                    _chunk.Refunds.Add(new Refund
                    {
                        MerchantId = merchantId, ReturnId = ret.Id, Rma = rma, Method = RefundMath.MethodOf(resolution), Status = RefundStatus.Issued,
                        Trigger = method == ReturnMethod.Keep ? RefundTrigger.KeepIt : RefundTrigger.Inspection, Amount = refund.Value.Amount, Currency = currency,
                        BreakdownJson = json, ProviderKey = $"rtr_refund_{Guid.NewGuid():N}", PaymentReference = order.PaymentReference,
                        ProviderReference = $"sbx_{Guid.NewGuid():N}"[..24], Attempts = 1, CreatedBy = "Retour", CreatedAt = when, IssuedAt = when, UpdatedAt = when,
                    });
                    _refunds++;
                }
                if (to == ReturnStatus.Closed) recovered = Dispose(ret, back, when, warehouse ?? warehouses[0]);
            }
            foreach (var b in back)
                if (!Lifecycle.ReleasesQuantity(ret.Status)) b.Line.ReturnedQuantity += b.Units;
            order.ReturnCount++;
            order.Version++;

            _chunk.Returns.Add(ret);
            _chunk.ReturnLines.AddRange(lines);
            _returns++;
            _returnLines += lines.Count;
            var input = new FactLoader.ReturnInput(at, ret.Status, resolution, method, carrier, ret.WarehouseCode, decision.Outcome,
                new FactLoader.OrderInput(order.ShipCountry, order.ShipRegion, order.PlacedAt, order.DeliveredAt ?? order.FulfilledAt),
                [.. back.Select((b, i) => new FactLoader.LineInput(b.Line.Sku, b.Line.Category, b.Units, b.Reason, b.P.Code, b.P.Supplier, b.Line.UnitPrice,
                    b.Line.Discount, b.Line.Tax, b.Line.Quantity, used.GetValueOrDefault(lines[i].Id), Said(lines[i].Comment)))],
                refund is { } r ? [(r.Amount, r.Json, r.At)] : [], recovered,
                [.. moves.Select(m => (Codes.Of(m.To), m.At))], history);
            var fact = FactLoader.BuildReturn(input, zone, currency);
            Rollup.Contribute(fact, _chunk.Cube, 1);
            _chunk.Facts.Add(new AnalyticsFact { EntityId = ret.Id, MerchantId = merchantId, Kind = "return", Day = fact.Day.DayNumber, Json = FactJson.Write(fact), UpdatedAt = now });
            return ret;
        }

        /// <summary>The status changes a return has had by now, with their times.</summary>
        private List<(ReturnStatus To, DateTimeOffset At)> Lifetime(Return ret, DecisionOutcome outcome, ReturnMethod method, string? carrier, bool serial, DateTimeOffset at)
        {
            var moves = new List<(ReturnStatus, DateTimeOffset)>();
            var t = at;
            bool Step(ReturnStatus to, double hours)
            {
                t = Micros(t.AddHours(hours));
                if (t > now) return false;
                moves.Add((to, t));
                return true;
            }
            if (outcome == DecisionOutcome.PendingReview)
            {
                if (!Step(ReturnStatus.PendingReview, 0)) return moves;
                var verdict = Next() < (serial ? 0.55 : 0.8) ? ReturnStatus.Approved : ReturnStatus.Rejected;
                if (!Step(verdict, 2 + Next() * 46) || verdict == ReturnStatus.Rejected) return moves;
            }
            else if (!Step(ReturnStatus.Approved, 0)) return moves;
            if (Next() < 0.03) { Step(ReturnStatus.Cancelled, 1 + Next() * 40); return moves; }
            if (method == ReturnMethod.Keep) { Step(ReturnStatus.Resolved, 0.05 + Next() * 2); return moves; }
            if (method == ReturnMethod.InStore)
            {
                if (!Step(ReturnStatus.Received, 4 + Next() * 200)) return moves;
            }
            else
            {
                if (!Step(ReturnStatus.AwaitingShipment, 0.02 + Next() * 0.5)) return moves;
                if (Next() < 0.025) { Step(ReturnStatus.Expired, (policy.LabelValidDays ?? 30) * 24); return moves; }
                if (!Step(ReturnStatus.InTransit, 6 + Next() * Next() * 160)) return moves;
                // Carriers differ: the first is quick and steady, the second slow, the third in between with a long tail.
                var transit = carrier == carriers.ElementAtOrDefault(0) ? 30 + Next() * 30
                    : carrier == carriers.ElementAtOrDefault(1) ? 60 + Next() * 72
                    : 36 + Next() * Next() * 150;
                if (!Step(ReturnStatus.Delivered, transit)) return moves;
                if (!Step(ReturnStatus.Received, 2 + Next() * 40)) return moves;
            }
            if (!Step(ReturnStatus.Inspected, 1 + Next() * Next() * 96)) return moves;
            if (!Step(ReturnStatus.Resolved, 0.05 + Next() * 20)) return moves;
            Step(ReturnStatus.Closed, 2 + Next() * 200);
            return moves;
        }

        private Dictionary<Guid, int> Inspect(Return ret, List<ReturnLine> lines, List<(OrderLine Line, Product P, int Units, ReasonCode Reason)> back, bool serial, DateTimeOffset at)
        {
            var used = new Dictionary<Guid, int>();
            _firstInspection = _chunk.Inspections.Count;
            for (var i = 0; i < lines.Count; i++)
                for (var u = 1; u <= lines[i].Quantity; u++)
                {
                    var grade = back[i].Reason == ReasonCode.Defective && Next() < 0.7 ? Grade.Defective
                        : back[i].Reason == ReasonCode.Damaged && Next() < 0.6 ? Grade.Damaged
                        : Next() switch { var x when x < (serial ? 0.45 : 0.13) => Grade.Used, < 0.72 => Grade.New, < 0.95 => Grade.LikeNew, _ => Grade.Damaged };
                    if (grade == Grade.Used) used[lines[i].Id] = used.GetValueOrDefault(lines[i].Id) + 1;
                    _chunk.Inspections.Add(new Inspection
                    {
                        MerchantId = merchantId, ReturnId = ret.Id, ReturnLineId = lines[i].Id, OrderLineRef = lines[i].OrderLineRef, Unit = u, Grade = grade,
                        ChecklistJson = "{}", InspectedBy = "warehouse@demo.test", InspectedAt = at,
                    });
                    _inspections++;
                }
            return used;
        }

        private decimal Dispose(Return ret, List<(OrderLine Line, Product P, int Units, ReasonCode Reason)> back, DateTimeOffset at, string warehouse)
        {
            decimal recovered = 0;
            var inspections = _chunk.Inspections.Skip(_firstInspection).Where(x => x.ReturnId == ret.Id).ToList();
            foreach (var ins in inspections)
            {
                var b = back.First(x => x.Line.LineRef == ins.OrderLineRef);
                var value = FactLoader.LineValue(b.Line.UnitPrice, b.Line.Discount, b.Line.Tax, b.Line.Quantity, 1, currency).Value;
                var (disposition, channel, share) = ins.Grade switch
                {
                    Grade.New or Grade.LikeNew => (Disposition.Restock, "stock", 0.95m),
                    Grade.Used => (Next() < 0.5 ? Disposition.Refurbish : Disposition.Liquidate, "outlet", 0.45m),
                    Grade.Defective => (b.P.Supplier is not null ? Disposition.ReturnToVendor : Disposition.Recycle, "vendor", 0.6m),
                    _ => (Disposition.Liquidate, "liquidator", 0.2m),
                };
                var expected = Currencies.Round(value * share, currency);
                recovered += expected;
                _chunk.Dispositions.Add(new UnitDisposition
                {
                    MerchantId = merchantId, ReturnId = ret.Id, InspectionId = ins.Id, OrderLineRef = ins.OrderLineRef, Unit = ins.Unit, Sku = b.Line.Sku,
                    Category = b.Line.Category, Grade = ins.Grade, Proposed = disposition, ProposedChannel = channel, Explanation = "generated",
                    State = DispositionState.Confirmed, Final = disposition, Channel = channel, Value = value, ExpectedRecovery = expected, Currency = currency,
                    Supplier = b.P.Supplier, WarehouseCode = warehouse, ConfirmedBy = "warehouse@demo.test", ConfirmedAt = at, CreatedAt = at, UpdatedAt = at,
                });
            }
            return recovered;
        }

        private async Task WriteAsync(IServiceScopeFactory scopes, Chunk chunk, CancellationToken ct)
        {
            FlushTime.Start();
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<TenantContext>().Set(merchantId);
            var db = scope.ServiceProvider.GetRequiredService<RetourDb>();
            try
            {
                using var slot = await db.WriteSlotAsync(ct);
                await db.Database.OpenConnectionAsync(ct);
                await using var tx = await db.Database.BeginTransactionAsync(ct);
                if (db.IsPostgres) await db.Database.ExecuteSqlRawAsync("SET LOCAL synchronous_commit = off", ct);
                await BulkCopy.WriteAsync(db, chunk.Orders, ct);
                await BulkCopy.WriteAsync(db, chunk.OrderLines, ct);
                await BulkCopy.WriteAsync(db, chunk.Returns, ct);
                await BulkCopy.WriteAsync(db, chunk.ReturnLines, ct);
                await BulkCopy.WriteAsync(db, chunk.Refunds, ct);
                await BulkCopy.WriteAsync(db, chunk.Inspections, ct);
                await BulkCopy.WriteAsync(db, chunk.Dispositions, ct);
                await BulkCopy.WriteAsync(db, chunk.Audits, ct);
                await BulkCopy.WriteAsync(db, chunk.Facts, ct);
                _cells += await RollupWriter.MergeAsync(db, merchantId, chunk.Cube, ct);
                await tx.CommitAsync(ct);
                _audits += chunk.Audits.Count;
                Interlocked.Add(ref _written, chunk.Returns.Count);
            }
            finally { FlushTime.Stop(); }
        }
    }
}
