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
/// The confirmation and, later, the status page of one return, opened by a signed link (no login): RMA, what to do next
/// for the chosen method, the label or the counter QR code, the timeline in shopper wording, the refund, and a cancel
/// button while the parcel has not left.
/// </summary>
public sealed class StatusModel : PortalPage
{
    public static readonly ReturnStatus[] CancellableByShopper = [ReturnStatus.Requested, ReturnStatus.PendingReview, ReturnStatus.Approved, ReturnStatus.AwaitingShipment, ReturnStatus.PickupFailed];
    public static readonly ReturnStatus[] LabelStates = [ReturnStatus.Approved, ReturnStatus.AwaitingShipment, ReturnStatus.PickupFailed];

    public override int Step => IsNew ? 5 : 0;
    public Return Return { get; private set; } = null!;
    public RefundBreakdown Estimate { get; private set; } = null!;
    public IReadOnlyList<AuditEvent> Timeline { get; private set; } = [];
    public MerchantLogistics Logistics { get; private set; } = null!;
    public string Token { get; private set; } = "";
    public bool IsNew { get; private set; }
    public string? Notice { get; private set; }
    public RefundMoment RefundMoment { get; private set; }
    /// <summary>The refund once made (pending, issued or failed), with its final breakdown; null before.</summary>
    public Refunds.Refund? Refund { get; private set; }
    public RefundBreakdown? FinalBreakdown { get; private set; }
    public Refunds.ExchangeOrder? Exchange { get; private set; }
    public DateTimeOffset? CreditExpiresAt { get; private set; }

    public bool CanCancel => CancellableByShopper.Contains(Return.Status) && Lifecycle.CanMove(Return.Status, ReturnStatus.Cancelled);
    public bool HasLabel => LabelStates.Contains(Return.Status) && Return.Method is ReturnMethod.Pickup or ReturnMethod.DropOff && !Return.BoxFree;
    public bool HasCounterCode => LabelStates.Contains(Return.Status) && (Return.BoxFree || Return.Method == ReturnMethod.InStore);
    public string LabelUrl => $"/r/{Slug}/returns/{Return.Rma}/label?t={Uri.EscapeDataString(Token)}";
    public string SelfUrl => $"/r/{Slug}/returns/{Return.Rma}?t={Uri.EscapeDataString(Token)}";
    public string PickupUrl => $"/r/{Slug}/returns/{Return.Rma}/pickup?t={Uri.EscapeDataString(Token)}";
    /// <summary>Whether a failed pickup waits for the shopper's answer (the page then offers the new-pickup form).</summary>
    public bool PickupNeedsAnswer { get; private set; }
    public string QrPayload => ReturnLabels.QrPayload(Return.Rma);

    private async Task<IActionResult?> LoadAsync(string rma, string? t)
    {
        Title = T("portal.status.title");
        var normal = Rma.Normalize(rma);
        if (normal is null || !TokenOpens(t, normal)) return InvalidLink();
        var ret = await Db.Returns.Include(r => r.Lines).FirstOrDefaultAsync(r => r.Rma == normal, HttpContext.RequestAborted);
        if (ret is null) return InvalidLink();
        Return = ret;
        Token = t!;
        Estimate = Json.Deserialize<RefundBreakdown>(ret.EstimateJson)!;
        Timeline = await Db.AuditEvents.AsNoTracking().Where(e => e.EntityId == ret.Id && (e.Action == "created" || e.Action == "status_changed"))
            .OrderBy(e => e.OccurredAt).ThenBy(e => e.Id).ToListAsync(HttpContext.RequestAborted);
        Logistics = await HttpContext.RequestServices.GetRequiredService<LogisticsDirectory>().GetAsync(Merchant.Id, HttpContext.RequestAborted);
        var policy = await HttpContext.RequestServices.GetRequiredService<Retour.Features.Policies.PolicyBook>().GetAsync(Db, ret.PolicyVersionId, HttpContext.RequestAborted);
        RefundMoment = policy.RefundMoment;
        var ct = HttpContext.RequestAborted;
        Refund = await Db.Refunds.AsNoTracking().Where(x => x.ReturnId == ret.Id).OrderBy(x => x.CreatedAt).FirstOrDefaultAsync(ct);
        if (Refund is not null)
        {
            FinalBreakdown = Json.Deserialize<RefundBreakdown>(Refund.BreakdownJson);
            Exchange = await Db.ExchangeOrders.AsNoTracking().FirstOrDefaultAsync(x => x.RefundId == Refund.Id, ct);
            if (Refund.GiftCardCode is { } code)
                CreditExpiresAt = await Db.GiftCards.AsNoTracking().Where(g => g.Code == code).Select(g => g.ExpiresAt).FirstOrDefaultAsync(ct);
        }
        PickupNeedsAnswer = ret.Status == ReturnStatus.PickupFailed && await Db.NdrCases.AnyAsync(c => c.ReturnId == ret.Id &&
            (c.State == Retour.Core.Logistics.NdrState.AwaitingShopper || c.State == Retour.Core.Logistics.NdrState.Escalated), HttpContext.RequestAborted);
        return null;
    }

    private IActionResult InvalidLink()
    {
        Title = T("portal.status.invalid_title");
        Response.StatusCode = StatusCodes.Status404NotFound;
        return Partial("_InvalidLink", this);
    }

    public async Task<IActionResult> OnGetAsync(string rma, string? t, string? @new, string? cancelled, string? rebooked)
    {
        if (await LoadAsync(rma, t) is { } stop) return stop;
        IsNew = @new == "1";
        if (cancelled == "1") Notice = T("portal.status.cancelled_notice");
        if (rebooked == "1") Notice = T("portal.status.rebooked_notice");
        return Page();
    }

    public async Task<IActionResult> OnPostCancelAsync(string rma, string? t)
    {
        if (await LoadAsync(rma, t) is { } stop) return stop;
        var ct = HttpContext.RequestAborted;
        if (!CanCancel)
        {
            Notice = T("portal.status.cannot_cancel");
            Response.StatusCode = StatusCodes.Status409Conflict;
            return Page();
        }
        var now = Clock.GetUtcNow();
        await using (var tx = await Db.Database.BeginTransactionAsync(ct))
        {
            var refusal = await ReturnTransitions.MoveAsync(Db, Return, ReturnStatus.Cancelled, new Actor("shopper", Return.CustomerEmail, Return.CustomerEmail ?? "shopper"),
                T("portal.status.cancel_reason"), now, ct);
            await Db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            if (refusal is not null)
            {
                Notice = T("portal.status.cannot_cancel");
                Response.StatusCode = StatusCodes.Status409Conflict;
                return Page();
            }
        }
        return Redirect(SelfUrl + "&cancelled=1");
    }

    public async Task<IActionResult> OnGetLabelAsync(string rma, string? t)
    {
        if (await LoadAsync(rma, t) is { } stop) return stop;
        if (!HasLabel) return NotFound();
        var pdf = await ReturnLabels.RenderAsync(Db, Merchant, Logistics, Return, HttpContext.RequestAborted);
        return File(pdf, "application/pdf", $"return-label-{Return.Rma}.pdf");
    }

    /// <summary>The shopper's wording of a status.</summary>
    public string StatusText(string? code) => TryT("status." + code) ?? code ?? "";
}
