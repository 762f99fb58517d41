using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Money;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Refunds;

public sealed record GiftCardDto(string Code, string CustomerEmail, string Currency, string InitialAmount, string Balance, DateTimeOffset? ExpiresAt, bool Expired,
    DateTimeOffset CreatedAt)
{
    public static GiftCardDto From(GiftCard g, DateTimeOffset now) => new(g.Code, g.CustomerEmail, g.Currency, Currencies.Format(g.InitialAmount, g.Currency),
        Currencies.Format(g.Balance, g.Currency), g.ExpiresAt, g.ExpiresAt <= now, g.CreatedAt);
}

public sealed record CreditEntryDto(Guid Id, CreditEntryKind Kind, string Amount, string Currency, string GiftCard, string? Reference, Guid? RefundId, string BalanceAfter, DateTimeOffset CreatedAt);

public sealed record StoreCreditDto(string Email, string Currency, string Balance, string Expired, IReadOnlyList<GiftCardDto> GiftCards, IReadOnlyList<CreditEntryDto> Ledger);

public sealed record RedeemInput(string? Amount, string? Reference);

/// <summary>
/// Store credit: GET /api/v1/customers/{email}/store-credit (balance, gift cards, ledger), GET /api/v1/gift-cards/{code},
/// and POST /api/v1/gift-cards/{code}/redeem for the store to spend it (Idempotency-Key honoured; never below zero).
/// </summary>
public static class StoreCreditEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/customers/{email}/store-credit", Get).RequireScope(Scopes.RefundsRead).WithName("GetStoreCredit").WithTags("Refunds")
            .WithSummary("A shopper's store credit").WithDescription("balance counts unexpired gift cards only; expired shows what lapsed. The ledger is newest first (last 200 entries).");
        api.MapGet("/gift-cards/{code}", GetCard).RequireScope(Scopes.RefundsRead).WithName("GetGiftCard").WithTags("Refunds");
        api.MapPost("/gift-cards/{code}/redeem", Redeem).RequireScope(Scopes.RefundsWrite).WithName("RedeemGiftCard").WithTags("Refunds")
            .WithSummary("Spend store credit").WithDescription("Body: {\"amount\": \"12.50\", \"reference\": \"<the store's order number>\"}. 422 when the balance is short, 409 when the card expired.");
    }

    public static async Task<Results<Ok<StoreCreditDto>, ProblemHttpResult>> Get(string email, RetourDb db, MerchantDirectory merchants, TimeProvider clock, CancellationToken ct)
    {
        var e = email.Trim().ToLowerInvariant();
        if (e.Length is 0 or > 320 || !e.Contains('@')) return Problems.Validation("email", "Give the shopper's email address.");
        var now = clock.GetUtcNow();
        var cards = await db.GiftCards.AsNoTracking().Where(g => g.CustomerEmail == e).OrderBy(g => g.CreatedAt).ToListAsync(ct);
        var entries = await db.StoreCreditEntries.AsNoTracking().Where(x => x.CustomerEmail == e).OrderByDescending(x => x.Id).Take(200).ToListAsync(ct);
        var codes = cards.ToDictionary(c => c.Id, c => c.Code);
        var currency = cards.FirstOrDefault()?.Currency ?? (await merchants.GetAsync(db.Tenant.MerchantId, ct))!.Currency;
        var balance = cards.Where(c => !(c.ExpiresAt <= now)).Sum(c => c.Balance);
        var expired = cards.Where(c => c.ExpiresAt <= now).Sum(c => c.Balance);
        return TypedResults.Ok(new StoreCreditDto(e, currency, Currencies.Format(balance, currency), Currencies.Format(expired, currency),
            [.. cards.Select(c => GiftCardDto.From(c, now))],
            [.. entries.Select(x => new CreditEntryDto(x.Id, x.Kind, Currencies.Format(x.Amount, x.Currency), x.Currency, codes.GetValueOrDefault(x.GiftCardId, "?"),
                x.Reference, x.RefundId, Currencies.Format(x.BalanceAfter, x.Currency), x.CreatedAt))]));
    }

    public static async Task<Results<Ok<GiftCardDto>, ProblemHttpResult>> GetCard(string code, RetourDb db, TimeProvider clock, CancellationToken ct)
    {
        var c = GiftCards.Normalize(code);
        var card = await db.GiftCards.AsNoTracking().FirstOrDefaultAsync(g => g.Code == c, ct);
        return card is null ? Problems.NotFound($"There is no gift card '{code}'.") : TypedResults.Ok(GiftCardDto.From(card, clock.GetUtcNow()));
    }

    public static async Task<Results<Ok<GiftCardDto>, ProblemHttpResult>> Redeem(string code, RedeemInput? input, RetourDb db, IdempotencyScope idem, TimeProvider clock, CancellationToken ct)
    {
        var c = GiftCards.Normalize(code);
        var errors = new List<FieldError>();
        decimal amount = 0;
        if (input?.Amount is not { } text || !decimal.TryParse(text, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out amount) || amount <= 0 || amount > 1_000_000_000m)
            errors.Add(new("amount", "Give the amount to spend as a decimal string above zero, for example \"12.50\"."));
        if (input?.Reference is { Length: > 100 }) errors.Add(new("reference", "At most 100 characters."));
        if (errors.Count > 0) return Problems.Validation(errors);
        for (var attempt = 0; ; attempt++)
        {
            var card = await db.GiftCards.FirstOrDefaultAsync(g => g.Code == c, ct);
            if (card is null) return Problems.NotFound($"There is no gift card '{code}'.");
            var now = clock.GetUtcNow();
            if (card.ExpiresAt <= now) return Problems.Result(409, "gift_card_expired", "This gift card has expired", $"It expired on {card.ExpiresAt:yyyy-MM-dd}.");
            if (Currencies.Round(amount, card.Currency) != amount)
                return Problems.Validation("amount", $"{card.Currency} has {Currencies.Decimals(card.Currency)} decimals.");
            if (amount > card.Balance)
                return Problems.Validation("amount", $"The balance is {Currencies.Format(card.Balance, card.Currency)} {card.Currency}.");
            card.Balance -= amount;
            card.UpdatedAt = now;
            db.StoreCreditEntries.Add(new StoreCreditEntry
            {
                CustomerEmail = card.CustomerEmail, GiftCardId = card.Id, Kind = CreditEntryKind.Debit, Amount = amount, Currency = card.Currency,
                Reference = input!.Reference, BalanceAfter = card.Balance, CreatedAt = now,
            });
            db.Publish("store_credit.redeemed", new { code = card.Code, amount = Currencies.Format(amount, card.Currency), currency = card.Currency, input.Reference,
                balance = Currencies.Format(card.Balance, card.Currency) }, now);
            try
            {
                return await db.CommitAsync(idem, TypedResults.Ok(GiftCardDto.From(card, now)), now, ct);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 5)
            {
                db.ChangeTracker.Clear(); // another redemption of the same card committed first: read the new balance and check again
            }
        }
    }
}
