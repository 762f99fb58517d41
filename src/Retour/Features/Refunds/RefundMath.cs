using Microsoft.EntityFrameworkCore;
using Retour.Core.Money;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Retour.Core.Warehouse;
using Retour.Features.Policies;
using Retour.Features.Returns;
using Retour.Infrastructure.Db;

namespace Retour.Features.Refunds;

/// <summary>Loads what the refund of a return is worked out from (order, policy version, inspections, other returns) and asks the core.</summary>
public static class RefundMath
{
    public static async Task<RefundBreakdown> SettleAsync(RetourDb db, PolicyBook policies, Return ret,
        IReadOnlyList<(Guid ReturnLineId, int Unit, Grade Grade)>? extraGrades, CancellationToken ct)
    {
        var order = await db.Orders.AsNoTracking().Include(o => o.Lines).FirstAsync(o => o.Id == ret.OrderId, ct);
        var policy = await policies.GetAsync(db, ret.PolicyVersionId, ct);
        var inspected = await db.Inspections.AsNoTracking().Where(i => i.ReturnId == ret.Id)
            .Select(i => new { i.ReturnLineId, i.Unit, i.Grade }).ToListAsync(ct);
        var grades = inspected.Select(i => (i.ReturnLineId, i.Unit, i.Grade)).Concat(extraGrades ?? [])
            .GroupBy(i => i.ReturnLineId).ToDictionary(g => g.Key, g => (IReadOnlyList<Grade>)[.. g.OrderBy(x => x.Unit).Select(x => x.Grade)]);
        // Units of the same order lines in live returns made before this one come first in the line's rounding and quantity.
        var (createdAt, id, orderId) = (ret.CreatedAt, ret.Id, ret.OrderId);
        var earlier = await db.Returns.AsNoTracking().Where(Return.HoldsQuantity)
            .Where(r => r.OrderId == orderId && r.Id != id && (r.CreatedAt < createdAt || (r.CreatedAt == createdAt && r.Id.CompareTo(id) < 0)))
            .SelectMany(r => r.Lines).GroupBy(l => l.OrderLineId).Select(g => new { g.Key, Units = g.Sum(l => l.Quantity) })
            .ToDictionaryAsync(g => g.Key, g => g.Units, ct);
        var facts = new OrderFacts(order.PlacedAt, order.DeliveredAt, order.FulfilledAt, order.CancelledAt, order.Currency,
            [.. order.Lines.Select(l => new LineFacts(l.LineRef, l.Sku, l.ProductCode, l.Category, l.Quantity, l.RefundedQuantity, l.ReturnedQuantity,
                l.UnitPrice, l.Tax, l.Discount, l.FinalSale))]);
        var items = ret.Lines.Select(l => new SettleItem(
            facts.Lines.First(f => f.LineId == l.OrderLineRef), l.Quantity, l.Reason, earlier.GetValueOrDefault(l.OrderLineId), grades.GetValueOrDefault(l.Id) ?? [])).ToList();
        return RefundCalculator.Settle(policy, facts, order.ShippingTotal, items, ret.Resolution, ret.Method);
    }

    public static RefundMethod MethodOf(Resolution r) => r switch
    {
        Resolution.StoreCredit => RefundMethod.StoreCredit,
        Resolution.Exchange => RefundMethod.Exchange,
        _ => RefundMethod.OriginalPayment,
    };
}
