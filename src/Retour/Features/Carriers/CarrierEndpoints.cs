using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Addresses;
using Retour.Core.Logistics;
using Retour.Core.Returns;
using Retour.Features.Policies;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Carriers;

public sealed record ScorecardDto(
    string Carrier, string? Name, int Days, int Shipments, int PickupShipments, decimal? PickupSuccessRate, decimal? FirstAttemptRate,
    decimal? NdrRate, decimal? RecoveryRate, double? AvgTransitHours, int? PromisedHours, decimal? OnTimeRate, decimal? DamageRate,
    decimal PerformanceScore, CarrierScore Counts);

/// <summary>POST /allocation/preview: which carrier would take a parcel from this address, and why.</summary>
public sealed record PreviewAddress(string? Country, string? PostalCode);

public sealed record AllocationPreviewRequest(string? Service, PreviewAddress? Address, int? Grams, IReadOnlyList<string>? Categories, string? PickupDate, string? Carrier, string? Key);

public static class CarrierEndpoints
{
    /// <summary>A registry is a handful of carriers; the cap keeps lists and allocation bounded.</summary>
    public const int MaxCarriers = 200;

    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/carriers", List).RequireScope(Scopes.CarriersRead).WithName("ListCarriers").WithTags("Carriers")
            .WithSummary("The carrier registry, active and inactive, by code");
        api.MapGet("/carriers/scorecard", Scorecard).RequireScope(Scopes.CarriersRead).WithName("GetCarrierScorecard").WithTags("Carriers")
            .WithSummary("Measured performance per carrier over the last days (default 30)")
            .WithDescription("From Retour's own tracking data: pickup success and first-attempt success, failed-pickup (NDR) and recovery rates, average transit hours against the promise, on-time rate and damage rate. performance_score is what allocation uses, with a prior for carriers with little data.");
        api.MapGet("/carriers/{code}", Get).RequireScope(Scopes.CarriersRead).WithName("GetCarrier").WithTags("Carriers");
        api.MapPost("/carriers", Create).RequireScope(Scopes.CarriersWrite).WithName("CreateCarrier").WithTags("Carriers")
            .Accepts<CarrierInput>("application/json")
            .WithSummary("Add a carrier to the registry")
            .WithDescription("Body: code, name, adapter (default sandbox), services (pickup, drop_off, box_free), areas [{country, postal_codes: [\"10000..19999\", \"8*\"]}] (none: everywhere), rate_card {currency, zones [{code, areas}], bands [{max_grams, prices {zone: amount}}]}, transit_days, daily_capacity (none: no limit), pickup_cutoff (HH:mm, shop time), adapter_options, active. 409 when the code exists.");
        api.MapPut("/carriers/{code}", Put).RequireScope(Scopes.CarriersWrite).WithName("PutCarrier").WithTags("Carriers")
            .Accepts<CarrierInput>("application/json")
            .WithSummary("Create or replace a carrier (a GET answer can be edited and sent back)");
        api.MapDelete("/carriers/{code}", Delete).RequireScope(Scopes.CarriersWrite).WithName("DeleteCarrier").WithTags("Carriers")
            .WithSummary("Remove a carrier that never shipped; one with shipments is deactivated instead (active false)");
        api.MapGet("/allocation", GetAllocation).RequireScope(Scopes.CarriersRead).WithName("GetAllocationSettings").WithTags("Carriers");
        api.MapPut("/allocation", PutAllocation).RequireScope(Scopes.CarriersWrite).WithName("PutAllocationSettings").WithTags("Carriers")
            .Accepts<AllocationSettings>("application/json")
            .WithSummary("Set the allocation weights and rules")
            .WithDescription("Body: {\"weights\": {\"cost\": 0.4, \"speed\": 0.3, \"performance\": 0.3}, \"rules\": [{\"type\": \"pin\" | \"exclude\" | \"split\", \"country\", \"postal_codes\", \"category\", \"service\", \"carrier\", \"shares\": {\"dhl\": 70, \"ups\": 30}}], \"default_unit_grams\": 1000}. The shopper's own choice of carrier comes first, then the first matching pin, then the first matching split, then the best score; exclude rules remove a carrier wherever they match.");
        api.MapPost("/allocation/preview", Preview).RequireScope(Scopes.CarriersRead).WithName("PreviewAllocation").WithTags("Carriers")
            .WithSummary("Which carrier would take a parcel, with every candidate's score and every exclusion, without booking");
        api.MapGet("/returns/{idOrRma}/label", Label).RequireScope(Scopes.ReturnsRead).WithName("GetReturnLabel").WithTags("Returns")
            .WithSummary("The return label as an A6 PDF (the same one the shopper downloads)");
    }

    public static async Task<IResult> Label(string idOrRma, RetourDb db, MerchantDirectory merchants, LogisticsDirectory logistics, CancellationToken ct)
    {
        var ret = await ReadReturns.FindAsync(db.Returns.AsNoTracking().Include(r => r.Lines), idOrRma, ct);
        if (ret is null) return Problems.NotFound($"There is no return '{idOrRma}'.");
        if (ret.Method is not (ReturnMethod.Pickup or ReturnMethod.DropOff) || ret.BoxFree)
            return Problems.NotFound($"Return {ret.Rma} has no label: {(ret.BoxFree ? "a box-free drop-off shows a QR code instead" : $"method '{Codes.Of(ret.Method)}' ships no parcel")}.");
        var merchant = await merchants.GetAsync(db.Tenant.MerchantId, ct) ?? throw new InvalidOperationException("No merchant.");
        var pdf = await ReturnLabels.RenderAsync(db, merchant, await logistics.GetAsync(merchant.Id, ct), ret, ct);
        return Results.File(pdf, "application/pdf", $"return-label-{ret.Rma}.pdf");
    }

    public static async Task<Ok<List<CarrierDto>>> List(RetourDb db, CancellationToken ct)
    {
        var rows = await db.Carriers.AsNoTracking().OrderBy(c => c.Code).Take(MaxCarriers).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(CarrierDto.From).ToList());
    }

    public static async Task<Results<Ok<CarrierDto>, ProblemHttpResult>> Get(string code, RetourDb db, CancellationToken ct) =>
        await db.Carriers.AsNoTracking().FirstOrDefaultAsync(c => c.Code == code, ct) is { } c
            ? TypedResults.Ok(CarrierDto.From(c))
            : Problems.NotFound($"There is no carrier '{code}'.");

    private static async Task<(CarrierInput? Input, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            var input = await JsonSerializer.DeserializeAsync<CarrierInput>(request.Body, PolicyBook.StrictJson, ct);
            return input is null ? (null, Problems.Validation("body", "Send the carrier as a JSON object.")) : (input, null);
        }
        catch (JsonException e)
        {
            return (null, Problems.Validation(e.Path is { Length: > 2 } p ? p.TrimStart('$', '.') : "body", e.Message));
        }
    }

    public static async Task<Results<Created<CarrierDto>, ProblemHttpResult>> Create(
        HttpContext http, RetourDb db, CarrierAdapters adapters, LogisticsDirectory logistics, TimeProvider clock, CancellationToken ct)
    {
        var (input, problem) = await ReadAsync(http.Request, ct);
        if (problem is not null) return problem;
        if (input!.Code is { } code && await db.Carriers.AnyAsync(c => c.Code == code.Trim(), ct))
            return Problems.Result(StatusCodes.Status409Conflict, "carrier_exists", "The carrier exists", $"There is already a carrier '{code}'; PUT /api/v1/carriers/{code} replaces it.");
        return await SaveAsync(http, db, adapters, logistics, clock, input, null, ct) switch
        {
            (var dto, null) => TypedResults.Created($"/api/v1/carriers/{dto!.Code}", dto),
            (_, var p) => p,
        };
    }

    public static async Task<Results<Ok<CarrierDto>, Created<CarrierDto>, ProblemHttpResult>> Put(
        string code, HttpContext http, RetourDb db, CarrierAdapters adapters, LogisticsDirectory logistics, TimeProvider clock, CancellationToken ct)
    {
        var (input, problem) = await ReadAsync(http.Request, ct);
        if (problem is not null) return problem;
        if (input!.Code is { } named && named.Trim() != code)
            return Problems.Validation("code", $"The body names carrier '{named}' but the URL names '{code}'; a code cannot be renamed.");
        var existing = await db.Carriers.FirstOrDefaultAsync(c => c.Code == code, ct);
        return await SaveAsync(http, db, adapters, logistics, clock, input with { Code = code }, existing, ct) switch
        {
            (var dto, null) when existing is null => TypedResults.Created($"/api/v1/carriers/{dto!.Code}", dto),
            (var dto, null) => TypedResults.Ok(dto!),
            (_, var p) => p,
        };
    }

    private static async Task<(CarrierDto?, ProblemHttpResult?)> SaveAsync(
        HttpContext http, RetourDb db, CarrierAdapters adapters, LogisticsDirectory logistics, TimeProvider clock,
        CarrierInput input, Carrier? existing, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (existing is null && await db.Carriers.CountAsync(ct) >= MaxCarriers)
            return (null, Problems.Validation("code", $"A merchant can have at most {MaxCarriers} carriers; deactivate or delete one first."));
        var target = existing ?? new Carrier { Code = "", Name = "", CreatedAt = now };
        var errors = CarrierRegistry.Apply(input, target, adapters, now);
        if (errors.Count > 0) return (null, Problems.Validation(errors));
        if (existing is null) db.Carriers.Add(target);
        Audit(db, http, target.Id, existing is null ? "carrier_created" : "carrier_updated", target.Code, now);
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e))
        {
            return (null, Problems.Result(StatusCodes.Status409Conflict, "carrier_exists", "The carrier exists", $"Carrier '{target.Code}' was created at the same moment; send the request again to replace it."));
        }
        logistics.Forget(db.Tenant.MerchantId);
        return (CarrierDto.From(target), null);
    }

    public static async Task<Results<NoContent, Ok<CarrierDto>, ProblemHttpResult>> Delete(
        string code, HttpContext http, RetourDb db, LogisticsDirectory logistics, TimeProvider clock, CancellationToken ct)
    {
        var carrier = await db.Carriers.FirstOrDefaultAsync(c => c.Code == code, ct);
        if (carrier is null) return Problems.NotFound($"There is no carrier '{code}'.");
        var now = clock.GetUtcNow();
        var used = await db.Shipments.AnyAsync(s => s.CarrierCode == code, ct) || await db.Returns.AnyAsync(r => r.CarrierCode == code, ct);
        if (used)
        {
            carrier.Active = false;
            carrier.UpdatedAt = now;
        }
        else db.Carriers.Remove(carrier);
        Audit(db, http, carrier.Id, used ? "carrier_deactivated" : "carrier_deleted", code, now);
        await db.SaveChangesAsync(ct);
        logistics.Forget(db.Tenant.MerchantId);
        // A carrier that shipped stays for its history and scorecard: deleting it deactivates it.
        return used ? TypedResults.Ok(CarrierDto.From(carrier)) : TypedResults.NoContent();
    }

    public static async Task<Results<Ok<List<ScorecardDto>>, ProblemHttpResult>> Scorecard(string? days, RetourDb db, CarrierStats stats, CancellationToken ct)
    {
        var window = CarrierStats.DefaultDays;
        if (days is not null && (!int.TryParse(days, out window) || window is < 1 or > 365))
            return Problems.Validation("days", "Use a number of days from 1 to 365.");
        var cards = await stats.ComputeAsync(db, window, ct);
        var carriers = await db.Carriers.AsNoTracking().OrderBy(c => c.Code).ToListAsync(ct);
        var codes = carriers.Select(c => c.Code).Union(cards.Keys).Order(StringComparer.Ordinal);
        return TypedResults.Ok(codes.Select(code =>
        {
            var card = cards.GetValueOrDefault(code) ?? new CarrierScore(code, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null);
            var carrier = carriers.FirstOrDefault(c => c.Code == code);
            var service = carrier?.Services.Contains("pickup") == true ? "pickup" : "drop_off";
            return new ScorecardDto(code, carrier?.Name, window, card.Shipments, card.PickupShipments, card.PickupSuccessRate, card.FirstAttemptRate,
                card.NdrRate, card.RecoveryRate, card.AvgTransitHours, carrier is null ? null : carrier.TransitDays * 24, card.OnTimeRate, card.DamageRate,
                card.Performance.Score(service), card);
        }).ToList());
    }

    public static async Task<Ok<AllocationSettings>> GetAllocation(RetourDb db, CancellationToken ct) =>
        TypedResults.Ok(await SettingsAsync(db, ct));

    public static async Task<AllocationSettings> SettingsAsync(RetourDb db, CancellationToken ct)
    {
        var json = await db.Merchants.AsNoTracking().Where(m => m.Id == db.Tenant.MerchantId).Select(m => m.AllocationJson).FirstOrDefaultAsync(ct);
        return json is null ? AllocationSettings.Default : JsonSerializer.Deserialize<AllocationSettings>(json, Json.Options) ?? AllocationSettings.Default;
    }

    public static async Task<Results<Ok<AllocationSettings>, ProblemHttpResult>> PutAllocation(HttpContext http, RetourDb db, TimeProvider clock, CancellationToken ct)
    {
        var (settings, problem) = await http.Request.ReadStrictJsonAsync<AllocationSettings>("Send the settings as a JSON object.", ct);
        if (settings is null) return problem!;
        var codes = await db.Carriers.AsNoTracking().Select(c => c.Code).ToListAsync(ct);
        var errors = settings.Validate(codes.ToHashSet(StringComparer.Ordinal));
        if (errors.Count > 0) return Problems.Validation(errors);
        var merchant = await db.Merchants.FirstAsync(m => m.Id == db.Tenant.MerchantId, ct);
        merchant.AllocationJson = Json.Serialize(settings);
        Audit(db, http, merchant.Id, "allocation_settings_changed", $"{settings.Rules.Count} rule(s); weights cost {settings.Weights.Cost}, speed {settings.Weights.Speed}, performance {settings.Weights.Performance}", clock.GetUtcNow());
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(settings);
    }

    public static async Task<Results<Ok<AllocationDecision>, ProblemHttpResult>> Preview(
        AllocationPreviewRequest? request, RetourDb db, MerchantDirectory merchants, CarrierStats stats, LogisticsDirectory logistics, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        var service = request?.Service ?? "pickup";
        if (!CarrierProfile.AllServices.Contains(service)) errors.Add(new("service", "Use pickup, drop_off or box_free."));
        if (request?.Address?.Country is null) errors.Add(new("address.country", "Give at least the country of the address the parcel leaves from."));
        if (request?.Grams is < 1 or > 1_000_000) errors.Add(new("grams", "Use a weight from 1 to 1000000 grams."));
        DateOnly? pickup = null;
        if (request?.PickupDate is { } pd)
        {
            if (DateOnly.TryParseExact(pd, "yyyy-MM-dd", out var d)) pickup = d;
            else errors.Add(new("pickup_date", "Use the date format YYYY-MM-DD."));
        }
        if (errors.Count > 0) return Problems.Validation(errors);
        var merchant = await merchants.GetAsync(db.Tenant.MerchantId, ct) ?? throw new InvalidOperationException("No merchant.");
        var from = new PostalAddress(null, null, null, null, null, request!.Address!.PostalCode, request.Address.Country!.ToUpperInvariant());
        var input = await Allocation.InputsAsync(db, stats, logistics, merchant, clock, ct);
        var req = new AllocationRequest(request.Key ?? "preview", service, from, input.WarehouseCountry, request.Grams ?? input.Settings.DefaultUnitGrams,
            request.Categories ?? [], pickup, input.LocalNow, merchant.Currency, request.Carrier);
        return TypedResults.Ok(CarrierAllocator.Allocate(req, input.Carriers, input.Settings, input.BookedToday, input.Performance));
    }

    private static void Audit(RetourDb db, HttpContext http, Guid entityId, string action, string? reason, DateTimeOffset at)
    {
        var actor = Actor.From(http.User);
        db.AuditEvents.Add(new AuditEvent
        {
            EntityType = action.StartsWith("allocation", StringComparison.Ordinal) ? "merchant" : "carrier", EntityId = entityId, Action = action,
            ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name, Reason = reason, OccurredAt = at,
        });
    }
}
