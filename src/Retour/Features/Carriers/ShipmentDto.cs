using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Retour.Core.Addresses;
using Retour.Core.Returns;
using Retour.Features.Portal;
using Retour.Features.Returns;
using Retour.Features.Tenancy;
using Retour.Infrastructure.Db;
using Retour.Infrastructure.Http;

namespace Retour.Features.Carriers;

public sealed record TrackingEventDto(string? Status, string RawCode, string? Message, string? Location, string? Incident, DateTimeOffset OccurredAt, string Provider);

/// <summary>The latest failed pickup (NDR case) of a shipment: where it stands and what was asked.</summary>
public sealed record PickupIssueDto(Guid Id, string State, int Attempt, string Reason, string? Message, DateTimeOffset? AnswerBy, string? Action,
    DateOnly? RequestedDate, string? EscalationReason);

/// <summary>The pickup booking: the slot (date and window), the attempts the carrier reported (failed ones among them), and the latest failure's case.</summary>
public sealed record PickupDto(DateOnly? Date, string? Window, int Attempts, int Failures, int Rebooks, PickupIssueDto? Issue);

/// <summary>The return's shipment as GET /api/v1/returns/{id} shows it (contract names from the carriers issue).</summary>
public sealed record ShipmentDto(
    string Carrier, string Service, string TrackingNumber, string? Status, string? Incident, string LabelUrl, PickupDto? Pickup,
    IReadOnlyList<TrackingEventDto> Events, JsonElement? Allocation, DateTimeOffset CreatedAt, DateTimeOffset? CancelledAt,
    DateTimeOffset? LabelExpiresAt, DateTimeOffset? PickedUpAt, DateTimeOffset? DeliveredAt)
{
    /// <summary>The return's current shipment (the newest not cancelled, else the newest), with its events oldest first.</summary>
    public static async Task<ShipmentDto?> LoadAsync(RetourDb db, Return ret, CancellationToken ct)
    {
        var s = await db.Shipments.AsNoTracking().Where(x => x.ReturnId == ret.Id)
            .OrderBy(x => x.CancelledAt != null).ThenByDescending(x => x.CreatedAt).FirstOrDefaultAsync(ct);
        if (s is null) return null;
        var events = await db.TrackingEvents.AsNoTracking().Where(e => e.ShipmentId == s.Id)
            .OrderBy(e => e.OccurredAt).ThenBy(e => e.Id).ToListAsync(ct);
        var issue = s.PickupFailures == 0 ? null : await db.NdrCases.AsNoTracking().Where(c => c.ShipmentId == s.Id).OrderByDescending(c => c.Attempt)
            .FirstOrDefaultAsync(ct) is { } c
            ? new PickupIssueDto(c.Id, Codes.Of(c.State), c.Attempt, c.Reason, c.Message, c.AnswerBy, c.Action is { } a ? Codes.Of(a) : null, c.RequestedDate, c.EscalationReason)
            : null;
        return new ShipmentDto(s.CarrierCode, s.Service, s.TrackingNumber, s.Status, s.Incident, $"/api/v1/returns/{ret.Id}/label",
            s.Service == "pickup" ? new PickupDto(s.PickupDate, s.PickupWindow, s.PickupAttempts, s.PickupFailures, s.PickupRebooks, issue) : null,
            [.. events.Select(e => new TrackingEventDto(e.Status, e.RawCode, e.Message, e.Location, e.Incident, e.OccurredAt, e.Provider))],
            s.AllocationJson is null ? null : JsonSerializer.Deserialize<JsonElement>(s.AllocationJson), s.CreatedAt, s.CancelledAt,
            s.LabelExpiresAt, s.PickedUpAt, s.DeliveredAt);
    }
}

/// <summary>Puts a return's label together from what the database knows; the portal and the API serve the same PDF.</summary>
public static class ReturnLabels
{
    public static async Task<byte[]> RenderAsync(RetourDb db, MerchantInfo merchant, MerchantLogistics logistics, Return ret, CancellationToken ct)
    {
        var carrier = logistics.Carrier(ret.CarrierCode);
        // Only the uploaded logo is printed: a label never waits on, or fetches for a shopper, a remote image.
        var logo = MerchantEndpoints.IsUploaded(merchant.Slug, merchant.LogoUrl)
            ? await db.MerchantLogos.AsNoTracking().Select(l => l.Data).FirstOrDefaultAsync(ct) : null;
        // A drop-off keeps no address of its own: the parcel comes from where the order went.
        var from = ret.FromAddressJson is { } json ? Json.Deserialize<PostalAddress>(json)
            : await db.Orders.AsNoTracking().Where(o => o.Id == ret.OrderId).Select(Orders.Order.ShippingAddress).FirstOrDefaultAsync(ct);
        var tracking = await db.Shipments.AsNoTracking().Where(s => s.ReturnId == ret.Id && s.CancelledAt == null)
            .OrderByDescending(s => s.CreatedAt).Select(s => s.TrackingNumber).FirstOrDefaultAsync(ct);
        return ReturnLabel.Render(new LabelData(ret.Rma, merchant.Name, merchant.BrandColor, ret.OrderNumber, carrier?.Name ?? ret.CarrierCode,
            from, logistics.WarehouseName ?? merchant.Name, logistics.ReturnAddress, QrPayload(ret.Rma), ret.PickupDate?.ToString("yyyy-MM-dd"),
            ret.Lines.Sum(l => l.Quantity), logo, tracking));
    }

    /// <summary>What the label's and the counter's QR code carry; the warehouse scan reads it back.</summary>
    public static string QrPayload(string rma) => QrPrefix + rma;

    /// <summary>The RMA a scanned QR payload carries, or null when the code is not one of Retour's QR payloads.</summary>
    public static string? RmaFromQr(string code) =>
        code.StartsWith(QrPrefix, StringComparison.OrdinalIgnoreCase) ? Rma.Normalize(code[QrPrefix.Length..]) : null;

    private const string QrPrefix = "RETOUR:";
}
