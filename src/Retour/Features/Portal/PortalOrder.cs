using Microsoft.EntityFrameworkCore;
using Retour.Core.Policies;
using Retour.Features.Returns;
using Retour.Infrastructure.Http;

namespace Retour.Features.Portal;

/// <summary>An order line as the portal shows it: what it is, and whether and until when it can come back.</summary>
public sealed record PortalLine(string Ref, string Title, string? Sku, string? ProductCode, string Category, string? Variant, int Ordered, decimal UnitValue, LineVerdict Verdict);

/// <summary>The session's order, judged now: the core's verdict per line, with what the page shows of each line.</summary>
public sealed record PortalOrder(ReturnableOrder State, IReadOnlyList<PortalLine> Lines)
{
    public PortalLine? Line(string lineRef) => Lines.FirstOrDefault(l => l.Ref == lineRef);

    public static async Task<PortalOrder?> LoadAsync(PortalPage page, PortalSession session, PortalState state)
    {
        var ct = page.HttpContext.RequestAborted;
        var services = page.HttpContext.RequestServices.GetRequiredService<ReturnServices>();
        var (order, _) = await ReturnableOrder.LoadAsync(page.Db, services, state.OrderNumber, null, ct);
        if (order is null || order.Order.Id != session.OrderId) return null;
        var variants = await page.Db.OrderLines.AsNoTracking().Where(l => l.OrderId == session.OrderId)
            .Select(l => new { l.LineRef, l.VariantJson }).ToDictionaryAsync(l => l.LineRef, l => l.VariantJson, ct);
        var verdicts = order.Judge(page.Clock.GetUtcNow()).ToDictionary(v => v.Line.LineId);
        var lines = order.Order.Lines.Select(l => new PortalLine(l.LineRef, l.Title, l.Sku, l.ProductCode, l.Category,
            VariantText(variants.GetValueOrDefault(l.LineRef)), l.Quantity, verdicts[l.LineRef].Line.UnitValue, verdicts[l.LineRef])).ToList();
        return new PortalOrder(order, lines);
    }

    /// <summary>{"size":"M","colour":"Blue"} → "M · Blue".</summary>
    public static string? VariantText(string? json)
    {
        if (string.IsNullOrEmpty(json)) return null;
        var d = Json.Deserialize<Dictionary<string, string>>(json);
        return d is null || d.Count == 0 ? null : string.Join(" · ", d.Values);
    }
}
