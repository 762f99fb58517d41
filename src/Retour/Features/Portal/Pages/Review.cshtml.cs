using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Retour.Features.Carriers;
using Retour.Features.Returns;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Http;

namespace Retour.Features.Portal.Pages;

/// <summary>
/// Step 4: the whole return before it is sent — lines, resolution, method, fees and the refund breakdown, priced by the
/// same core as the API. Confirming creates the return through <see cref="CreateReturn"/> with the session as its
/// idempotency key, so a double click or a resubmitted form shows the one return instead of creating a second.
/// </summary>
public sealed class ReviewModel : PortalPage
{
    public override int Step => 4;
    public PortalOrder Order { get; private set; } = null!;
    public PortalState State { get; private set; } = null!;
    public ReturnQuote? Quote { get; private set; }
    public MerchantLogistics Logistics { get; private set; } = null!;
    public string? FormError { get; private set; }
    public string Currency => Order.State.Order.Currency;
    private PortalSession _session = null!;

    private async Task<IActionResult?> LoadAsync()
    {
        Title = T("portal.review.title");
        var s = await LoadSessionAsync();
        if (s is null) return BackToStart();
        (_session, State) = s.Value;
        if (State.Lines.Count == 0) return Redirect($"/r/{Slug}/items");
        if (_session.ReturnId is not null)
        {
            var rma = await Db.Returns.Where(r => r.Id == _session.ReturnId).Select(r => r.Rma).FirstOrDefaultAsync(HttpContext.RequestAborted);
            if (rma is not null) return Redirect(StatusUrl(rma));
        }
        if (State.Resolution is null || State.Method is null) return Redirect($"/r/{Slug}/options");
        var order = await PortalOrder.LoadAsync(this, _session, State);
        if (order is null) return BackToStart();
        Order = order;
        Logistics = await HttpContext.RequestServices.GetRequiredService<LogisticsDirectory>().GetAsync(Merchant.Id, HttpContext.RequestAborted);
        var o = order.State;
        var (quote, errors) = ReturnRequest.Evaluate(o.Judge(Clock.GetUtcNow()),
            [.. State.Lines.Select(kv => new RequestedLine(kv.Key, kv.Value.Quantity, kv.Value.Reason, kv.Value.Comment))],
            State.Resolution, State.Method, false, o.Policy.Policy, o.Facts, o.Order.ShippingTotal, o.History);
        Quote = quote;
        if (quote is null) FormError = errors.Any(e => e.Field == "method") ? T("portal.review.method_changed") : T("portal.review.changed");
        return null;
    }

    public async Task<IActionResult> OnGetAsync() => await LoadAsync() ?? Page();

    public async Task<IActionResult> OnPostAsync()
    {
        if (await LoadAsync() is { } stop) return stop;
        if (Quote is null) return Page();
        var request = new CreateReturnRequest(State.OrderNumber,
            [.. State.Lines.Select(kv => new CreateReturnLine(kv.Key, kv.Value.Quantity, kv.Value.Reason, kv.Value.Comment, kv.Value.SubReason,
                State.Resolution == "exchange" ? State.Exchange.GetValueOrDefault(kv.Key) : null))],
            State.Resolution, State.Method, Locale: Locale, Carrier: State.Carrier, PickupDate: State.PickupDate,
            Address: State.Method == "pickup" ? State.Address : null, BoxFree: State.BoxFree ? true : null);
        // The session is the idempotency key: confirming twice (double click, back and resubmit) finds the first return.
        var idem = new IdempotencyScope();
        idem.Begin($"portal:{_session.Id:N}", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(request, Json.Options))));
        var services = HttpContext.RequestServices.GetRequiredService<ReturnServices>();
        var actor = new Actor("shopper", State.Email, State.Email ?? "shopper");
        CreateReturn.Outcome outcome;
        Db.ChangeTracker.Clear(); // a new return is written in a unit of work of its own
        try
        {
            outcome = await CreateReturn.CreateAsync(Db, services, request, false, Request.Headers.AcceptLanguage, actor, idem, Clock,
                HttpContext.RequestAborted, photoSession: _session.Id);
        }
        catch (IdempotencyConflictException)
        {
            outcome = new CreateReturn.Outcome.Busy();
        }
        string? rma = outcome switch
        {
            CreateReturn.Outcome.Created c => c.Return.Rma,
            CreateReturn.Outcome.Replay r => JsonDocument.Parse(r.Stored.Body).RootElement.GetProperty("rma").GetString(),
            _ => null,
        };
        if (rma is null)
        {
            // A second tab confirmed first, with other choices: show that return rather than an error.
            var first = await Db.IdempotencyRecords.Where(k => k.Key == idem.Key).Select(k => k.ResponseBody).FirstOrDefaultAsync(HttpContext.RequestAborted);
            if (first is not null) return Redirect(StatusUrl(JsonDocument.Parse(first).RootElement.GetProperty("rma").GetString()!));
            FormError = outcome is CreateReturn.Outcome.Invalid ? T("portal.review.changed") : T("portal.review.busy");
            Response.StatusCode = outcome is CreateReturn.Outcome.Invalid ? 422 : 409;
            return Page();
        }
        if (outcome is CreateReturn.Outcome.Created created)
        {
            Db.ChangeTracker.Clear();
            var session = await Db.PortalSessions.FindAsync([_session.Id], HttpContext.RequestAborted);
            if (session is not null)
            {
                session.ReturnId = created.Return.Id;
                await Db.SaveChangesAsync(HttpContext.RequestAborted);
            }
        }
        return Redirect(StatusUrl(rma) + "&new=1");
    }
}
