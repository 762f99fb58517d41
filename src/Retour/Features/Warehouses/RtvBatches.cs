using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Money;
using Retour.Core.Returns;
using Retour.Core.Warehouse;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Warehouses;

public sealed record RtvBatchDto(Guid Id, string Supplier, string SupplierName, string Warehouse, RtvBatchState State, DateTimeOffset ClaimDeadline,
    int DaysLeft, bool Warning, int Units, string Value, string Currency, string? ShippedBy, DateTimeOffset? ShippedAt, DateTimeOffset CreatedAt);

public sealed record RecoveryRowDto(string Disposition, string Channel, int Units, string Value, string ExpectedRecovery, string Currency);

/// <summary>
/// Return-to-vendor batches: units for one supplier from one warehouse, claimed together before the earliest claim
/// deadline among them. GET /warehouse/rtv-batches warns when a deadline is the rules' claim_warning_days (7) away or
/// fewer; POST …/{id}/ship closes a batch. GET /warehouse/recovery totals recovered value per channel.
/// </summary>
public static class RtvBatches
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/warehouse/rtv-batches", List).RequireScope(Scopes.WarehouseRead).WithName("ListRtvBatches").WithTags("Warehouse")
            .WithSummary("Supplier (return-to-vendor) batches").WithDescription("state=open (default), shipped or all. Earliest claim deadline first; warning is true when days_left ≤ claim_warning_days.");
        api.MapPost("/warehouse/rtv-batches/{id:guid}/ship", Ship).RequireScope(Scopes.WarehouseWrite).WithName("ShipRtvBatch").WithTags("Warehouse")
            .WithSummary("Mark a supplier batch as sent (the claim is made); new units start a new batch");
        api.MapGet("/warehouse/recovery", Recovery).RequireScope(Scopes.WarehouseRead).WithName("RecoveredValue").WithTags("Warehouse")
            .WithSummary("Recovered value per disposition and channel").WithDescription("Confirmed dispositions between from and to (ISO 8601, by confirmation time).");
    }

    /// <summary>Adds the unit to the supplier's open batch at its warehouse, creating it when there is none; the deadline is the earliest.</summary>
    public static async Task<RtvBatch> JoinAsync(RetourDb db, Supplier supplier, UnitDisposition unit, DateTimeOffset deadline, DateTimeOffset now, CancellationToken ct)
    {
        var batch = db.RtvBatches.Local.FirstOrDefault(b => b.State == RtvBatchState.Open && b.SupplierCode == supplier.Code && b.WarehouseCode == unit.WarehouseCode)
            ?? await db.RtvBatches.FirstOrDefaultAsync(b => b.State == RtvBatchState.Open && b.SupplierCode == supplier.Code && b.WarehouseCode == unit.WarehouseCode, ct);
        if (batch is null)
        {
            batch = new RtvBatch
            {
                SupplierCode = supplier.Code, SupplierName = supplier.Name, WarehouseCode = unit.WarehouseCode, State = RtvBatchState.Open,
                ClaimDeadline = deadline, Currency = unit.Currency, CreatedAt = now, UpdatedAt = now,
            };
            db.RtvBatches.Add(batch);
        }
        if (deadline < batch.ClaimDeadline) batch.ClaimDeadline = deadline;
        batch.Units++;
        batch.Value += unit.ExpectedRecovery ?? unit.Value;
        batch.UpdatedAt = now;
        return batch;
    }

    public static async Task<Results<Ok<IReadOnlyList<RtvBatchDto>>, ProblemHttpResult>> List(RetourDb db, TimeProvider clock, CancellationToken ct, string? state = null)
    {
        state ??= "open";
        if (state is not ("open" or "shipped" or "all")) return Problems.Validation("state", "Use open, shipped or all.");
        var rules = await WarehouseRulesEndpoints.LoadAsync(db, ct);
        var q = db.RtvBatches.AsNoTracking();
        if (state != "all") q = q.Where(b => b.State == (state == "open" ? RtvBatchState.Open : RtvBatchState.Shipped));
        var rows = await q.OrderBy(b => b.ClaimDeadline).Take(500).ToListAsync(ct);
        var now = clock.GetUtcNow();
        return TypedResults.Ok<IReadOnlyList<RtvBatchDto>>([.. rows.Select(b => Dto(b, rules, now))]);
    }

    private static RtvBatchDto Dto(RtvBatch b, WarehouseRules rules, DateTimeOffset now) => new(b.Id, b.SupplierCode, b.SupplierName, b.WarehouseCode, b.State,
        b.ClaimDeadline, ClaimWindow.DaysLeft(b.ClaimDeadline, now), b.State == RtvBatchState.Open && ClaimWindow.Warn(b.ClaimDeadline, now, rules.ClaimWarningDays),
        b.Units, Currencies.Format(b.Value, b.Currency), b.Currency, b.ShippedBy, b.ShippedAt, b.CreatedAt);

    public static async Task<Results<Ok<RtvBatchDto>, ProblemHttpResult>> Ship(Guid id, HttpContext http, RetourDb db, TimeProvider clock, CancellationToken ct)
    {
        var b = await db.RtvBatches.FirstOrDefaultAsync(x => x.Id == id, ct);
        if (b is null) return Problems.NotFound($"There is no supplier batch '{id}'.");
        var now = clock.GetUtcNow();
        if (b.State == RtvBatchState.Open)
        {
            var actor = Actor.From(http.User);
            b.State = RtvBatchState.Shipped;
            b.ShippedAt = now;
            b.ShippedBy = actor.Name;
            b.UpdatedAt = now;
            db.AuditEvents.Add(new AuditEvent
            {
                EntityType = "rtv_batch", EntityId = b.Id, Action = "rtv_batch_shipped", FromState = "open", ToState = "shipped", ActorType = actor.Type,
                ActorId = actor.Id, ActorName = actor.Name, Reason = $"{b.Units} units to {b.SupplierName}", OccurredAt = now,
            });
            db.Publish("rtv_batch.shipped", new { batch_id = b.Id, supplier = b.SupplierCode, warehouse = b.WarehouseCode, b.Units, value = Currencies.Format(b.Value, b.Currency), currency = b.Currency }, now);
            try { await db.SaveChangesAsync(ct); }
            catch (DbUpdateConcurrencyException) { return Problems.Result(409, "concurrent_update", "The batch changed meanwhile", "A unit joined it or it was shipped. Read it again."); }
        }
        return TypedResults.Ok(Dto(b, await WarehouseRulesEndpoints.LoadAsync(db, ct), now));
    }

    public static async Task<Results<Ok<IReadOnlyList<RecoveryRowDto>>, ProblemHttpResult>> Recovery(RetourDb db, CancellationToken ct, string? from = null, string? to = null)
    {
        var errors = new List<FieldError>();
        var since = Cursor.Time(from, "from", errors);
        var until = Cursor.Time(to, "to", errors);
        if (errors.Count > 0) return Problems.Validation(errors);
        var q = db.UnitDispositions.AsNoTracking().Where(d => d.State == DispositionState.Confirmed);
        if (since is { } s) q = q.Where(d => d.ConfirmedAt >= s);
        if (until is { } u) q = q.Where(d => d.ConfirmedAt < u);
        // Amounts are summed in memory: SQLite cannot SUM decimals stored as text exactly.
        var rows = await q.Select(d => new { d.Final, d.Channel, d.Value, d.ExpectedRecovery, d.Currency }).ToListAsync(ct);
        return TypedResults.Ok<IReadOnlyList<RecoveryRowDto>>([.. rows.GroupBy(r => (r.Final, r.Channel, r.Currency))
            .Select(g => new RecoveryRowDto(Codes.Of(g.Key.Final!.Value), g.Key.Channel!, g.Count(), Currencies.Format(g.Sum(x => x.Value), g.Key.Currency),
                Currencies.Format(g.Sum(x => x.ExpectedRecovery ?? 0), g.Key.Currency), g.Key.Currency))
            .OrderByDescending(r => decimal.Parse(r.ExpectedRecovery, System.Globalization.CultureInfo.InvariantCulture))]);
    }
}
