using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Retour.Core.Returns;
using Retour.Features.Orders;
using Retour.Features.Returns;

namespace Retour.Infrastructure.Http;

/// <summary>
/// Makes the OpenAPI document say what the JSON really is: money as decimal strings, enums as their snake_case codes,
/// and "required" only for what the API requires (input records take nullable fields so validation can name what is missing).
/// </summary>
public static class OpenApiShapes
{
    private static readonly Dictionary<Type, string[]> Required = new()
    {
        [typeof(OrderInput)] = ["number", "placed_at", "currency", "lines"],
        [typeof(LineInput)] = ["id", "title", "quantity", "unit_price"],
        [typeof(CustomerInput)] = [],
        [typeof(AddressInput)] = [],
        [typeof(CreateReturnRequest)] = ["order_number", "lines", "resolution", "method"],
        [typeof(CreateReturnLine)] = ["order_line_id", "quantity", "reason"],
    };

    public static OpenApiOptions AddRetourShapes(this OpenApiOptions o) => o.AddSchemaTransformer((schema, context, _) =>
    {
        var type = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type;
        var nullable = type != context.JsonTypeInfo.Type;
        if (type == typeof(decimal))
        {
            schema.Type = nullable ? JsonSchemaType.String | JsonSchemaType.Null : JsonSchemaType.String;
            schema.Format = "decimal";
            schema.Pattern = @"^-?\d+(\.\d+)?$";
        }
        else if (type.IsEnum)
        {
            schema.Type = nullable ? JsonSchemaType.String | JsonSchemaType.Null : JsonSchemaType.String;
            schema.Format = null;
            schema.Enum = [.. Enum.GetNames(type).Select(n => (System.Text.Json.Nodes.JsonNode)Codes.SnakeCase(n))];
        }
        else if (Required.TryGetValue(type, out var required))
        {
            schema.Required = new HashSet<string>(required);
        }
        return Task.CompletedTask;
    });
}
