using Microsoft.AspNetCore.Http.HttpResults;
using Retour.Core.Money;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Retour.Features.Policies;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;
using Retour.Infrastructure.Localization;

namespace Retour.Features.Returns;

public sealed record LineReturnabilityDto(
    string OrderLineId, string? Sku, string Title, string Category, int Quantity,
    bool Returnable, int ReturnableQuantity, DateTimeOffset? Deadline,
    IReadOnlyList<Resolution> Resolutions, IReadOnlyList<ReturnMethod> Methods,
    string UnitValue, string? ReasonCode, string Message, string Explanation);

public sealed record ReturnabilityDto(string OrderNumber, string Currency, string Locale, int PolicyVersion, IReadOnlyList<LineReturnabilityDto> Lines);

/// <summary>GET /api/v1/orders/{number}/returnability: per line, how many can come back, until when and how — or why not.</summary>
public static class GetReturnability
{
    public static void Map(RouteGroupBuilder api) =>
        api.MapGet("/orders/{number}/returnability", Handle).RequireScope(Scopes.OrdersRead)
            .WithName("GetReturnability").WithTags("Returns")
            .WithSummary("What can be returned from an order")
            .WithDescription("Messages are in the language of ?lang=, else Accept-Language, else the customer's, else the merchant's default.");

    public static async Task<Results<Ok<ReturnabilityDto>, ProblemHttpResult>> Handle(
        string number, HttpRequest request, RetourDb db, ReturnServices services, Texts texts,
        TimeProvider clock, CancellationToken ct, string? lang = null)
    {
        var (state, _) = await ReturnableOrder.LoadAsync(db, services, number, null, ct);
        if (state is null) return Problems.NotFound($"There is no order '{number}'.");
        var locale = Texts.Choose(lang, request.Headers.AcceptLanguage, state.Order.CustomerLocale, state.Merchant.DefaultLocale);
        var verdicts = state.Judge(clock.GetUtcNow());
        return TypedResults.Ok(new ReturnabilityDto(state.Order.Number, state.Order.Currency, locale, state.Policy.Version,
            [.. verdicts.Select(v => ToDto(v, state, locale, texts))]));
    }

    public static LineReturnabilityDto ToDto(LineVerdict v, ReturnableOrder state, string locale, Texts texts)
    {
        var line = state.Order.Lines.First(l => l.LineRef == v.Line.LineId);
        return new LineReturnabilityDto(
            v.Line.LineId, line.Sku, line.Title, line.Category, line.Quantity, v.Returnable, v.ReturnableQuantity, v.Deadline,
            v.Resolutions, v.Methods, Currencies.Format(v.Line.UnitValue, state.Order.Currency),
            v.Reason is { } r ? Codes.Of(r) : null, Message(v, state.Merchant.Zone, locale, texts), v.Explanation);
    }

    public static string Message(LineVerdict v, TimeZoneInfo zone, string locale, Texts texts)
    {
        var deadline = v.Deadline is { } d ? TimeZoneInfo.ConvertTime(d, zone).ToString("D", Texts.Culture(locale)) : "";
        return v.Reason is { } reason
            ? texts.Get(locale, "not_returnable." + Codes.Of(reason), ("deadline", deadline))
            : texts.Get(locale, "returnable.until", ("deadline", deadline));
    }
}
