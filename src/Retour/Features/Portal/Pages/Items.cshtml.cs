using System.Security.Cryptography;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Media;
using Retour.Core.Policies;
using Retour.Core.Returns;
using Retour.Infrastructure.Http;

namespace Retour.Features.Portal.Pages;

/// <summary>
/// Step 2: every line of the order, returnable or not (dimmed, with the reason). The shopper picks lines, quantities,
/// reasons, sub-reasons, a comment and photos. Photos are checked by their bytes (JPEG, PNG, WebP), at most
/// <see cref="Photos.MaxBytes"/> each and <see cref="MaxPhotos"/> per line, stripped of their metadata (GPS included)
/// and kept with the session; the good ones are kept even when others in the same upload are refused.
/// </summary>
[BodyLimit(60 * 1024 * 1024)]
[RequestFormLimits(MultipartBodyLengthLimit = 60 * 1024 * 1024)]
public sealed class ItemsModel : PortalPage
{
    public const int MaxPhotos = 5;

    /// <summary>The photo size limit in the shopper's language ("10 MB", "10 МБ", …).</summary>
    public string MaxSize => T("portal.photo.max_size", ("n", (Photos.MaxBytes / (1024 * 1024)).ToString(Culture)));
    public static readonly ReasonCode[] PhotoRequired = [ReasonCode.Defective, ReasonCode.Damaged];

    public override int Step => 2;
    public PortalOrder Order { get; private set; } = null!;
    public PortalState State { get; private set; } = null!;
    public ILookup<string, Guid> PhotosByLine { get; private set; } = Array.Empty<Guid>().ToLookup(_ => "", _ => Guid.Empty);
    public Dictionary<string, List<string>> Errors { get; } = [];
    public string? FormError { get; private set; }
    public ReturnPolicy Policy => Order.State.Policy.Policy;

    public IEnumerable<string> ErrorsFor(string key) => Errors.GetValueOrDefault(key) ?? [];
    private void Fail(string key, string message) => (Errors.TryGetValue(key, out var l) ? l : Errors[key] = []).Add(message);

    public async Task<IActionResult> OnGetAsync()
    {
        if (await LoadAsync() is { } stop) return stop;
        return Page();
    }

    /// <summary>A photo of this session, for the thumbnail.</summary>
    public async Task<IActionResult> OnGetPhotoAsync(Guid id)
    {
        var s = await LoadSessionAsync();
        if (s is null) return NotFound();
        var photo = await Db.Photos.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id && p.SessionId == s.Value.Session.Id, HttpContext.RequestAborted);
        if (photo is null) return NotFound();
        Response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        return File(photo.Data, photo.ContentType);
    }

    private PortalSession _session = null!;

    private async Task<IActionResult?> LoadAsync()
    {
        Title = T("portal.items.title");
        var s = await LoadSessionAsync();
        if (s is null) return BackToStart();
        (_session, State) = s.Value;
        if (_session.ReturnId is not null) return Redirect($"/r/{Slug}/review");
        var order = await PortalOrder.LoadAsync(this, _session, State);
        if (order is null) return BackToStart();
        Order = order;
        await LoadPhotosAsync();
        return null;
    }

    private async Task LoadPhotosAsync() =>
        PhotosByLine = (await Db.Photos.AsNoTracking().Where(p => p.SessionId == _session.Id).OrderBy(p => p.Id)
            .Select(p => new { p.Id, p.OrderLineRef }).ToListAsync(HttpContext.RequestAborted)).ToLookup(p => p.OrderLineRef, p => p.Id);

    public async Task<IActionResult> OnPostAsync()
    {
        if (await LoadAsync() is { } stop) return stop;
        var form = Request.Form;
        var ct = HttpContext.RequestAborted;
        var now = Clock.GetUtcNow();
        var chosen = new Dictionary<string, LineChoice>();

        foreach (var line in Order.Lines.Where(l => l.Verdict.Returnable))
        {
            var key = line.Ref;
            var selected = form[$"select_{key}"] == "1";
            // Removing photos first, so a replacement fits under the limit in the same submit.
            var remove = form[$"remove_{key}"].Select(v => Guid.TryParse(v, out var g) ? g : Guid.Empty).Where(g => g != Guid.Empty).ToList();
            if (remove.Count > 0)
                await Db.Photos.Where(p => p.SessionId == _session.Id && p.OrderLineRef == key && remove.Contains(p.Id)).ExecuteDeleteAsync(ct);
            if (!selected)
            {
                // The shopper changed their mind about this line: its photos go too.
                await Db.Photos.Where(p => p.SessionId == _session.Id && p.OrderLineRef == key).ExecuteDeleteAsync(ct);
                continue;
            }
            var choice = new LineChoice
            {
                Quantity = int.TryParse(form[$"qty_{key}"], out var q) ? q : 0,
                Reason = form[$"reason_{key}"].ToString() is { Length: > 0 } r ? r : null,
                SubReason = form[$"sub_{key}"].ToString() is { Length: > 0 } sr ? sr : null,
                Comment = form[$"comment_{key}"].ToString().Trim() is { Length: > 0 } c ? c : null,
            };
            chosen[key] = choice;
            if (choice.Quantity < 1 || choice.Quantity > line.Verdict.ReturnableQuantity)
                Fail(key, T("portal.items.quantity", ("max", line.Verdict.ReturnableQuantity.ToString(Culture))));
            var reasonOk = Codes.TryParse<ReasonCode>(choice.Reason, out var reason);
            if (!reasonOk) Fail(key, T("portal.items.reason_required"));
            else if (choice.SubReason is { } sub && !Policy.SubReasonsFor(reason).Contains(sub))
            {
                // A sub-reason left over from another reason (the page works without JavaScript): drop it quietly.
                choice.SubReason = null;
            }
            if (choice.Comment is { Length: > ReturnRequest.MaxCommentLength })
                Fail(key, T("portal.items.comment_too_long", ("max", ReturnRequest.MaxCommentLength.ToString(Culture))));

            var existing = await Db.Photos.CountAsync(p => p.SessionId == _session.Id && p.OrderLineRef == key, ct);
            foreach (var file in form.Files.GetFiles($"photos_{key}").Where(f => f.Length > 0 || f.FileName.Length > 0))
            {
                var name = Path.GetFileName(file.FileName);
                if (existing >= MaxPhotos) { Fail(key, T("portal.photo.too_many", ("max", MaxPhotos.ToString(Culture)))); break; }
                if (file.Length > Photos.MaxBytes) { Fail(key, T("portal.photo.too_large", ("name", name), ("max", MaxSize))); continue; }
                using var buffer = new MemoryStream((int)file.Length);
                await file.CopyToAsync(buffer, ct);
                if (Photos.Clean(buffer.ToArray()) is not { } clean) { Fail(key, T("portal.photo.not_image", ("name", name))); continue; }
                Db.Photos.Add(new Photo
                {
                    SessionId = _session.Id, OrderLineRef = key, ContentType = Photos.ContentType(clean.Type), Size = clean.Bytes.Length,
                    Sha256 = Convert.ToHexStringLower(SHA256.HashData(clean.Bytes)), Data = clean.Bytes, CreatedAt = now,
                });
                existing++;
            }
            if (reasonOk && PhotoRequired.Contains(reason) && existing == 0)
                Fail(key, T("portal.photo.required"));
        }
        foreach (var line in Order.Lines.Where(l => !l.Verdict.Returnable))
            await Db.Photos.Where(p => p.SessionId == _session.Id && p.OrderLineRef == line.Ref).ExecuteDeleteAsync(ct);

        if (chosen.Count == 0) FormError = T("portal.items.none_selected");
        State.Lines = chosen;
        // Exchange variants of lines no longer chosen are forgotten.
        State.Exchange = State.Exchange.Where(e => chosen.ContainsKey(e.Key)).ToDictionary();
        await SaveAsync(_session, State); // saves the good photos too, even when something else needs fixing
        if (FormError is not null || Errors.Count > 0)
        {
            await LoadPhotosAsync();
            FormError ??= T("portal.fix_errors");
            Response.StatusCode = StatusCodes.Status422UnprocessableEntity;
            return Page();
        }
        return Redirect($"/r/{Slug}/options");
    }
}
