using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Policies;
using Retour.Features.Policies;
using Retour.Infrastructure.Http;

namespace Retour.Features.Console.Pages.Analytics;

/// <summary>
/// The dashboards: KPIs, trend, breakdowns, funnel, insights and the policy what-if, drawn by analytics.js with Chart.js
/// from the same /api/v1/analytics/… answers an integration reads (so every figure on screen has an endpoint and a CSV).
/// The filters are a plain GET form: a filtered dashboard is a URL to share. Every bar and row drills down to the
/// returns queue with the same filters.
/// </summary>
[Authorize(Policy = ConsolePolicy.AnalyticsRead)]
public sealed class IndexModel : ConsolePage
{
    public override string Section => "analytics";

    [FromQuery(Name = "from")] public string? From { get; set; }
    [FromQuery(Name = "to")] public string? To { get; set; }
    [FromQuery(Name = "category")] public string? Category { get; set; }
    [FromQuery(Name = "region")] public string? Region { get; set; }
    [FromQuery(Name = "carrier")] public string? Carrier { get; set; }
    [FromQuery(Name = "warehouse")] public string? Warehouse { get; set; }

    public IReadOnlyList<string> Categories { get; private set; } = [];
    public IReadOnlyList<string> Carriers { get; private set; } = [];
    public IReadOnlyList<string> Warehouses { get; private set; } = [];
    /// <summary>The policy in force, the starting point of the what-if's draft.</summary>
    public ReturnPolicy Policy { get; private set; } = ReturnPolicy.Default;
    public string PolicyJson { get; private set; } = "{}";
    /// <summary>The texts analytics.js needs, in the console's language (labels of reasons, resolutions and the dashboard's own).</summary>
    public string TextsJson { get; private set; } = "{}";

    public int ActiveFilters => new[] { Category, Region, Carrier, Warehouse }.Count(f => !string.IsNullOrEmpty(f));

    public async Task OnGetAsync()
    {
        Title = T("analytics.title");
        var ct = HttpContext.RequestAborted;
        Categories = await Db.Products.AsNoTracking().Select(p => p.Category).Distinct().OrderBy(c => c).ToListAsync(ct);
        Carriers = await Db.Carriers.AsNoTracking().OrderBy(c => c.Code).Select(c => c.Code).ToListAsync(ct);
        Warehouses = await Db.Warehouses.AsNoTracking().OrderBy(w => w.Code).Select(w => w.Code).ToListAsync(ct);
        var current = await HttpContext.RequestServices.GetRequiredService<PolicyBook>().CurrentAsync(Db, ct);
        Policy = current?.Policy ?? ReturnPolicy.Default;
        PolicyJson = ForScriptTag(Json.Serialize(Policy));
        var all = Texts.All(Locale);
        var wanted = Texts.All("en").Keys.Where(k => k.StartsWith("analytics.", StringComparison.Ordinal) || k.StartsWith("reason.", StringComparison.Ordinal) ||
                                                     k.StartsWith("resolution.", StringComparison.Ordinal) || k.StartsWith("method.", StringComparison.Ordinal));
        TextsJson = ForScriptTag(JsonSerializer.Serialize(wanted.ToDictionary(k => k, k => all.GetValueOrDefault(k) ?? Texts.Get("en", k))));
    }

    /// <summary>
    /// JSON that is safe inside a &lt;script type="application/json"&gt; element: &lt;, &gt; and &amp; only occur inside JSON
    /// strings, where their \u escapes mean the same, so no text in a policy (a category name, say) can end the element.
    /// </summary>
    public static string ForScriptTag(string json) =>
        json.Replace("<", "\\u003c", StringComparison.Ordinal).Replace(">", "\\u003e", StringComparison.Ordinal).Replace("&", "\\u0026", StringComparison.Ordinal);
}
