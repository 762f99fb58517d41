using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Warehouse;
using Retour.Features.Policies;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Warehouses;

/// <summary>GET/PUT /api/v1/warehouse/rules: inspection checklists per category, the disposition table, recovery rates, suppliers.</summary>
public static class WarehouseRulesEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/warehouse/rules", Get).RequireScope(Scopes.WarehouseRead).WithName("GetWarehouseRules").WithTags("Warehouse")
            .WithSummary("The merchant's warehouse rules (the defaults until changed)");
        api.MapPut("/warehouse/rules", Put).RequireScope(Scopes.WarehouseAdmin).WithName("PutWarehouseRules").WithTags("Warehouse")
            .WithSummary("Replace the warehouse rules")
            .WithDescription("Body: {checklists: {category|\"*\": [question codes]}, dispositions: [{name, reasons, grades, categories, min_value, max_value, disposition, channel}], " +
                             "liquidation_percents: {grade: percent of cost}, refurbish_percent, suppliers: [{code, name, claim_days}], claim_warning_days}. " +
                             "Fields left out take the defaults. Rules are tried in order; the first that matches proposes. Errors name the field.");
    }

    public static async Task<WarehouseRules> LoadAsync(RetourDb db, CancellationToken ct)
    {
        var merchantId = db.Tenant.MerchantId;
        var json = await db.Merchants.AsNoTracking().Where(m => m.Id == merchantId).Select(m => m.WarehouseRulesJson).FirstOrDefaultAsync(ct);
        return json is null ? WarehouseRules.Default : JsonSerializer.Deserialize<WarehouseRules>(json, PolicyBook.StrictJson)!;
    }

    public static async Task<Ok<WarehouseRules>> Get(RetourDb db, CancellationToken ct) => TypedResults.Ok(await LoadAsync(db, ct));

    public static async Task<Results<Ok<WarehouseRules>, ProblemHttpResult>> Put(HttpContext http, RetourDb db, CancellationToken ct)
    {
        var (rules, problem) = await http.Request.ReadStrictJsonAsync<WarehouseRules>("Send the rules as a JSON object.", ct);
        if (rules is null) return problem!;
        var errors = rules.Validate();
        if (errors.Count > 0) return Problems.Validation(errors);
        var merchantId = db.Tenant.MerchantId;
        var m = await db.Merchants.FirstAsync(x => x.Id == merchantId, ct);
        m.WarehouseRulesJson = JsonSerializer.Serialize(rules, Json.Options);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(rules);
    }
}
