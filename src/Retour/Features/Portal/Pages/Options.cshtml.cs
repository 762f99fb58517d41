using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Addresses;
using Retour.Core.Logistics;
using Retour.Core.Returns;
using Retour.Features.Carriers;

namespace Retour.Features.Portal.Pages;

public sealed record VariantOption(string Sku, string Label, int Stock, decimal PriceDifference);

/// <summary>
/// Step 3: how the shopper is made whole (refund, store credit with its bonus, or another variant of the same product)
/// and how the item travels (pickup at an address checked against the country's rules, drop-off, box-free drop-off,
/// in store, or keep it). Only what the policy allows for every chosen line, and what a carrier serves, is offered.
/// </summary>
public sealed class OptionsModel : PortalPage
{
    public override int Step => 3;
    public PortalOrder Order { get; private set; } = null!;
    public PortalState State { get; private set; } = null!;
    public IReadOnlyList<Resolution> Resolutions { get; private set; } = [];
    public IReadOnlyList<ReturnMethod> Methods { get; private set; } = [];
    public MerchantLogistics Logistics { get; private set; } = null!;
    public PostalAddress Address { get; private set; } = null!;
    public Dictionary<string, IReadOnlyList<VariantOption>> Variants { get; } = [];
    public Dictionary<string, string> Errors { get; } = [];
    public string? FormError { get; private set; }
    public IReadOnlyList<DateOnly> PickupDates => ReturnLogistics.PickupDates(Today);
    public decimal BonusPercent => Order.State.Policy.Policy.StoreCreditBonusPercent;
    public string Currency => Order.State.Order.Currency;

    public IReadOnlyList<CarrierProfile> CarriersFor(ReturnMethod method, bool boxFree = false) =>
        ReturnLogistics.CarriersFor(method, Address, Logistics.Carriers, boxFree);

    /// <summary>Methods the policy allows and, for travelling ones, a carrier serves (or no carriers are set up yet).</summary>
    public bool Offered(ReturnMethod m, bool boxFree = false) =>
        Methods.Contains(m) && (m is ReturnMethod.InStore or ReturnMethod.Keep ? !boxFree : Logistics.Carriers.Count == 0 ? !boxFree : CarriersFor(m, boxFree).Count > 0);

    private PortalSession _session = null!;

    private async Task<IActionResult?> LoadAsync()
    {
        Title = T("portal.options.title");
        var s = await LoadSessionAsync();
        if (s is null) return BackToStart();
        (_session, State) = s.Value;
        if (_session.ReturnId is not null) return Redirect($"/r/{Slug}/review");
        if (State.Lines.Count == 0) return Redirect($"/r/{Slug}/items");
        var order = await PortalOrder.LoadAsync(this, _session, State);
        if (order is null) return BackToStart();
        Order = order;
        var chosen = State.Lines.Keys.Select(order.Line).Where(l => l is { Verdict.Returnable: true }).Select(l => l!).ToList();
        if (chosen.Count != State.Lines.Count) return Redirect($"/r/{Slug}/items");
        Resolutions = [.. Enum.GetValues<Resolution>().Where(r => chosen.All(l => l.Verdict.Resolutions.Contains(r)))];
        Methods = [.. Enum.GetValues<ReturnMethod>().Where(m => chosen.All(l => l.Verdict.Methods.Contains(m)))];
        Logistics = await HttpContext.RequestServices.GetRequiredService<LogisticsDirectory>().GetAsync(Merchant.Id, HttpContext.RequestAborted);
        Address = State.Address ?? await Db.Orders.AsNoTracking().Where(o => o.Id == _session.OrderId)
            .Select(Retour.Features.Orders.Order.ShippingAddress)
            .FirstAsync(HttpContext.RequestAborted);
        if (Resolutions.Contains(Resolution.Exchange))
        {
            var codes = chosen.Select(l => l.ProductCode).OfType<string>().Distinct().ToList();
            var products = await Db.Products.AsNoTracking().Where(p => codes.Contains(p.ProductCode)).OrderBy(p => p.Sku).ToListAsync(HttpContext.RequestAborted);
            foreach (var l in chosen)
                Variants[l.Ref] = [.. products.Where(p => p.ProductCode == l.ProductCode)
                    .Select(p => new VariantOption(p.Sku, PortalOrder.VariantText(p.VariantJson) ?? p.Title, p.Stock, p.Price - Order.State.Order.Lines.First(x => x.LineRef == l.Ref).UnitPrice))];
        }
        return null;
    }

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ?? Page();

    public async Task<IActionResult> OnPostAsync()
    {
        if (await LoadAsync() is { } stop) return stop;
        var f = Request.Form;
        State.Resolution = f["resolution"].ToString() is { Length: > 0 } r ? r : null;
        var method = f["method"].ToString();
        State.BoxFree = method == "drop_off_box_free";
        State.Method = State.BoxFree ? "drop_off" : method is { Length: > 0 } ? method : null;

        if (!Codes.TryParse<Resolution>(State.Resolution, out var resolution) || !Resolutions.Contains(resolution))
            Errors["resolution"] = T("portal.options.choose_resolution");
        else if (resolution == Resolution.Exchange)
        {
            foreach (var (lineRef, _) in State.Lines)
            {
                var sku = f[$"exchange_{lineRef}"].ToString();
                var options = Variants.GetValueOrDefault(lineRef) ?? [];
                if (options.FirstOrDefault(o => o.Sku == sku) is not { } o) Errors[$"exchange_{lineRef}"] = T("portal.options.choose_variant");
                else if (o.Stock < 1) Errors[$"exchange_{lineRef}"] = T("portal.options.out_of_stock");
                else State.Exchange[lineRef] = sku;
            }
        }
        if (resolution != Resolution.Exchange) State.Exchange.Clear();

        if (!Codes.TryParse<ReturnMethod>(State.Method, out var how) || !Offered(how, State.BoxFree))
            Errors["method"] = T("portal.options.choose_method");
        else
        {
            State.Carrier = null;
            State.PickupDate = null;
            if (how == ReturnMethod.Pickup)
            {
                var address = AddressFromForm();
                State.Address = address;
                Address = address;
                AddAddressErrors(address, Errors);
                var day = f["pickup_date"].ToString();
                if (!PickupDates.Any(d => d.ToString("yyyy-MM-dd") == day)) Errors["pickup_date"] = T("portal.options.choose_date");
                else State.PickupDate = day;
            }
            if (how is ReturnMethod.Pickup or ReturnMethod.DropOff && Logistics.Carriers.Count > 0 && !Errors.ContainsKey("addr_country"))
            {
                var candidates = CarriersFor(how, State.BoxFree);
                var asked = f[how == ReturnMethod.Pickup ? "carrier_pickup" : State.BoxFree ? "carrier_box_free" : "carrier_drop_off"].ToString();
                // Left at "best available", the carrier is allocated when the parcel is booked (docs/decisions/0018).
                State.Carrier = candidates.FirstOrDefault(c => c.Code == asked)?.Code;
                if (candidates.Count == 0) Errors["method"] = T("portal.options.no_carrier");
            }
        }
        await SaveAsync(_session, State);
        if (Errors.Count > 0)
        {
            FormError = T("portal.fix_errors");
            Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
            return Page();
        }
        return Redirect($"/r/{Slug}/review");
    }
}
