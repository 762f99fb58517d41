using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Returns;
using Retour.Features.Returns;
using Retour.Features.Staff;

namespace Retour.Features.Console.Pages.Returns;

public sealed record QueueRow(Guid Id, string Rma, string OrderNumber, string? Email, ReturnStatus Status, Resolution Resolution, ReturnMethod Method,
    string? Carrier, string Currency, decimal Estimate, string Flags, DateTimeOffset CreatedAt, IReadOnlyList<ReasonCode> Reasons)
{
    public IEnumerable<string> FlagList => Flags.Length == 0 ? [] : Flags.Split(',');
}

/// <summary>
/// The returns queue: filters (status, reason, method, carrier, dates, risk flag, needs review), one search box for
/// RMA, order number, e-mail or tracking number, counts per status for the current filters, saved views, page numbers,
/// and bulk approve/reject (through the API, one return at a time, each reported).
/// </summary>
[Authorize(Policy = ConsolePolicy.ReturnsRead)]
public sealed class QueueModel : ConsolePage
{
    public const int PageSize = 50;
    public static readonly string[] RiskFlags = ["policy_exception", "high_return_rate", "refund_failed", "tracking_exception", "pickup_escalated", "carrier_unavailable"];
    public override string Section => "returns";

    [FromQuery(Name = "q")] public string? Search { get; set; }
    [FromQuery(Name = "status")] public string? Status { get; set; }
    [FromQuery(Name = "reason")] public string? Reason { get; set; }
    [FromQuery(Name = "method")] public string? Method { get; set; }
    [FromQuery(Name = "carrier")] public string? Carrier { get; set; }
    [FromQuery(Name = "flag")] public string? Flag { get; set; }
    [FromQuery(Name = "from")] public DateOnly? From { get; set; }
    [FromQuery(Name = "to")] public DateOnly? To { get; set; }
    [FromQuery(Name = "view")] public string? View { get; set; }
    // Drill-down from the dashboards: the list behind a chart's bar (see Analytics).
    [FromQuery(Name = "sku")] public string? Sku { get; set; }
    [FromQuery(Name = "category")] public string? Category { get; set; }
    [FromQuery(Name = "warehouse")] public string? Warehouse { get; set; }
    [FromQuery(Name = "region")] public string? Region { get; set; }
    [FromQuery(Name = "resolution")] public string? Resolution { get; set; }
    [FromQuery(Name = "page")] public int PageNumber { get; set; } = 1;

    public IReadOnlyList<QueueRow> Rows { get; private set; } = [];
    public int Total { get; private set; }
    public int Pages => Math.Max(1, (Total + PageSize - 1) / PageSize);
    public IReadOnlyList<(ReturnStatus Status, int Count)> Counts { get; private set; } = [];
    public IReadOnlyList<string> Carriers { get; private set; } = [];
    public IReadOnlyList<SavedView> Views { get; private set; } = [];
    public string? Message { get; private set; }

    public async Task OnGetAsync(string? saved)
    {
        Title = T("queue.title");
        Message = saved is null ? null : T("queue.view_saved", ("name", saved));
        var ct = HttpContext.RequestAborted;
        if (PageNumber < 1) PageNumber = 1;
        var filtered = Filter(Db.Returns.AsNoTracking(), includeStatus: false);
        Counts = (await filtered.GroupBy(r => r.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct))
            .OrderBy(c => c.Key).Select(c => (c.Key, c.Count)).ToList();
        var q = Filter(Db.Returns.AsNoTracking(), includeStatus: true);
        // The status filter is the only one the counts leave out, so the total is read off them, not counted again.
        Total = Codes.TryParse<ReturnStatus>(Status, out var only) ? Counts.FirstOrDefault(c => c.Status == only).Count : Counts.Sum(c => c.Count);
        var page = await q.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id)
            .Skip((PageNumber - 1) * PageSize).Take(PageSize)
            .Select(r => new { r.Id, r.Rma, r.OrderNumber, r.CustomerEmail, r.Status, r.Resolution, r.Method, r.CarrierCode, r.Currency, r.EstimateTotal, r.Flags, r.CreatedAt })
            .ToListAsync(ct);
        var ids = page.Select(p => p.Id).ToList();
        var reasons = (await Db.ReturnLines.AsNoTracking().Where(l => ids.Contains(l.ReturnId)).Select(l => new { l.ReturnId, l.Reason }).ToListAsync(ct))
            .ToLookup(l => l.ReturnId, l => l.Reason);
        Rows = [.. page.Select(p => new QueueRow(p.Id, p.Rma, p.OrderNumber, p.CustomerEmail, p.Status, p.Resolution, p.Method, p.CarrierCode, p.Currency,
            p.EstimateTotal, p.Flags, p.CreatedAt, [.. reasons[p.Id].Distinct()]))];
        Carriers = await Db.Carriers.AsNoTracking().OrderBy(c => c.Code).Select(c => c.Code).ToListAsync(ct);
        Views = await Db.SavedViews.AsNoTracking().Where(v => v.UserId == UserId).OrderBy(v => v.Name).ToListAsync(ct);
    }

    /// <summary>Keeps the current filters under a name, for this user.</summary>
    public async Task<IActionResult> OnPostSaveViewAsync([FromForm] string? name, [FromForm] string? query)
    {
        name = name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100) return Redirect("/console/returns" + (query ?? ""));
        query = query is { Length: > 0 and <= 2000 } && query.StartsWith('?') ? query : "";
        Db.SavedViews.Add(new SavedView { UserId = UserId, Name = name, Query = query, CreatedAt = Clock.GetUtcNow() });
        await Db.SaveChangesAsync(HttpContext.RequestAborted);
        var sep = query.Length == 0 ? "?" : "&";
        return Redirect($"/console/returns{query}{sep}saved={Uri.EscapeDataString(name)}");
    }

    public async Task<IActionResult> OnPostDeleteViewAsync([FromForm] Guid id)
    {
        await Db.SavedViews.Where(v => v.Id == id && v.UserId == UserId).ExecuteDeleteAsync(HttpContext.RequestAborted);
        return Redirect("/console/returns");
    }

    private IQueryable<Return> Filter(IQueryable<Return> q, bool includeStatus)
    {
        if (View == "needs_review") q = q.Where(r => r.Status == ReturnStatus.PendingReview);
        if (includeStatus && Codes.TryParse<ReturnStatus>(Status, out var status)) q = q.Where(r => r.Status == status);
        if (Codes.TryParse<ReasonCode>(Reason, out var reason)) q = q.Where(r => r.Lines.Any(l => l.Reason == reason));
        if (Codes.TryParse<ReturnMethod>(Method, out var method)) q = q.Where(r => r.Method == method);
        if (!string.IsNullOrEmpty(Carrier)) q = q.Where(r => r.CarrierCode == Carrier);
        if (!string.IsNullOrEmpty(Sku)) q = q.Where(r => r.Lines.Any(l => l.Sku == Sku));
        if (!string.IsNullOrEmpty(Category)) q = q.Where(r => r.Lines.Any(l => l.Category == Category));
        if (!string.IsNullOrEmpty(Warehouse)) q = q.Where(r => r.WarehouseCode == Warehouse);
        if (Codes.TryParse<Resolution>(Resolution, out var resolution)) q = q.Where(r => r.Resolution == resolution);
        if (Region?.Trim().ToUpperInvariant() is { Length: >= 2 and <= 110 } region)
        {
            // DE (a country) or US-CA (a state); the order's shipping address, as in the analytics facts.
            // As the analytics filter reads it: "DE" is the whole country, "US-CA" one state (trimmed and upper-cased like the facts).
            var (country, state) = region.IndexOf('-') is var dash && dash > 0 ? (region[..dash], region[(dash + 1)..]) : (region, null);
            q = state is null
                ? q.Where(r => Db.Orders.Any(o => o.Id == r.OrderId && o.ShipCountry != null && o.ShipCountry.Trim().ToUpper() == country))
                : q.Where(r => Db.Orders.Any(o => o.Id == r.OrderId && o.ShipCountry != null && o.ShipCountry.Trim().ToUpper() == country &&
                                                o.ShipRegion != null && o.ShipRegion.Trim().ToUpper() == state));
        }
        if (Flag == "any") q = q.Where(r => r.Flags != "");
        else if (Flag is not null && RiskFlags.Contains(Flag))
        {
            var f = Flag;
            q = q.Where(r => r.Flags == f || r.Flags.StartsWith(f + ",") || r.Flags.EndsWith("," + f) || r.Flags.Contains("," + f + ","));
        }
        if (From is { } from) { var t = Start(from); q = q.Where(r => r.CreatedAt >= t); }
        if (To is { } to) { var t = Start(to.AddDays(1)); q = q.Where(r => r.CreatedAt < t); }
        var s = Search?.Trim();
        if (!string.IsNullOrEmpty(s) && s.Length <= 320)
        {
            var rma = Rma.Normalize(s);
            var email = s.ToLowerInvariant();
            var tracking = s.ToUpperInvariant();
            q = q.Where(r => r.Rma == rma || r.OrderNumber == s || r.CustomerEmail == s || r.CustomerEmail == email ||
                             Db.Shipments.Any(x => x.ReturnId == r.Id && (x.TrackingNumber == s || x.TrackingNumber == tracking)));
        }
        return q;
    }

    private DateTimeOffset Start(DateOnly day) => Retour.Core.Policies.Returnability.StartOfDay(day, Merchant.Zone);

    public bool Filtered => !string.IsNullOrEmpty(Search) || Status is not null || Reason is not null || Method is not null || Carrier is not null ||
                            Flag is not null || From is not null || To is not null || View is not null || Drill.Count > 0;

    /// <summary>The dashboard's drill-down filters in force (they have no field in the filter form), shown as removable chips.</summary>
    public IReadOnlyList<(string Name, string Value)> Drill =>
        new (string Name, string? Value)[] { ("sku", Sku), ("category", Category), ("warehouse", Warehouse), ("region", Region), ("resolution", Resolution) }
            .Where(d => !string.IsNullOrEmpty(d.Value)).Select(d => (d.Name, d.Value!)).ToList();
}
