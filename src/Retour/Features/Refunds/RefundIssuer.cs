using Microsoft.EntityFrameworkCore;
using Retour.Core.Money;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Retour.Features.Policies;
using Retour.Features.Returns;
using Retour.Features.Warehouses;
using Retour.Infrastructure;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Refunds;

public sealed record RefundRefusal(int Status, string Code, string Title, string Detail);

/// <summary>
/// Issues a return's refund exactly once. <see cref="PlanAsync"/> writes it as pending, with one claim per return line
/// (unique, so a concurrent second plan cannot commit) and, for store credit, the gift card and its ledger entry.
/// <see cref="ExecuteAsync"/> then calls the provider with the refund's own key; an unknown outcome stays pending
/// and <see cref="RefundWorker"/> asks the provider before it ever calls again.
/// </summary>
public sealed class RefundIssuer(PolicyBook policies, PaymentCalls payments, RetourSettings settings, ILogger<RefundIssuer> log)
{
    /// <summary>On the return while a refund is out of retries and waits for support.</summary>
    public const string FailedFlag = "refund_failed";

    /// <summary>The refund already made for the return, or a new pending one planned in <paramref name="db"/> (not saved), or why not now.</summary>
    public async Task<(Refund? Refund, bool Created, RefundRefusal? Refusal)> PlanAsync(RetourDb db, Return ret, RefundTrigger trigger, Actor actor,
        DateTimeOffset now, bool callerExecutes, CancellationToken ct)
    {
        var existing = await db.Refunds.Where(r => r.ReturnId == ret.Id).OrderBy(r => r.CreatedAt).FirstOrDefaultAsync(ct);
        if (existing is not null) return (existing, false, null);
        var policy = await policies.GetAsync(db, ret.PolicyVersionId, ct);
        var due = RefundTiming.IsDue(policy.RefundMoment, ret.Method, ret.Status);
        if (!due.Due) return (null, false, new RefundRefusal(409, "refund_not_due", "No refund is due yet", due.Explanation));
        var method = RefundMath.MethodOf(ret.Resolution);
        if (method == RefundMethod.StoreCredit && string.IsNullOrEmpty(ret.CustomerEmail))
            return (null, false, new RefundRefusal(409, "no_customer_email", "Store credit needs the shopper's email",
                "The order has no customer email, so the credit cannot be held for anyone. Refund to the original payment instead."));

        var breakdown = await RefundMath.SettleAsync(db, policies, ret, null, ct);
        var id = Guid.CreateVersion7();
        var payment = await db.Orders.AsNoTracking().Where(o => o.Id == ret.OrderId).Select(o => o.PaymentReference).FirstOrDefaultAsync(ct);
        var amount = breakdown.Total;
        ExchangeOrder? exchange = null;
        if (method == RefundMethod.Exchange)
        {
            exchange = await ExchangeAsync(db, ret, id, breakdown.Total, now, ct);
            amount = Math.Max(0, exchange.Difference);
        }
        var refund = new Refund
        {
            Id = id, ReturnId = ret.Id, Rma = ret.Rma, Method = method, Status = RefundStatus.Pending, Trigger = trigger, Amount = amount,
            Currency = ret.Currency, BreakdownJson = Json.Serialize(breakdown), ProviderKey = $"rtr_refund_{id:N}", PaymentReference = payment ?? $"order:{ret.OrderNumber}",
            CreatedBy = actor.Name ?? actor.Type, CreatedAt = now, UpdatedAt = now, NextAttemptAt = callerExecutes ? now + settings.RefundLease : now,
        };
        db.Refunds.Add(refund);
        foreach (var line in ret.Lines) db.RefundClaims.Add(new RefundClaim { RefundId = id, ReturnLineId = line.Id });
        Audit(db, ret, refund, "refund_created", actor, $"{Codes.Of(method)} {Currencies.Format(amount, ret.Currency)} {ret.Currency} ({Codes.Of(trigger)}): {due.Explanation}", now);
        db.Publish("refund.created", Event(refund), now);
        if (exchange is not null) db.ExchangeOrders.Add(exchange);

        if (method == RefundMethod.StoreCredit)
        {
            var card = new GiftCard
            {
                Code = GiftCards.NewCode(), CustomerEmail = ret.CustomerEmail!.ToLowerInvariant(), Currency = ret.Currency, InitialAmount = amount, Balance = amount,
                ExpiresAt = policy.StoreCreditValidDays is { } days ? now.AddDays(days) : null, RefundId = id, CreatedAt = now, UpdatedAt = now,
            };
            db.GiftCards.Add(card);
            db.StoreCreditEntries.Add(new StoreCreditEntry
            {
                CustomerEmail = card.CustomerEmail, GiftCardId = card.Id, Kind = CreditEntryKind.Credit, Amount = amount, Currency = ret.Currency,
                RefundId = id, Reference = ret.Rma, BalanceAfter = amount, CreatedAt = now,
            });
            refund.GiftCardCode = card.Code;
            await IssuedAsync(db, ret, refund, card.Code, actor, now, ct);
            db.Publish("store_credit.issued", new { refund_id = id, ret.Rma, code = card.Code, amount = Currencies.Format(amount, ret.Currency), currency = ret.Currency, expires_at = card.ExpiresAt }, now);
        }
        else if (amount == 0)
            await IssuedAsync(db, ret, refund, null, actor, now, ct); // nothing to pay out (an exchange at even money, or fees took it all)
        return (refund, true, null);
    }

    /// <summary>The forward order for the new variants, priced from the catalogue (the returned unit's price when the SKU is not in it).</summary>
    private static async Task<ExchangeOrder> ExchangeAsync(RetourDb db, Return ret, Guid refundId, decimal returnedValue, DateTimeOffset now, CancellationToken ct)
    {
        var skus = ret.Lines.Select(l => l.ExchangeSku ?? l.Sku).Where(s => s != null).Cast<string>().Distinct().ToList();
        var prices = await db.Products.AsNoTracking().Where(p => skus.Contains(p.Sku)).ToDictionaryAsync(p => p.Sku, p => (p.Price, p.Title), ct);
        var orderLineIds = ret.Lines.Select(l => l.OrderLineId).ToList();
        var paid = await db.OrderLines.AsNoTracking().Where(l => orderLineIds.Contains(l.Id))
            .ToDictionaryAsync(l => l.Id, l => l.Quantity == 0 ? 0 : l.UnitPrice - l.Discount / l.Quantity + l.Tax / l.Quantity, ct);
        var lines = ret.Lines.Select(l =>
        {
            var sku = l.ExchangeSku ?? l.Sku ?? l.OrderLineRef;
            var (price, title) = prices.TryGetValue(sku, out var p) ? p : (paid[l.OrderLineId], l.Title);
            return new { sku, title, quantity = l.Quantity, unit_price = Currencies.Round(price, ret.Currency) };
        }).ToList();
        var newTotal = lines.Sum(l => l.unit_price * l.quantity);
        var difference = returnedValue - newTotal;
        var exchange = new ExchangeOrder
        {
            ReturnId = ret.Id, RefundId = refundId, Number = "EX-" + ret.Rma[2..], OriginalOrderNumber = ret.OrderNumber,
            LinesJson = Json.Serialize(lines), NewTotal = newTotal, ReturnedValue = returnedValue, Difference = difference, AmountDue = Math.Max(0, -difference),
            Currency = ret.Currency, Status = difference < 0 ? "awaiting_payment" : "created", CreatedAt = now,
        };
        db.Publish("exchange.order_created", new
        {
            exchange_order = exchange.Number, ret.Rma, original_order = ret.OrderNumber, lines, currency = ret.Currency,
            new_total = Currencies.Format(newTotal, ret.Currency), returned_value = Currencies.Format(returnedValue, ret.Currency),
            difference = Currencies.Format(difference, ret.Currency),
        }, now);
        if (difference < 0)
            db.Publish("exchange.payment_requested", new { exchange_order = exchange.Number, ret.Rma, amount_due = Currencies.Format(-difference, ret.Currency), currency = ret.Currency }, now);
        return exchange;
    }

    /// <summary>
    /// Calls (or, for a refund whose earlier call had no answer, first asks) the provider and records the outcome.
    /// The refund must be tracked by <paramref name="db"/>; the outcome is saved before this returns.
    /// </summary>
    public async Task ExecuteAsync(RetourDb db, Refund refund, Actor actor, DateTimeOffset now, CancellationToken ct, bool askFirst = false)
    {
        if (refund.Status == RefundStatus.Issued) return;
        PaymentOutcome outcome;
        // A refund that was called before (pending or failed: a decline may have been followed by a call whose answer was
        // lost), or whose caller may have died mid-call, is asked about first; only a clear "no" leads to a new call.
        if (askFirst || refund.Attempts > 0)
            outcome = await payments.FindAsync(refund.MerchantId, refund.ProviderKey, ct) switch
            {
                PaymentLookup.Found f => new PaymentOutcome.Paid(f.Reference), // it paid last time; the answer was lost
                PaymentLookup.Failed e => new PaymentOutcome.Unknown("the provider could not be asked: " + e.Error),
                _ => await payments.RefundAsync(new PaymentRefundRequest(refund.MerchantId, refund.ProviderKey, refund.PaymentReference, refund.Amount, refund.Currency), ct),
            };
        else
            outcome = await payments.RefundAsync(new PaymentRefundRequest(refund.MerchantId, refund.ProviderKey, refund.PaymentReference, refund.Amount, refund.Currency), ct);
        var ret = await db.Returns.Include(r => r.Lines).FirstAsync(r => r.Id == refund.ReturnId, ct);
        refund.Attempts++;
        switch (outcome)
        {
            case PaymentOutcome.Paid paid:
                await IssuedAsync(db, ret, refund, paid.Reference, actor, now, ct);
                break;
            case PaymentOutcome.Declined d:
                refund.Status = RefundStatus.Failed;
                refund.LastError = Trim(d.Error);
                Retry(db, ret, refund, now);
                Audit(db, ret, refund, "refund_failed", actor, refund.LastError, now);
                db.Publish("refund.failed", Event(refund), now);
                break;
            case PaymentOutcome.Unknown u:
                refund.Status = RefundStatus.Pending; // it may have paid: asked about before anything else, never left as failed
                refund.LastError = Trim("outcome unknown: " + u.Error + "; the provider will be asked before any new attempt");
                Retry(db, ret, refund, now);
                Audit(db, ret, refund, "refund_outcome_unknown", actor, refund.LastError, now);
                break;
        }
        refund.UpdatedAt = now;
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Someone else recorded this refund meanwhile (the worker and a retry both held it); their record stands, and
            // the provider paid at most once because both calls carried the same key.
            log.LogInformation("Refund {Refund} was recorded concurrently", refund.Id);
            db.ChangeTracker.Clear();
        }
    }

    private void Retry(RetourDb db, Return ret, Refund refund, DateTimeOffset now)
    {
        if (refund.Attempts < settings.RefundMaxAttempts)
        {
            var wait = Retour.Core.Backoff.Exponential(refund.Attempts, settings.RefundRetryBase, Retour.Core.Backoff.Hour);
            refund.NextAttemptAt = now + wait;
            return;
        }
        // Out of retries: support must look. An unknown outcome keeps being asked about hourly; a decline waits for a person.
        refund.NeedsAttention = true;
        refund.NextAttemptAt = refund.Status == RefundStatus.Pending ? now.AddHours(1) : null;
        ret.Flag(FailedFlag);
        ret.Touch(now);
        db.Publish("refund.needs_attention", Event(refund), now);
    }

    private static async Task IssuedAsync(RetourDb db, Return ret, Refund refund, string? reference, Actor actor, DateTimeOffset now, CancellationToken ct)
    {
        refund.Status = RefundStatus.Issued;
        refund.ProviderReference = refund.Method == RefundMethod.StoreCredit ? null : reference;
        refund.IssuedAt = now;
        refund.NextAttemptAt = null;
        refund.LastError = null;
        refund.NeedsAttention = false;
        refund.UpdatedAt = now;
        ret.Unflag(FailedFlag);
        Audit(db, ret, refund, "refund_issued", actor, $"{Codes.Of(refund.Method)} {Currencies.Format(refund.Amount, refund.Currency)} {refund.Currency}" +
            (reference is null ? "" : $" (reference {reference})"), now);
        db.Publish("refund.issued", Event(refund), now);
        await AdvanceAsync(db, ret, actor, now, ct);
    }

    /// <summary>With the money out: an inspected return is resolved, a keep-it return too; a resolved one closes once every unit has its disposition.</summary>
    public static async Task AdvanceAsync(RetourDb db, Return ret, Actor actor, DateTimeOffset now, CancellationToken ct)
    {
        if (ret.Status == ReturnStatus.Inspected || (ret.Status == ReturnStatus.Approved && ret.Method == ReturnMethod.Keep))
            await ReturnTransitions.MoveAsync(db, ret, ReturnStatus.Resolved, actor, "the refund, credit or exchange is issued", now, ct);
        await ConfirmDispositions.CloseIfDoneAsync(db, ret, actor, now, ct);
    }

    private static void Audit(RetourDb db, Return ret, Refund refund, string action, Actor actor, string? reason, DateTimeOffset now) =>
        db.AuditEvents.Add(new AuditEvent
        {
            EntityType = "return", EntityId = ret.Id, Action = action, ToState = Codes.Of(refund.Status), ActorType = actor.Type, ActorId = actor.Id,
            ActorName = actor.Name, Reason = reason is { Length: > 2000 } ? reason[..2000] : reason, OccurredAt = now,
            DataJson = Json.Serialize(new { refund_id = refund.Id, method = Codes.Of(refund.Method), amount = Currencies.Format(refund.Amount, refund.Currency), refund.Currency, refund.Attempts }),
        });

    private static object Event(Refund r) => new
    {
        refund_id = r.Id, return_id = r.ReturnId, r.Rma, method = Codes.Of(r.Method), status = Codes.Of(r.Status),
        amount = Currencies.Format(r.Amount, r.Currency), currency = r.Currency, provider_reference = r.ProviderReference, r.Attempts, error = r.LastError,
    };

    private static string Trim(string s) => s.Length > 1000 ? s[..1000] : s;
}
