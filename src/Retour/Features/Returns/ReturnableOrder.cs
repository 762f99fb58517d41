using Microsoft.EntityFrameworkCore;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Retour.Features.Orders;
using Retour.Features.Policies;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Features.Returns;

/// <summary>An order with what is already in returns, the policy that judges it and the merchant's time zone.</summary>
public sealed record ReturnableOrder(Order Order, OrderFacts Facts, EffectivePolicy Policy, MerchantInfo Merchant)
{
    public IReadOnlyList<LineVerdict> Judge(DateTimeOffset now) => Returnability.Evaluate(Facts, Policy.Policy, now, Merchant.Zone);

    /// <summary>
    /// Loads everything a returnability answer or a new return needs. With <paramref name="track"/> the order is
    /// tracked, so a new return can bump its version (the optimistic lock on returnable quantities).
    /// </summary>
    public static async Task<ReturnableOrder?> LoadAsync(
        RetourDb db, PolicyBook policies, MerchantDirectory merchants, string number, bool track, CancellationToken ct)
    {
        var orders = track ? db.Orders : db.Orders.AsNoTracking();
        var order = await orders.Include(o => o.Lines).FirstOrDefaultAsync(o => o.Number == number, ct);
        if (order is null) return null;

        var releasing = Lifecycle.ReleasingStates.ToList();
        var returned = await (
                from rl in db.ReturnLines
                join r in db.Returns on rl.ReturnId equals r.Id
                where r.OrderId == order.Id && !releasing.Contains(r.Status)
                group rl by rl.OrderLineId into g
                select new { LineId = g.Key, Quantity = g.Sum(x => x.Quantity) })
            .ToDictionaryAsync(x => x.LineId, x => x.Quantity, ct);

        var policy = await policies.ForOrderAsync(db, order.PlacedAt, ct)
                     ?? throw new InvalidOperationException("The merchant has no return policy.");
        var merchant = await merchants.GetAsync(order.MerchantId, ct)
                       ?? throw new InvalidOperationException("The order's merchant does not exist.");
        return new ReturnableOrder(order, order.Facts(returned), policy, merchant);
    }
}
