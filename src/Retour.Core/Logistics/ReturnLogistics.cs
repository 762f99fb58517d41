using System.Globalization;
using Retour.Core.Addresses;
using Retour.Core.Returns;

namespace Retour.Core.Logistics;

public sealed record LogisticsRequest(ReturnMethod Method, string? Carrier, bool BoxFree, string? PickupDate, PostalAddress? Address);

/// <summary>How the parcel travels: the carrier (if any), box-free drop-off, the pickup day and the address it leaves from.</summary>
public sealed record LogisticsChoice(string? Carrier, bool BoxFree, DateOnly? PickupDate, PostalAddress? From);

/// <summary>
/// Checks the shopper's choice of carrier, pickup day and address against the carriers the merchant has, and fills in
/// what was left out: the fastest carrier that serves the country, the first pickup day, the order's address.
/// </summary>
public static class ReturnLogistics
{
    /// <summary>How many days ahead a pickup can be booked.</summary>
    public const int PickupHorizonDays = 14;

    public static string ServiceOf(ReturnMethod method) => Codes.Of(method);

    /// <summary>Active carriers that offer the method (and box-free, when asked) at the address, fastest first.</summary>
    public static IReadOnlyList<CarrierProfile> CarriersFor(ReturnMethod method, PostalAddress? from, IEnumerable<CarrierProfile> all, bool boxFree = false) =>
        method is ReturnMethod.Pickup or ReturnMethod.DropOff
            ? [.. all.Where(c => c.Active && (boxFree ? method == ReturnMethod.DropOff && c.Offers("box_free") : c.Offers(ServiceOf(method))))
                .Where(c => c.Serves(from?.Country, from?.PostalCode))
                .OrderBy(c => c.TransitDays).ThenBy(c => c.Code, StringComparer.Ordinal)]
            : [];

    /// <summary>Days a carrier collects: from tomorrow, Monday to Saturday, within the horizon.</summary>
    public static IReadOnlyList<DateOnly> PickupDates(DateOnly today) =>
        [.. Enumerable.Range(1, PickupHorizonDays).Select(today.AddDays).Where(d => d.DayOfWeek != DayOfWeek.Sunday)];

    public static (LogisticsChoice? Choice, IReadOnlyList<FieldError> Errors) Resolve(
        LogisticsRequest request, PostalAddress? orderAddress, IReadOnlyList<CarrierProfile> carriers, DateOnly today)
    {
        var errors = new List<FieldError>();
        var method = request.Method;
        if (method is ReturnMethod.InStore or ReturnMethod.Keep)
        {
            if (request.Carrier is not null) errors.Add(new FieldError("carrier", $"No carrier takes part in '{Codes.Of(method)}' returns."));
            if (request.BoxFree) errors.Add(new FieldError("box_free", "Box-free applies to drop-off returns only."));
            return errors.Count > 0 ? (null, errors) : (new LogisticsChoice(null, false, null, Normalized(orderAddress)), errors);
        }

        var from = Normalized(request.Address ?? orderAddress);
        if (method == ReturnMethod.Pickup)
        {
            if (from is null) errors.Add(new FieldError("address", "A pickup needs the address to collect from."));
            else
                foreach (var p in AddressRules.Validate(from))
                    errors.Add(new FieldError($"address.{p.Field}", p.EnglishMessage));
        }
        if (request.BoxFree && method != ReturnMethod.DropOff) errors.Add(new FieldError("box_free", "Box-free applies to drop-off returns only."));

        DateOnly? day = null;
        if (method == ReturnMethod.Pickup)
        {
            var allowed = PickupDates(today);
            if (request.PickupDate is null) day = allowed[0];
            else if (!DateOnly.TryParseExact(request.PickupDate, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
                errors.Add(new FieldError("pickup_date", "Use the date format YYYY-MM-DD."));
            else if (!allowed.Contains(d))
                errors.Add(new FieldError("pickup_date", $"Pickups can be booked Monday to Saturday from {allowed[0]:yyyy-MM-dd} to {allowed[^1]:yyyy-MM-dd}."));
            else day = d;
        }
        else if (request.PickupDate is not null) errors.Add(new FieldError("pickup_date", "A pickup date applies to pickups only."));

        string? carrier = null;
        // A merchant without carriers has not set up logistics yet: the return is accepted and a carrier is assigned later.
        if (carriers.Count > 0)
        {
            var country = from?.Country;
            var candidates = CarriersFor(method, from, carriers, request.BoxFree);
            if (request.Carrier is { } wanted)
            {
                if (candidates.FirstOrDefault(c => c.Code == wanted) is { } c) carrier = c.Code;
                else if (carriers.Any(c => c.Code == wanted))
                    errors.Add(new FieldError("carrier", $"Carrier '{wanted}' does not offer {(request.BoxFree ? "box-free " : "")}{Codes.Of(method).Replace('_', '-')} in {country ?? "this country"}."));
                else errors.Add(new FieldError("carrier", $"There is no carrier '{wanted}'. Use one of: {string.Join(", ", carriers.Select(c => c.Code))}."));
            }
            else if (candidates.Count > 0) carrier = candidates[0].Code;
            else errors.Add(new FieldError(request.BoxFree ? "box_free" : "method",
                $"No carrier offers {(request.BoxFree ? "box-free " : "")}{Codes.Of(method).Replace('_', '-')} in {country ?? "this country"}."));
        }
        return errors.Count > 0 ? (null, errors) : (new LogisticsChoice(carrier, request.BoxFree, day, from), errors);
    }

    private static PostalAddress? Normalized(PostalAddress? a) => a is null ? null : AddressRules.Normalize(a);
}
