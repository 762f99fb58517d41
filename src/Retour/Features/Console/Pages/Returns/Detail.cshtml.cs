using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Retour.Features.Notifications;
using Retour.Features.Returns;
using Retour.Features.Staff;

namespace Retour.Features.Console.Pages.Returns;

/// <summary>
/// One return as staff see it: lines with the shopper's photos, the decision and why, shipment and tracking, inspection,
/// dispositions and refunds, the timeline, internal notes and the messages sent to the shopper — with the actions the
/// role and the status allow. The page reads through the same query as GET /api/v1/returns/{id}, so another merchant's
/// return is a 404 here exactly as there.
/// </summary>
[Authorize(Policy = ConsolePolicy.ReturnsRead)]
public sealed class DetailModel : ConsolePage
{
    public override string Section => "returns";
    public ReturnDto Return { get; private set; } = null!;
    public IReadOnlyList<NoteDto> Notes { get; private set; } = [];
    public IReadOnlyList<Notification> Messages { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(string rma)
    {
        var ct = HttpContext.RequestAborted;
        var found = await ReadReturns.GetOne(rma, Db, ct);
        if (found.Result is not Ok<ReturnDto> { Value: { } ret })
        {
            Title = T("detail.not_found_title");
            Response.StatusCode = StatusCodes.Status404NotFound;
            return Page();
        }
        Return = ret;
        Title = ret.Rma;
        Notes = [.. (await Db.ReturnNotes.AsNoTracking().Where(n => n.ReturnId == ret.Id).OrderBy(n => n.CreatedAt).ToListAsync(ct)).Select(NoteDto.From)];
        Messages = await Db.Notifications.AsNoTracking().Where(n => n.ReturnId == ret.Id).OrderByDescending(n => n.CreatedAt).Take(100).ToListAsync(ct);
        return Page();
    }

    public bool Found => Return is not null;
    public bool CanMove(Retour.Core.Returns.ReturnStatus to) => Return.NextStatuses.Contains(to);
}
