using Microsoft.EntityFrameworkCore;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Orders;

public enum UpsertOutcome { Created, Updated, Stale }

public sealed class OrderNumberConflictException(string number) :
    Exception($"Order number '{number}' already belongs to another order of this store.");

/// <summary>
/// The one way orders get in, whatever their source: created the first time, updated after that, never duplicated.
/// The order's <see cref="Order.Version"/> moves on every update, so a return that read the old quantities cannot commit.
/// </summary>
public static class OrderIngestion
{
    public static async Task<(Order Order, UpsertOutcome Outcome)> UpsertAsync(RetourDb db, OrderData data, DateTimeOffset now, CancellationToken ct)
    {
        Order? order = null;
        if (data.ExternalId is not null)
            order = await db.Orders.Include(o => o.Lines).FirstOrDefaultAsync(o => o.ExternalId == data.ExternalId, ct);
        if (order is null)
        {
            order = await db.Orders.Include(o => o.Lines).FirstOrDefaultAsync(o => o.Number == data.Number, ct);
            if (order is not null && !SameOrder(order, data)) throw new OrderNumberConflictException(data.Number);
        }

        if (order is null)
        {
            order = new Order { Number = data.Number, Currency = data.Currency, CreatedAt = now };
            Apply(order, data, now);
            foreach (var (line, i) in data.Lines.Select((l, i) => (l, i)))
                order.Lines.Add(NewLine(order, line, i));
            db.Orders.Add(order);
            await ApplyStoreRefundsAsync(db, order, data.StoreRefunds, ct);
            db.Publish("order.created", Event(order), now);
            return (order, UpsertOutcome.Created);
        }

        if (data.ExternalUpdatedAt is { } incoming && order.ExternalUpdatedAt is { } known && incoming < known)
            return (order, UpsertOutcome.Stale);

        Apply(order, data, now);
        order.Version++;
        var byRef = order.Lines.ToDictionary(l => l.LineRef, StringComparer.Ordinal);
        var position = 0;
        foreach (var line in data.Lines)
        {
            if (byRef.Remove(line.Id, out var existing)) Update(existing, line, position);
            else order.Lines.Add(NewLine(order, line, position));
            position++;
        }
        if (byRef.Count > 0)
        {
            // A line the store dropped goes too, unless a return already points at it.
            var gone = byRef.Values.Select(l => l.Id).ToList();
            var referenced = await db.ReturnLines.Where(rl => gone.Contains(rl.OrderLineId)).Select(rl => rl.OrderLineId).Distinct().ToListAsync(ct);
            foreach (var line in byRef.Values.Where(l => !referenced.Contains(l.Id))) order.Lines.Remove(line);
        }
        await ApplyStoreRefundsAsync(db, order, data.StoreRefunds, ct);
        db.Publish("order.updated", Event(order), now);
        return (order, UpsertOutcome.Updated);
    }

    /// <summary>
    /// An order found by its number is the same order only when the external ids agree, or when one side has none and
    /// it comes from the same channel. A Shopify order never takes over an order sent through the API with that number.
    /// </summary>
    private static bool SameOrder(Order existing, OrderData incoming) =>
        existing.ExternalId == incoming.ExternalId ||
        ((existing.ExternalId is null || incoming.ExternalId is null) && existing.Source == incoming.Source);

    private static object Event(Order o) => new { order_id = o.Id, number = o.Number, external_id = o.ExternalId, source = o.Source };

    private static void Apply(Order o, OrderData d, DateTimeOffset now)
    {
        o.ExternalId = d.ExternalId ?? o.ExternalId;
        o.Source = d.Source;
        o.PlacedAt = d.PlacedAt;
        o.DeliveredAt = d.DeliveredAt;
        o.FulfilledAt = d.FulfilledAt;
        o.CancelledAt = d.CancelledAt;
        o.Currency = d.Currency;
        o.CustomerEmail = d.CustomerEmail;
        o.CustomerName = d.CustomerName;
        o.CustomerPhone = d.CustomerPhone;
        o.CustomerLocale = d.CustomerLocale;
        var a = d.ShippingAddress;
        o.ShipName = a?.Name;
        o.ShipLine1 = a?.Line1;
        o.ShipLine2 = a?.Line2;
        o.ShipCity = a?.City;
        o.ShipRegion = a?.Region;
        o.ShipPostalCode = a?.PostalCode;
        o.ShipCountry = a?.Country;
        o.ShipPhone = a?.Phone;
        o.ShippingTotal = d.ShippingTotal;
        o.PaymentReference = d.PaymentReference;
        o.ExternalUpdatedAt = d.ExternalUpdatedAt ?? o.ExternalUpdatedAt;
        o.UpdatedAt = now;
    }

    private static OrderLine NewLine(Order order, LineData l, int position)
    {
        var line = new OrderLine { OrderId = order.Id, LineRef = l.Id, Title = l.Title, Category = l.Category };
        Update(line, l, position);
        return line;
    }

    private static void Update(OrderLine line, LineData l, int position)
    {
        line.Position = position;
        line.Sku = l.Sku;
        line.ProductCode = l.ProductCode;
        line.Title = l.Title;
        line.Category = l.Category;
        line.VariantJson = l.Variant is { Count: > 0 } v ? Json.Serialize(v) : null;
        line.Quantity = l.Quantity;
        line.UnitPrice = l.UnitPrice;
        line.Tax = l.Tax;
        line.Discount = l.Discount;
        line.FinalSale = l.FinalSale;
        line.Grams = l.Grams;
        if (l.RefundedQuantity is { } refunded) line.RefundedQuantity = refunded; // absent: the count stays as it was
    }

    /// <summary>
    /// Store refunds (from Shopify) are kept per refund and line, so the same refund sent in an order update and in a
    /// refunds/create webhook counts once. The line's refunded quantity is then their sum.
    /// </summary>
    public static async Task ApplyStoreRefundsAsync(RetourDb db, Order order, IReadOnlyList<StoreRefundData>? refunds, CancellationToken ct)
    {
        if (refunds is null) return;
        var known = await db.StoreRefunds.Where(r => r.OrderId == order.Id).ToListAsync(ct);
        foreach (var r in refunds)
        {
            if (known.Any(k => k.ExternalId == r.ExternalId && k.LineRef == r.LineId)) continue;
            var row = new StoreRefund { OrderId = order.Id, ExternalId = r.ExternalId, LineRef = r.LineId, Quantity = r.Quantity, CreatedAt = r.CreatedAt };
            db.StoreRefunds.Add(row);
            known.Add(row);
        }
        foreach (var line in order.Lines)
            line.RefundedQuantity = Math.Min(line.Quantity, known.Where(k => k.LineRef == line.LineRef).Sum(k => k.Quantity));
    }
}
