using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Returns;
using Retour.Features.Carriers;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Warehouses;

public sealed record ReceiptInput(string? Code, string? Warehouse);

public sealed record UnmatchedParcelDto(Guid Id, string Code, string Warehouse, int Scans, string? ReceivedBy, DateTimeOffset ReceivedAt,
    string? Notes, Guid? MatchedReturnId, string? MatchedRma, string? MatchedBy, DateTimeOffset? MatchedAt)
{
    public static UnmatchedParcelDto From(UnmatchedParcel p) =>
        new(p.Id, p.Code, p.WarehouseCode, p.Scans, p.ReceivedBy, p.ReceivedAt, p.Notes, p.MatchedReturnId, p.MatchedRma, p.MatchedBy, p.MatchedAt);
}

/// <summary>What a scan found: the return (now received) or the unmatched-parcel record it made.</summary>
public sealed record ReceiptDto(bool Matched, bool AlreadyReceived, string Code, string? MatchedOn, string Warehouse,
    ReturnStatus? Status, ReturnDto? Return, UnmatchedParcelDto? UnmatchedParcel);

public sealed record MatchInput(string? Return);

/// <summary>
/// POST /api/v1/warehouse/receipts: a scanned code (RMA, the label's QR payload or a tracking number) moves the return to
/// received. Scanning it again answers the same return (already_received). A code nobody knows becomes an unmatched
/// parcel, which staff match to a return later (POST /warehouse/unmatched/{id}/match) — a parcel is never lost.
/// </summary>
public static class ReceiveParcel
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/warehouse/receipts", Receive).RequireScope(Scopes.WarehouseWrite).WithName("ReceiveParcel").WithTags("Warehouse")
            .WithSummary("Scan a parcel in at the warehouse")
            .WithDescription("Body: {\"code\": \"<RMA, QR payload (RETOUR:R-…) or tracking number>\", \"warehouse\": \"<warehouse code; default: the default warehouse>\"}. " +
                             "200 with the matched return (already_received true on a repeated scan), 201 with a new unmatched-parcel record, " +
                             "409 when the return cannot be received in its status (for example cancelled).");
        api.MapGet("/warehouse/unmatched", List).RequireScope(Scopes.WarehouseRead).WithName("ListUnmatchedParcels").WithTags("Warehouse")
            .WithSummary("Parcels whose code matched no return").WithDescription("state=open (default) or matched or all; newest first, cursor paging.");
        api.MapPost("/warehouse/unmatched/{id:guid}/match", Match).RequireScope(Scopes.WarehouseWrite).WithName("MatchUnmatchedParcel").WithTags("Warehouse")
            .WithSummary("Match an unmatched parcel to its return").WithDescription("Body: {\"return\": \"<RMA or id>\"}. Receives the return as a scan would.");
    }

    public static Task<IResult> Receive(ReceiptInput? input, HttpContext http, RetourDb db, IdempotencyScope idem, TimeProvider clock, CancellationToken ct) =>
        // A scan that lost a race to another change of the return (its label booked at that moment) runs again.
        FreshRead.RetryAsync(db, () => ReceiveOnceAsync(input, http, db, idem, clock, ct), "The return changed while it was being received", "Scan the parcel again.");

    private static async Task<IResult?> ReceiveOnceAsync(ReceiptInput? input, HttpContext http, RetourDb db, IdempotencyScope idem, TimeProvider clock, CancellationToken ct)
    {
        var code = input?.Code?.Trim();
        if (string.IsNullOrEmpty(code)) return Problems.Validation("code", "Scan or type the RMA, the label's QR code or the tracking number.");
        if (code.Length > 200) return Problems.Validation("code", "At most 200 characters.");
        var (warehouse, error) = await WarehouseAsync(db, input!.Warehouse, ct);
        if (error is not null) return error;
        var now = clock.GetUtcNow();
        var actor = Actor.From(http.User);

        var (ret, on) = await FindAsync(db, code, ct);
        if (ret is null)
        {
            var parcel = await db.UnmatchedParcels.FirstOrDefaultAsync(p => p.Code == code, ct);
            if (parcel is not null)
            {
                parcel.Scans++;
                parcel.UpdatedAt = now;
                await SaveQuietlyAsync(db, ct);
                return TypedResults.Ok(new ReceiptDto(false, true, code, null, parcel.WarehouseCode, null, null, UnmatchedParcelDto.From(parcel)));
            }
            parcel = new UnmatchedParcel { Code = code, WarehouseCode = warehouse, ReceivedBy = actor.Name, ReceivedAt = now, UpdatedAt = now };
            db.UnmatchedParcels.Add(parcel);
            db.AuditEvents.Add(new AuditEvent
            {
                EntityType = "parcel", EntityId = parcel.Id, Action = "unmatched_parcel_received", ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name,
                DataJson = Json.Serialize(new { code, warehouse }), OccurredAt = now,
            });
            db.Publish("warehouse.unmatched_parcel", new { parcel.Id, code, warehouse, received_at = now }, now);
            try
            {
                var dto = new ReceiptDto(false, false, code, null, warehouse, null, null, UnmatchedParcelDto.From(parcel));
                return await db.CommitAsync(idem, TypedResults.Created($"/api/v1/warehouse/unmatched/{parcel.Id}", dto), now, ct);
            }
            catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e, "unmatched_parcels"))
            {
                db.ChangeTracker.Clear();
                var first = await db.UnmatchedParcels.AsNoTracking().FirstAsync(p => p.Code == code, ct);
                return TypedResults.Ok(new ReceiptDto(false, true, code, null, first.WarehouseCode, null, null, UnmatchedParcelDto.From(first)));
            }
        }
        return await ReceiveAsync(db, idem, ret, code, on!, warehouse, actor, now, ct);
    }

    /// <summary>Moves the return to received (audited, announced) or says it already was; 409 when its status does not allow it.</summary>
    private static async Task<IResult?> ReceiveAsync(RetourDb db, IdempotencyScope idem, Return ret, string code, string on, string warehouse, Actor actor,
        DateTimeOffset now, CancellationToken ct)
    {
        if (ret.ReceivedAt is not null || ret.Status is ReturnStatus.Received or ReturnStatus.Inspected or ReturnStatus.Resolved or ReturnStatus.Closed)
        {
            if (db.ChangeTracker.HasChanges()) await db.SaveChangesAsync(ct); // a staff match of a parcel whose return was received meanwhile
            return TypedResults.Ok(new ReceiptDto(true, true, code, on, ret.WarehouseCode ?? warehouse, ret.Status, ReturnDto.From(ret), null));
        }
        if (!Lifecycle.CanMove(ret.Status, ReturnStatus.Received))
            return Problems.Result(409, "not_receivable", "This return cannot be received",
                $"Return {ret.Rma} is '{Codes.Of(ret.Status)}'. Set the parcel aside and tell support: " + Lifecycle.Refusal(ret.Status, ReturnStatus.Received),
                new Dictionary<string, object?> { ["rma"] = ret.Rma, ["current_status"] = Codes.Of(ret.Status) });
        await ReturnTransitions.MoveAsync(db, ret, ReturnStatus.Received, actor, $"scanned in at {warehouse} ({on})", now, ct);
        ret.ReceivedAt = now;
        ret.WarehouseCode = warehouse;
        try
        {
            return await db.CommitAsync(idem, TypedResults.Ok(new ReceiptDto(true, false, code, on, warehouse, ret.Status, ReturnDto.From(ret), null)), now, ct);
        }
        catch (Exception e) when (e is DbUpdateConcurrencyException || DbErrors.IsTransient(e))
        {
            // Two scans of one parcel at once: the other one received it. Or another change (a label booked at that
            // moment) moved the return on, and it is still to be received: the caller runs the receipt again.
            db.ChangeTracker.Clear();
            var fresh = await ReadReturns.FindAsync(db.Returns.AsNoTracking(), ret.Id.ToString(), ct);
            if (fresh is not null && fresh.ReceivedAt is null && Lifecycle.CanMove(fresh.Status, ReturnStatus.Received)) return null;
            return TypedResults.Ok(new ReceiptDto(true, true, code, on, fresh!.WarehouseCode ?? warehouse, fresh.Status, ReturnDto.From(fresh), null));
        }
    }

    /// <summary>The return a scanned code names: the QR payload (RETOUR:R-…), an RMA as typed, or a shipment's tracking number.</summary>
    public static async Task<(Return? Return, string? On)> FindAsync(RetourDb db, string code, CancellationToken ct)
    {
        if (ReturnLabels.RmaFromQr(code) is { } fromQr)
            return (await ReadReturns.FindAsync(db.Returns, fromQr, ct), "qr");
        if (Rma.Normalize(code) is { } rma && await ReadReturns.FindAsync(db.Returns, rma, ct) is { } byRma) return (byRma, "rma");
        var returnId = await db.Shipments.AsNoTracking().Where(s => s.TrackingNumber == code).Select(s => (Guid?)s.ReturnId).FirstOrDefaultAsync(ct);
        if (returnId is null && code.Length > 8)
        {
            // Scanners read carrier barcodes with prefixes (1Z…, JJD…) exactly; people type them in lower case.
            var upper = code.ToUpperInvariant();
            returnId = await db.Shipments.AsNoTracking().Where(s => s.TrackingNumber == upper).Select(s => (Guid?)s.ReturnId).FirstOrDefaultAsync(ct);
        }
        return returnId is { } id ? (await ReadReturns.FindAsync(db.Returns, id.ToString(), ct), "tracking_number") : (null, null);
    }

    private static async Task<(string Code, IResult? Error)> WarehouseAsync(RetourDb db, string? requested, CancellationToken ct)
    {
        var codes = await db.Warehouses.AsNoTracking().OrderByDescending(w => w.IsDefault).ThenBy(w => w.Code).Select(w => w.Code).ToListAsync(ct);
        if (string.IsNullOrWhiteSpace(requested)) return (codes.FirstOrDefault() ?? "main", null);
        var match = codes.FirstOrDefault(c => string.Equals(c, requested.Trim(), StringComparison.OrdinalIgnoreCase));
        return match is null
            ? ("", Problems.Validation("warehouse", codes.Count == 0 ? "This shop has no warehouses; leave warehouse out." : $"Unknown warehouse '{requested}'. Use one of: {string.Join(", ", codes)}."))
            : (match, null);
    }

    private static async Task SaveQuietlyAsync(RetourDb db, CancellationToken ct)
    {
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateConcurrencyException) { db.ChangeTracker.Clear(); } // a scan counter lost to a concurrent scan is harmless
    }

    public static async Task<Results<Ok<Page<UnmatchedParcelDto>>, ProblemHttpResult>> List(RetourDb db, CancellationToken ct,
        string? state = null, string? cursor = null, string? limit = null)
    {
        var errors = new List<FieldError>();
        errors.AddRange(Cursor.Check(limit, cursor, 'd', out var take, out var after));
        state ??= "open";
        if (state is not ("open" or "matched" or "all")) errors.Add(new("state", "Use open, matched or all."));
        if (errors.Count > 0) return Problems.Validation(errors);
        var q = db.UnmatchedParcels.AsNoTracking();
        if (state == "open") q = q.Where(p => p.MatchedAt == null);
        if (state == "matched") q = q.Where(p => p.MatchedAt != null);
        if (after is { } a) q = q.Where(p => p.ReceivedAt < a.At || (p.ReceivedAt == a.At && p.Id.CompareTo(a.Id) < 0));
        var rows = await q.OrderByDescending(p => p.ReceivedAt).ThenByDescending(p => p.Id).Take(take + 1).ToListAsync(ct);
        var more = rows.Count > take;
        if (more) rows.RemoveAt(take);
        return TypedResults.Ok(new Page<UnmatchedParcelDto>([.. rows.Select(UnmatchedParcelDto.From)], more ? Cursor.Encode('d', rows[^1].ReceivedAt, rows[^1].Id) : null, more));
    }

    public static Task<IResult> Match(Guid id, MatchInput? input, HttpContext http, RetourDb db, IdempotencyScope idem, TimeProvider clock, CancellationToken ct) =>
        FreshRead.RetryAsync(db, () => MatchOnceAsync(id, input, http, db, idem, clock, ct), "The return changed while it was being received", "Match the parcel again.");

    private static async Task<IResult?> MatchOnceAsync(Guid id, MatchInput? input, HttpContext http, RetourDb db, IdempotencyScope idem, TimeProvider clock, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(input?.Return)) return Problems.Validation("return", "Name the return by RMA or id.");
        var parcel = await db.UnmatchedParcels.FirstOrDefaultAsync(p => p.Id == id, ct);
        if (parcel is null) return Problems.NotFound($"There is no unmatched parcel '{id}'.");
        var ret = await ReadReturns.FindAsync(db.Returns, input.Return.Trim(), ct);
        if (ret is null) return Problems.Validation("return", $"There is no return '{input.Return}'.");
        if (parcel.MatchedReturnId is { } done)
            return done == ret.Id
                ? TypedResults.Ok(new ReceiptDto(true, true, parcel.Code, "staff", parcel.WarehouseCode, ret.Status, ReturnDto.From(ret), UnmatchedParcelDto.From(parcel)))
                : Problems.Result(409, "already_matched", "This parcel is already matched", $"It was matched to {parcel.MatchedRma}.");
        var now = clock.GetUtcNow();
        var actor = Actor.From(http.User);
        parcel.MatchedReturnId = ret.Id;
        parcel.MatchedRma = ret.Rma;
        parcel.MatchedBy = actor.Name;
        parcel.MatchedAt = now;
        parcel.UpdatedAt = now;
        db.AuditEvents.Add(new AuditEvent
        {
            EntityType = "return", EntityId = ret.Id, Action = "parcel_matched", ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name,
            DataJson = Json.Serialize(new { parcel_id = parcel.Id, parcel.Code }), OccurredAt = now,
        });
        return await ReceiveAsync(db, idem, ret, parcel.Code, "staff", parcel.WarehouseCode, actor, now, ct);
    }
}
