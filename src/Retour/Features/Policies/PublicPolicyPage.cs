using System.Text;
using System.Text.Encodings.Web;
using Retour.Core.Money;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;

namespace Retour.Features.Policies;

/// <summary>GET /r/{slug}/policy: the current policy as a public page, generated from the policy data.</summary>
public static class PublicPolicyPage
{
    public static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/r/{slug}/policy", Handle).WithName("PublicPolicy").WithTags("Portal").AllowAnonymous();

    public static async Task<IResult> Handle(string slug, MerchantDirectory merchants, TenantContext tenant, RetourDb db, PolicyBook book, CancellationToken ct)
    {
        var merchant = await merchants.FindBySlugAsync(slug, ct);
        if (merchant is null) return Results.NotFound();
        tenant.Set(merchant.Id);
        var current = await book.CurrentAsync(db, ct);
        if (current is null) return Results.NotFound();
        return Results.Content(Render(merchant, current.Value.Row, current.Value.Policy), "text/html; charset=utf-8");
    }

    public static string Render(MerchantInfo m, PolicyVersion row, ReturnPolicy p)
    {
        var h = HtmlEncoder.Default;
        string E(string s) => h.Encode(s);
        string Money(decimal v) => $"{Currencies.Format(v, m.Currency)} {m.Currency}";
        string Fee(Fee f) => f.Value == 0 ? "none" : f.Type == FeeKind.Percent ? $"{f.Value:0.##}% of the item price" : $"{Money(f.Value)} per item";
        string List<T>(IEnumerable<T> xs) where T : struct, Enum => string.Join(", ", xs.Select(x => Codes.Of(x).Replace('_', ' ')));

        var sb = new StringBuilder();
        sb.Append($"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{E(m.Name)} — return policy</title></head><body>");
        sb.Append($"<main><h1>{E(m.Name)} return policy</h1><p>Version {row.Version}, in force since {row.CreatedAt:yyyy-MM-dd}.</p>");
        sb.Append($"<h2>Return window</h2><p>You can return most items within {p.WindowDays} days of delivery.</p>");
        if (p.Categories.Count > 0)
        {
            sb.Append("<table><thead><tr><th>Category</th><th>Window</th><th>Resolutions</th><th>Methods</th><th>Restocking fee</th></tr></thead><tbody>");
            foreach (var (cat, r) in p.Categories.OrderBy(c => c.Key))
                sb.Append($"<tr><td>{E(cat)}</td><td>{r.WindowDays ?? p.WindowDays} days</td><td>{List(r.Resolutions ?? p.Resolutions)}</td><td>{List(r.Methods ?? p.Methods)}</td><td>{E(Fee(r.RestockingFee ?? p.RestockingFee))}</td></tr>");
            sb.Append("</tbody></table>");
        }
        if (p.ProductWindows.Count > 0)
        {
            sb.Append("<p>Some products have their own window:</p><ul>");
            foreach (var (product, days) in p.ProductWindows.OrderBy(x => x.Key)) sb.Append($"<li>{E(product)}: {days} days</li>");
            sb.Append("</ul>");
        }
        foreach (var s in p.SeasonalExtensions)
            sb.Append($"<p>{E(s.Name)}: orders placed between {E(s.PlacedFrom)} and {E(s.PlacedTo)} (month-day) can be returned until {E(s.ReturnableUntil)}.</p>");
        sb.Append("<h2>What cannot be returned</h2><ul><li>Items marked final sale.</li>");
        foreach (var c in p.NonReturnableCategories) sb.Append($"<li>Items in the category {E(c)}.</li>");
        sb.Append("</ul>");
        sb.Append($"<h2>How you get your money back</h2><p>Resolutions: {List(p.Resolutions)}.</p><p>Return methods: {List(p.Methods)}.</p>");
        if (p.StoreCreditBonusPercent > 0) sb.Append($"<p>Choose store credit and get a {p.StoreCreditBonusPercent:0.##}% bonus.</p>");
        if (p.KeepItThreshold is { } k && p.Methods.Contains(ReturnMethod.Keep))
            sb.Append($"<p>For items worth less than {Money(k)}, you may keep the item and still get your refund.</p>");
        sb.Append($"<h2>Fees</h2><ul><li>Restocking fee: {E(Fee(p.RestockingFee))}.</li>");
        sb.Append($"<li>Return shipping: {(p.ReturnShippingFee == 0 ? "free" : Money(p.ReturnShippingFee))}.</li>");
        if (p.FeeWaivedReasons.Count > 0) sb.Append($"<li>No fees when the item is {List(p.FeeWaivedReasons)}.</li>");
        sb.Append($"<li>Original shipping costs are {(p.RefundOriginalShipping ? "refunded when you return the whole order" : "not refunded")}.</li></ul>");
        sb.Append($"<h2>When you are refunded</h2><p>{p.RefundMoment switch
        {
            RefundMoment.OnFirstScan => "As soon as the carrier scans your parcel.",
            RefundMoment.OnDelivery => "When your parcel reaches our warehouse.",
            _ => "After we have received and checked your item.",
        }}</p>");
        if (p.Conditions.Count > 0)
            sb.Append($"<h2>Condition of the item</h2><ul>{string.Concat(p.Conditions.Select(c => $"<li>{E(c.Replace('_', ' '))}</li>"))}</ul>");
        sb.Append("</main></body></html>");
        return sb.ToString();
    }
}
