using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Addresses;
using Retour.Core.Logistics;
using Retour.Core.Returns;
using Retour.Features.Carriers;
using Retour.Features.Returns;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Http;

namespace Retour.Features.Portal.Pages;

/// <summary>
/// The failed-pickup page, opened from the link in the "we could not collect your parcel" message (the return's signed
/// status token): why the carrier failed, and a form to confirm the address or correct it, and choose the day of the next
/// attempt. The answer goes to the carrier through the outbox (see PickupRecoveryFlow).
/// </summary>
public sealed class PickupModel : PortalPage
{
    public Return Return { get; private set; } = null!;
    public NdrCase? Case { get; private set; }
    public CarrierProfile? Carrier { get; private set; }
    public PostalAddress Address { get; private set; } = null!;
    public IReadOnlyList<DateOnly> Days { get; private set; } = [];
    public Dictionary<string, string> Errors { get; } = [];
    public string? FormError { get; private set; }
    public string Token { get; private set; } = "";
    public string ChosenAction { get; private set; } = "confirm";
    public string? ChosenDay { get; private set; }
    public string BackUrl => $"/r/{Slug}/returns/{Return.Rma}?t={Uri.EscapeDataString(Token)}";
    public IReadOnlyList<string> Countries { get; private set; } = [];

    private async Task<IActionResult?> LoadAsync(string rma, string? t)
    {
        Title = T("portal.pickup.title");
        var normal = Rma.Normalize(rma);
        if (normal is null || !TokenOpens(t, normal)) return InvalidLink();
        var ct = HttpContext.RequestAborted;
        var ret = await Db.Returns.FirstOrDefaultAsync(r => r.Rma == normal, ct);
        if (ret is null) return InvalidLink();
        Return = ret;
        Token = t!;
        Case = await Db.NdrCases.Where(c => c.ReturnId == ret.Id).OrderByDescending(c => c.CreatedAt).FirstOrDefaultAsync(ct);
        if (Case is not null && !PickupRecovery.Open(Case.State)) Case = null;
        Address = ret.FromAddressJson is { } json ? Json.Deserialize<PostalAddress>(json)! : new PostalAddress(null, null, null, null, null, null, null, null);
        if (Case is not null)
        {
            Carrier = (await Db.Carriers.AsNoTracking().FirstOrDefaultAsync(c => c.Code == Case.CarrierCode, ct))?.ToProfile();
            if (Carrier is not null)
            {
                Days = PickupRecovery.Days(Carrier, TimeZoneInfo.ConvertTime(Clock.GetUtcNow(), Merchant.Zone).DateTime);
                Countries = [.. Carrier.Areas.Select(a => a.Country)];
            }
        }
        return null;
    }

    private IActionResult InvalidLink()
    {
        Title = T("portal.status.invalid_title");
        Response.StatusCode = StatusCodes.Status404NotFound;
        return Partial("_InvalidLink", this);
    }

    public async Task<IActionResult> OnGetAsync(string rma, string? t) => await LoadAsync(rma, t) ?? Page();

    public async Task<IActionResult> OnPostAsync(string rma, string? t)
    {
        if (await LoadAsync(rma, t) is { } stop) return stop;
        if (Case is null || Carrier is null) return Page();
        var f = Request.Form;
        ChosenAction = f["action"] == "fix_address" ? "fix_address" : "confirm";
        ChosenDay = f["pickup_date"].ToString();
        var action = ChosenAction == "fix_address" ? RecoveryAction.FixAddress : RecoveryAction.Confirm;
        DateOnly? day = Days.FirstOrDefault(d => d.ToString("yyyy-MM-dd") == ChosenDay) is var d0 && d0 != default ? d0 : null;
        if (day is null) Errors["pickup_date"] = T("portal.options.choose_date");
        PostalAddress? address = null;
        if (action == RecoveryAction.FixAddress)
        {
            address = AddressFromForm();
            Address = address;
            AddAddressErrors(address, Errors);
            if (!Errors.Keys.Any(k => k.StartsWith("addr_")) && !Carrier.Serves(address.Country, address.PostalCode))
                Errors["addr_postal_code"] = T("portal.pickup.not_served", ("carrier", Carrier.Name));
        }
        if (Errors.Count == 0)
        {
            var ct = HttpContext.RequestAborted;
            var flow = HttpContext.RequestServices.GetRequiredService<PickupRecoveryFlow>();
            var problems = await flow.AnswerAsync(Db, Case, action, day, address, new Actor("shopper", Return.CustomerEmail, Return.CustomerEmail ?? "shopper"),
                Clock.GetUtcNow(), ct);
            if (problems.Count == 0)
            {
                try
                {
                    await Db.SaveChangesAsync(ct);
                    return Redirect(BackUrl + "&rebooked=1");
                }
                catch (DbUpdateConcurrencyException) { FormError = T("portal.pickup.changed"); }
            }
            else FormError = string.Join(" ", problems.Select(p => p.Message));
        }
        FormError ??= T("portal.fix_errors");
        Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
        return Page();
    }

    public string Reason(string code) => TryT("portal.pickup.reason." + code) ?? T("portal.pickup.reason.other");
}
