using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Media;
using Retour.Features.Portal;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Audit;
using Retour.Infrastructure.Auth;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Warehouses;

/// <summary>
/// POST /api/v1/returns/{id}/inspections/{inspectionId}/photos: a photo the inspector takes of a unit (the damage, the
/// missing part, the wrong item), kept with the inspection as evidence for a deduction or a supplier claim. The image is
/// the request body (image/jpeg, image/png or image/webp) or the multipart field "photo"; it is checked and stripped of
/// its metadata as shoppers' photos are. Served by GET /returns/{id}/photos/{photoId}; listed on the inspection.
/// </summary>
public static class InspectionPhotos
{
    public const int MaxPerUnit = 5;

    public static void Map(RouteGroupBuilder api) =>
        api.MapPost("/returns/{idOrRma}/inspections/{inspectionId:guid}/photos", Add).RequireScope(Scopes.WarehouseWrite)
            .WithName("AddInspectionPhoto").WithTags("Warehouse").WithMetadata(new BodyLimitAttribute(Photos.MaxBytes + 64 * 1024))
            .WithSummary("Add a photo to an inspected unit")
            .WithDescription($"The image as the body (image/jpeg, image/png or image/webp, at most {Photos.MaxBytes / (1024 * 1024)} MiB) or the multipart field 'photo'. " +
                             $"At most {MaxPerUnit} per unit. Answers 201 with the inspection and its photo URLs.");

    public static async Task<Results<Created<InspectionDto>, ProblemHttpResult>> Add(string idOrRma, Guid inspectionId, HttpContext http, RetourDb db,
        TimeProvider clock, CancellationToken ct)
    {
        var ret = await ReadReturns.FindAsync(db.Returns.AsNoTracking(), idOrRma, ct);
        if (ret is null) return Problems.NotFound($"There is no return '{idOrRma}'.");
        var inspection = await db.Inspections.AsNoTracking().FirstOrDefaultAsync(i => i.Id == inspectionId && i.ReturnId == ret.Id, ct);
        if (inspection is null) return Problems.NotFound($"Return {ret.Rma} has no inspection '{inspectionId}'.");

        var bytes = await http.Request.ReadUploadAsync("photo", ct);
        if (bytes is null || bytes.Length == 0)
            return Problems.Validation("photo", "Send the photo as the request body (image/jpeg, image/png or image/webp), or as a multipart form with the file in the field 'photo'.");
        if (bytes.Length > Photos.MaxBytes)
            return Problems.Result(StatusCodes.Status413PayloadTooLarge, "payload_too_large", "The photo is too large",
                $"The photo is {bytes.Length} bytes; the limit is {Photos.MaxBytes} bytes.");
        if (Photos.Clean(bytes) is not { } clean)
            return Problems.Validation("photo", "The file is not a whole JPEG, PNG or WebP image.");
        var count = await db.Photos.CountAsync(p => p.InspectionId == inspection.Id, ct);
        if (count >= MaxPerUnit)
            return Problems.Result(409, "too_many_photos", "This unit has enough photos", $"A unit keeps at most {MaxPerUnit} photos; it has {count}.");

        var now = clock.GetUtcNow();
        var actor = Actor.From(http.User);
        var photo = new Photo
        {
            ReturnId = ret.Id, InspectionId = inspection.Id, OrderLineRef = inspection.OrderLineRef, ContentType = Photos.ContentType(clean.Type),
            Size = clean.Bytes.Length, Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(clean.Bytes)), Data = clean.Bytes, CreatedAt = now,
        };
        db.Photos.Add(photo);
        db.AuditEvents.Add(new AuditEvent
        {
            EntityType = "return", EntityId = ret.Id, Action = "inspection_photo_added", ActorType = actor.Type, ActorId = actor.Id, ActorName = actor.Name,
            Reason = $"{inspection.OrderLineRef} unit {inspection.Unit}: {photo.ContentType} {photo.Size} bytes",
            DataJson = Json.Serialize(new { inspection_id = inspection.Id, photo_id = photo.Id, sha256 = photo.Sha256 }), OccurredAt = now,
        });
        await db.SaveChangesAsync(ct);
        var urls = await UrlsAsync(db, ret.Id, [inspection.Id], ct);
        return TypedResults.Created($"/api/v1/returns/{ret.Id}/photos/{photo.Id}", InspectionDto.From(inspection, urls[inspection.Id]));
    }

    /// <summary>The photo URLs of each inspection of a return.</summary>
    public static async Task<ILookup<Guid, string>> UrlsAsync(RetourDb db, Guid returnId, IReadOnlyCollection<Guid>? inspections, CancellationToken ct)
    {
        var q = db.Photos.AsNoTracking().Where(p => p.ReturnId == returnId && p.InspectionId != null);
        if (inspections is not null) q = q.Where(p => inspections.Contains(p.InspectionId!.Value));
        var rows = await q.OrderBy(p => p.Id).Select(p => new { p.Id, p.InspectionId }).ToListAsync(ct);
        return rows.ToLookup(p => p.InspectionId!.Value, p => $"/api/v1/returns/{returnId}/photos/{p.Id}");
    }
}
