using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Retour.Features.Portal.Pages;

/// <summary>
/// Step 1: the shopper proves the order is theirs with its number and the email or postal code on it. A wrong combination
/// gets one neutral message; failures are limited per order number (<see cref="Limit"/> in <see cref="Window"/>) and per
/// client address (<see cref="AddressLimit"/>: households and offices share one), so neither guessing emails for one
/// number nor guessing numbers gets far.
/// </summary>
public sealed class LookupModel : PortalPage
{
    public const int Limit = 10;
    public const int AddressLimit = 30;
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    public override int Step => 1;
    public string? OrderNumber { get; private set; }
    public string? Contact { get; private set; }
    public string? Error { get; private set; }
    public bool Expired { get; private set; }

    public void OnGet(string? expired)
    {
        Title = T("portal.lookup.title");
        Expired = expired == "1";
    }

    public async Task<IActionResult> OnPostAsync([FromForm(Name = "order_number")] string? orderNumber, [FromForm(Name = "contact")] string? contact)
    {
        Title = T("portal.lookup.title");
        OrderNumber = orderNumber?.Trim();
        Contact = contact?.Trim();
        var ct = HttpContext.RequestAborted;
        var number = NormalizeNumber(orderNumber);
        var given = contact?.Trim() ?? "";
        if (number.Length == 0 || given.Length == 0 || number.Length > 64 || given.Length > 320)
        {
            Error = T("portal.lookup.missing");
            return Page();
        }

        var now = Clock.GetUtcNow();
        var ipKey = "ip:" + (HttpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        var orderKey = $"order:{Merchant.Id:N}:{number}";
        var since = now - Window;
        var recent = await Db.LookupFailures.Where(f => (f.Key == ipKey || f.Key == orderKey) && f.At > since)
            .GroupBy(f => f.Key).Select(g => new { g.Key, Count = g.Count(), First = g.Min(f => f.At) }).ToListAsync(ct);
        var blocked = recent.Where(r => r.Count >= (r.Key == orderKey ? Limit : AddressLimit)).ToList();
        if (blocked.Count > 0)
        {
            var until = blocked.Max(b => b.First) + Window;
            var minutes = Math.Max(1, (int)Math.Ceiling((until - now).TotalMinutes));
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = (minutes * 60).ToString();
            Error = T("portal.lookup.too_many", ("minutes", minutes.ToString(Culture)));
            return Page();
        }

        var candidates = await Db.Orders.AsNoTracking()
            .Where(o => o.Number == number || o.Number == number.ToUpperInvariant() || o.Number == "#" + number)
            .Select(o => new { o.Id, o.Number, o.CustomerEmail, o.ShipPostalCode }).ToListAsync(ct);
        var match = candidates.FirstOrDefault(o => Matches(given, o.CustomerEmail, o.ShipPostalCode));
        if (match is null)
        {
            Db.LookupFailures.Add(new LookupFailure { Key = ipKey, At = now });
            Db.LookupFailures.Add(new LookupFailure { Key = orderKey, At = now });
            await Db.SaveChangesAsync(ct);
            Error = T("portal.lookup.not_found");
            return Page();
        }

        var session = new PortalSession { OrderId = match.Id, CreatedAt = now, UpdatedAt = now, ExpiresAt = now + PortalSession.Lifetime };
        Db.PortalSessions.Add(session);
        await SaveAsync(session, new PortalState { OrderNumber = match.Number, Email = match.CustomerEmail });
        StartSession(session);
        return Redirect($"/r/{Slug}/items");
    }

    /// <summary>"#1001 ", "1001" and "d1001" find the same order: spaces and a leading '#' go, letters are compared upper-case.</summary>
    public static string NormalizeNumber(string? raw)
    {
        var s = (raw ?? "").Trim();
        if (s.StartsWith('#')) s = s[1..].Trim();
        return s;
    }

    /// <summary>The email (any case) or the postal code (any case, spaces ignored) on the order.</summary>
    public static bool Matches(string given, string? email, string? postal)
    {
        if (given.Contains('@')) return email is not null && string.Equals(email.Trim(), given, StringComparison.OrdinalIgnoreCase);
        static string Squash(string s) => new(s.Where(c => !char.IsWhiteSpace(c) && c != '-').Select(char.ToUpperInvariant).ToArray());
        return postal is not null && Squash(postal).Length > 0 && Squash(postal) == Squash(given);
    }
}
