using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Money;
using Retour.Core.Returns;
using Retour.Core.Warehouse;
using Retour.Features.Catalog;
using Retour.Features.Policies;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Warehouses;

public sealed record DispositionChoice(Guid? Id, string? Disposition, string? Channel, string? Reason);

public sealed record DispositionInput(List<DispositionChoice?>? Units);

/// <summary>
/// POST /api/v1/returns/{id}/dispositions: the operator confirms each unit's proposal, or overrides it with a reason.
/// Without units, every open proposal is confirmed. Each confirmation has its effect: restock raises inventory.adjusted
/// (and the catalogue's stock), return-to-vendor joins the supplier's open batch, liquidation records its expected recovery.
/// </summary>
public static class ConfirmDispositions
{
    public static void Map(RouteGroupBuilder api) =>
        api.MapPost("/returns/{idOrRma}/dispositions", Confirm).RequireScope(Scopes.WarehouseWrite).WithName("ConfirmDispositions").WithTags("Warehouse")
            .WithSummary("Confirm or override the proposed dispositions")
            .WithDescription("Body: {\"units\": [{\"id\": \"<disposition id>\", \"disposition\": \"liquidate\", \"channel\": \"b2b_auction\", \"reason\": \"…\"}]}; " +
                             "leave disposition out to confirm the proposal; a different disposition needs a reason. Without units every open proposal is confirmed. " +
                             "return_to_vendor needs a product supplier listed in the warehouse rules.");

    public static async Task<IResult> Confirm(string idOrRma, HttpContext http, RetourDb db, IdempotencyScope idem, TimeProvider clock, CancellationToken ct)
    {
        var (input, problem) = await http.Request.ReadStrictJsonAsync<DispositionInput>("", ct, optional: true);
        if (problem is not null) return problem;
        // A confirmation that lost a race to another change of the return (a refund resolving it at that moment), with
        // its units still open, runs again from a fresh read.
        return await FreshRead.RetryAsync(db, () => ConfirmOnceAsync(idOrRma, input, http, db, idem, clock, ct),
            "The return kept changing", "Read the return again and confirm what is still open.");
    }

    private static async Task<IResult?> ConfirmOnceAsync(string idOrRma, DispositionInput? input, HttpContext http, RetourDb db, IdempotencyScope idem, TimeProvider clock,
        CancellationToken ct)
    {
        var ret = await ReadReturns.FindAsync(db.Returns, idOrRma, ct);
        if (ret is null) return Problems.NotFound($"There is no return '{idOrRma}'.");
        var all = await db.UnitDispositions.Where(d => d.ReturnId == ret.Id).OrderBy(d => d.OrderLineRef).ThenBy(d => d.Unit).ToListAsync(ct);
        var rules = await WarehouseRulesEndpoints.LoadAsync(db, ct);
        var errors = new List<FieldError>();
        var chosen = new List<(UnitDisposition Unit, Disposition Final, string Channel, string? Reason)>();
        if (input?.Units is { Count: > 0 } units)
        {
            for (var i = 0; i < units.Count; i++)
            {
                var path = $"units[{i}]";
                var u = units[i];
                var d = u?.Id is { } id ? all.FirstOrDefault(x => x.Id == id) : null;
                if (d is null) { errors.Add(new($"{path}.id", "Not a disposition of this return (see dispositions on GET /returns/{id}).")); continue; }
                if (d.State == DispositionState.Confirmed) { errors.Add(new($"{path}.id", $"Unit {d.Unit} of line {d.OrderLineRef} is confirmed already ({Codes.Of(d.Final!.Value)}).")); continue; }
                var final = d.Proposed;
                if (u!.Disposition is not null && !Codes.TryParse(u.Disposition, out final))
                { errors.Add(new($"{path}.disposition", $"Use one of: {string.Join(", ", Codes.All<Disposition>())}.")); continue; }
                var reason = u.Reason?.Trim();
                if (final != d.Proposed && string.IsNullOrEmpty(reason))
                    errors.Add(new($"{path}.reason", $"Say why {Codes.Of(final)} instead of the proposed {Codes.Of(d.Proposed)}; the audit trail keeps it."));
                if (reason is { Length: > 2000 }) errors.Add(new($"{path}.reason", "At most 2000 characters."));
                var channel = u.Channel?.Trim() ?? (final == d.Proposed ? d.ProposedChannel : Dispositions.DefaultChannel(final));
                if (!System.Text.RegularExpressions.Regex.IsMatch(channel, "^[a-z][a-z0-9_]{0,63}$"))
                    errors.Add(new($"{path}.channel", "Channels are codes: lower-case letters, digits and underscores."));
                if (final == Disposition.ReturnToVendor && rules.SupplierOf(d.Supplier) is null)
                    errors.Add(new($"{path}.disposition", d.Supplier is null
                        ? "This product has no supplier in the catalogue, so it cannot go back to one."
                        : $"Supplier '{d.Supplier}' is not in the warehouse rules (suppliers), so its claim window is unknown."));
                if (chosen.Any(c => c.Unit.Id == d.Id)) errors.Add(new($"{path}.id", "This unit appears twice."));
                chosen.Add((d, final, channel, reason));
            }
        }
        else
        {
            foreach (var d in all.Where(x => x.State == DispositionState.Proposed))
            {
                if (d.Proposed == Disposition.ReturnToVendor && rules.SupplierOf(d.Supplier) is null)
                    errors.Add(new("units", $"Unit {d.Unit} of line {d.OrderLineRef}: supplier '{d.Supplier}' is not in the warehouse rules; choose its disposition explicitly."));
                chosen.Add((d, d.Proposed, d.ProposedChannel, null));
            }
            if (chosen.Count == 0 && errors.Count == 0)
                return Problems.Result(409, "nothing_to_confirm", "Nothing to confirm",
                    all.Count == 0 ? $"Return {ret.Rma} has no inspected units yet." : $"Every unit of return {ret.Rma} has its disposition.");
        }
        if (errors.Count > 0) return Problems.Validation(errors);

        var now = clock.GetUtcNow();
        var actor = Actor.From(http.User);
        // The stock update runs as its own statement: in one transaction with the rest, so a 409 below undoes it too.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var soldAt = await db.Orders.AsNoTracking().Where(o => o.Id == ret.OrderId).Select(o => o.DeliveredAt ?? o.PlacedAt).FirstAsync(ct);
        var costs = await CostsAsync(db, chosen.Select(c => c.Unit.Sku), ct);
        foreach (var (d, final, channel, reason) in chosen)
        {
            d.State = DispositionState.Confirmed;
            d.Final = final;
            d.Channel = channel;
            d.OverrideReason = final == d.Proposed ? null : reason;
            d.ConfirmedBy = actor.Name;
            d.ConfirmedAt = now;
            d.UpdatedAt = now;
            d.ExpectedRecovery = Dispositions.ExpectedRecovery(rules, final, d.Grade, d.Value, d.Sku is null ? null : costs.GetValueOrDefault(d.Sku), d.Currency);
            switch (final)
            {
                case Disposition.Restock:
                    if (d.Sku is { } sku)
                        await db.Products.Where(p => p.Sku == sku).ExecuteUpdateAsync(s => s.SetProperty(p => p.Stock, p => p.Stock + 1).SetProperty(p => p.UpdatedAt, now), ct);
                    db.Publish("inventory.adjusted", new { sku = d.Sku, warehouse = d.WarehouseCode, quantity = 1, reason = "return_restock", return_id = ret.Id, ret.Rma, disposition_id = d.Id }, now);
                    break;
                case Disposition.ReturnToVendor:
                    var supplier = rules.SupplierOf(d.Supplier)!;
                    d.RtvBatchId = (await RtvBatches.JoinAsync(db, supplier, d, ClaimWindow.Deadline(soldAt, supplier.ClaimDays), now, ct)).Id;
                    break;
            }
            db.AuditEvents.Add(new AuditEvent
            {
                EntityType = "return", EntityId = ret.Id, Action = final == d.Proposed ? "disposition_confirmed" : "disposition_overridden",
                FromState = Codes.Of(d.Proposed), ToState = Codes.Of(final), ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name,
                Reason = d.OverrideReason ?? $"{d.OrderLineRef} unit {d.Unit} → {Codes.Of(final)} via {channel}",
                DataJson = Json.Serialize(new { disposition_id = d.Id, d.Sku, channel, expected_recovery = d.ExpectedRecovery, rtv_batch_id = d.RtvBatchId }), OccurredAt = now,
            });
            db.Publish("disposition.confirmed", new { disposition_id = d.Id, return_id = ret.Id, ret.Rma, d.Sku, disposition = Codes.Of(final), channel, warehouse = d.WarehouseCode,
                expected_recovery = d.ExpectedRecovery is { } r ? Currencies.Format(r, d.Currency) : null, currency = d.Currency }, now);
        }
        ret.Touch(now);
        await CloseIfDoneAsync(db, ret, actor, now, ct, all);
        try
        {
            var result = await db.CommitAsync(idem, TypedResults.Ok(all.Select(DispositionDto.From).ToList()), now, ct);
            await tx.CommitAsync(ct);
            return result;
        }
        catch (Exception e) when (e is DbUpdateConcurrencyException || DbErrors.IsTransient(e) || (e is DbUpdateException u && DbErrors.IsUniqueViolation(u, "rtv_batches")))
        {
            await tx.RollbackAsync(CancellationToken.None);
            db.ChangeTracker.Clear();
            var ids = chosen.Select(c => c.Unit.Id).ToList();
            if (e is DbUpdateConcurrencyException &&
                await db.UnitDispositions.AsNoTracking().CountAsync(d => ids.Contains(d.Id) && d.State == DispositionState.Proposed, ct) == ids.Count)
                return null; // the return changed, not these units: the caller confirms again
            return Problems.Result(409, "concurrent_update", "Someone confirmed these units meanwhile", "Read the return again and confirm what is still open.");
        }
    }

    private static async Task<Dictionary<string, decimal>> CostsAsync(RetourDb db, IEnumerable<string?> skus, CancellationToken ct)
    {
        var list = skus.Where(s => s != null).Cast<string>().Distinct().ToList();
        return await db.Products.AsNoTracking().Where(p => list.Contains(p.Sku) && p.Cost != null).ToDictionaryAsync(p => p.Sku, p => p.Cost!.Value, ct);
    }

    /// <summary>A resolved return closes when every inspected unit has its confirmed disposition (units that never arrived need none).</summary>
    public static async Task CloseIfDoneAsync(RetourDb db, Return ret, Actor actor, DateTimeOffset now, CancellationToken ct, List<UnitDisposition>? loaded = null)
    {
        if (ret.Status != ReturnStatus.Resolved) return;
        var open = loaded is not null
            ? loaded.Any(d => d.State != DispositionState.Confirmed)
            : await db.UnitDispositions.AnyAsync(d => d.ReturnId == ret.Id && d.State != DispositionState.Confirmed, ct);
        if (!open) await ReturnTransitions.MoveAsync(db, ret, ReturnStatus.Closed, actor, "every unit has its final disposition", now, ct);
    }
}
