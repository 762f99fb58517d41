using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core;
using Retour.Core.Money;
using Retour.Core.Policies;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Catalog;

public sealed record ProductDto(string Sku, string ProductCode, string Title, string Category, IReadOnlyDictionary<string, string>? Variant,
    string Price, bool FinalSale, int Stock, string? Supplier, DateTimeOffset UpdatedAt, string? Cost = null);

public sealed record ProductInput(string? ProductCode, string? Title, string? Category, IReadOnlyDictionary<string, string>? Variant,
    decimal? Price, bool? FinalSale, int? Stock, string? Supplier, decimal? Cost = null);

/// <summary>The merchant's catalogue: it gives Shopify lines their category and final-sale flag, and exchanges their variants.</summary>
public static class CatalogEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/products", List).RequireScope(Scopes.CatalogRead).WithName("ListProducts").WithTags("Catalog");
        api.MapPut("/products/{sku}", Put).RequireScope(Scopes.CatalogWrite).WithName("PutProduct").WithTags("Catalog")
            .WithSummary("Create or replace a product variant by SKU");
    }

    public static async Task<Results<Ok<Page<ProductDto>>, ProblemHttpResult>> List(
        RetourDb db, MerchantDirectory merchants, TenantContext tenant, CancellationToken ct, string? category = null, string? cursor = null, string? limit = null)
    {
        var errors = Cursor.Check(limit, cursor, 'p', out var take, out var after);
        if (errors.Count > 0) return Problems.Validation(errors);
        var currency = (await merchants.GetAsync(tenant.MerchantId, ct))!.Currency;
        var q = db.Products.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(category)) { var c = Categories.Normalize(category); q = q.Where(p => p.Category == c); }
        if (after is { } a) q = q.Where(p => p.CreatedAt > a.At || (p.CreatedAt == a.At && p.Id.CompareTo(a.Id) > 0));
        var rows = await q.OrderBy(p => p.CreatedAt).ThenBy(p => p.Id).Take(take + 1).ToListAsync(ct);
        var more = rows.Count > take;
        if (more) rows.RemoveAt(take);
        return TypedResults.Ok(new Page<ProductDto>([.. rows.Select(p => ToDto(p, currency))],
            more ? Cursor.Encode('p', rows[^1].CreatedAt, rows[^1].Id) : null, more));
    }

    public static async Task<Results<Ok<ProductDto>, ProblemHttpResult>> Put(
        string sku, ProductInput input, RetourDb db, MerchantDirectory merchants, TenantContext tenant, TimeProvider clock, CancellationToken ct)
    {
        var errors = new List<FieldError>();
        if (sku.Length is 0 or > 100) errors.Add(new FieldError("sku", "A SKU has 1 to 100 characters."));
        if (string.IsNullOrWhiteSpace(input.Title)) errors.Add(new FieldError("title", "The title is required."));
        if (input.Price is not { } price || price < 0 || price > Orders.OrderValidation.MaxAmount) errors.Add(new FieldError("price", "Give a price of 0 or more."));
        if (input.Cost is < 0 or > Orders.OrderValidation.MaxAmount) errors.Add(new FieldError("cost", "Give a cost of 0 or more, or leave it out."));
        if (input.Stock is < 0) errors.Add(new FieldError("stock", "Stock cannot be negative."));
        if (input.Title is { Length: > 300 }) errors.Add(new FieldError("title", "At most 300 characters."));
        if (Categories.Normalize(input.Category).Length > 64) errors.Add(new FieldError("category", "At most 64 characters."));
        if (input.ProductCode is { Length: > 100 }) errors.Add(new FieldError("product_code", "At most 100 characters."));
        if (input.Supplier is { Length: > 100 }) errors.Add(new FieldError("supplier", "At most 100 characters."));
        if (input.Variant is not null && Json.Serialize(input.Variant).Length > 2000) errors.Add(new FieldError("variant", "The variant is too large."));
        if (errors.Count > 0) return Problems.Validation(errors);

        var now = clock.GetUtcNow();
        var p = await db.Products.FirstOrDefaultAsync(x => x.Sku == sku, ct);
        if (p is null)
        {
            p = new Product { Sku = sku, ProductCode = "", Title = "", Category = "", CreatedAt = now };
            db.Products.Add(p);
        }
        p.ProductCode = string.IsNullOrWhiteSpace(input.ProductCode) ? sku : input.ProductCode.Trim();
        p.Title = input.Title!.Trim();
        p.Category = Categories.Normalize(input.Category);
        p.VariantJson = input.Variant is { Count: > 0 } v ? Json.Serialize(v) : null;
        p.Price = input.Price!.Value;
        p.FinalSale = input.FinalSale ?? false;
        p.Stock = input.Stock ?? 0;
        p.Supplier = input.Supplier;
        p.Cost = input.Cost;
        p.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToDto(p, (await merchants.GetAsync(tenant.MerchantId, ct))!.Currency));
    }

    private static ProductDto ToDto(Product p, string currency) => new(p.Sku, p.ProductCode, p.Title, p.Category,
        p.VariantJson is null ? null : Json.Deserialize<Dictionary<string, string>>(p.VariantJson),
        Currencies.Format(p.Price, currency), p.FinalSale, p.Stock, p.Supplier, p.UpdatedAt,
        p.Cost is { } c ? Currencies.Format(c, currency) : null);
}
