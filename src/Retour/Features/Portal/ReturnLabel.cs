using System.Text;
using PdfSharp.Drawing;
using PdfSharp.Fonts;
using PdfSharp.Pdf;
using QRCoder;
using Retour.Core.Addresses;
using Retour.Core.Text;

namespace Retour.Features.Portal;

/// <summary>What goes on a return label.</summary>
public sealed record LabelData(
    string Rma, string MerchantName, string? BrandColor, string OrderNumber, string? CarrierName, PostalAddress? From, string? ToName,
    PostalAddress? To, string QrPayload, string? PickupDate, int Items, byte[]? Logo = null, string? TrackingNumber = null);

/// <summary>
/// An A6 return label drawn with PDFsharp: brand bar, RMA, carrier, the from and to addresses and a QR code (QRCoder's
/// module matrix drawn as vector squares, so it stays sharp at any printer resolution).
/// PDFsharp places one glyph per character, left to right, with no shaping; Arabic lines are therefore shaped into
/// presentation forms (<see cref="ArabicShaping"/>) and put in display order (<see cref="Bidi"/>) before drawing, and each
/// line is drawn in a font that has its script (Noto Sans, Noto Sans Arabic, NanumGothic for Korean, DejaVu Sans otherwise).
/// </summary>
public static class ReturnLabel
{
    private static readonly Lock Gate = new();
    private static bool _ready;

    public static void EnsureFonts()
    {
        lock (Gate)
        {
            if (_ready) return;
            var key = Environment.GetEnvironmentVariable("RETOUR_PDFSHARP_LICENSE");
            // PDFsharp 6.5 asks the application to state its licence: AGPL (Retour is open source) or a commercial key.
            if (string.IsNullOrWhiteSpace(key)) PdfSharp.PdfSharpLicense.SetAgplLicense();
            else PdfSharp.PdfSharpLicense.LoadLicense(key);
            GlobalFontSettings.FontResolver ??= new LabelFonts();
            _ready = true;
        }
    }

    public static byte[] Render(LabelData d)
    {
        EnsureFonts();
        var doc = new PdfDocument();
        doc.Info.Title = $"Return label {d.Rma}";
        doc.Info.Author = d.MerchantName;
        var page = doc.AddPage();
        page.Width = XUnit.FromMillimeter(105);
        page.Height = XUnit.FromMillimeter(148);
        using (var g = XGraphics.FromPdfPage(page))
        {
            var w = page.Width.Point;
            const double m = 14;
            var brand = BrandColors.TryParse(BrandColors.Accessible(d.BrandColor), out var r, out var gr, out var b) ? XColor.FromArgb(r, gr, b) : XColors.DarkSlateGray;
            g.DrawRectangle(new XSolidBrush(brand), 0, 0, w, 34);
            var nameAt = m;
            if (d.Logo is { } logoBytes && Image(logoBytes) is { } logo)
            {
                // On a white tile, so a dark or transparent logo stays visible on any brand colour.
                using (logo)
                {
                    const double tileH = 26, pad = 3;
                    var ratio = (double)logo.PixelWidth / logo.PixelHeight;
                    var imgH = tileH - 2 * pad;
                    var imgW = Math.Min(imgH * ratio, 70);
                    imgH = imgW / ratio;
                    var tileW = imgW + 2 * pad;
                    g.DrawRoundedRectangle(XBrushes.White, m - pad, 4, tileW, tileH, 6, 6);
                    g.DrawImage(logo, m, 4 + (tileH - imgH) / 2, imgW, imgH);
                    nameAt = m - pad + tileW + 6;
                }
            }
            Line(g, d.MerchantName, 11, true, XBrushes.White, nameAt, 22, w - m - nameAt);

            var y = 52.0;
            Line(g, "RETURN / RMA", 7, false, XBrushes.DimGray, m, y, w - 2 * m);
            y += 20;
            Line(g, d.Rma, 20, true, XBrushes.Black, m, y, w - 2 * m);
            y += 14;
            Line(g, $"Order {d.OrderNumber} · {d.Items} item(s)" + (d.CarrierName is null ? "" : $" · {d.CarrierName}"), 8, false, XBrushes.Black, m, y, w - 2 * m);
            if (d.PickupDate is not null) { y += 11; Line(g, $"Pickup {d.PickupDate}", 8, false, XBrushes.Black, m, y, w - 2 * m); }
            if (d.TrackingNumber is not null) { y += 11; Line(g, $"Tracking {d.TrackingNumber}", 8, true, XBrushes.Black, m, y, w - 2 * m); }

            y += 18;
            Line(g, "FROM", 7, true, XBrushes.DimGray, m, y, w - 2 * m);
            y += 11;
            foreach (var l in AddressLines(d.From)) { Line(g, l, 9, false, XBrushes.Black, m, y, w - 2 * m); y += 11.5; }

            y += 8;
            g.DrawLine(new XPen(XColors.Black, 0.8), m, y, w - m, y);
            y += 14;
            Line(g, "TO", 7, true, XBrushes.DimGray, m, y, w - 2 * m);
            y += 13;
            var to = AddressLines(d.To).ToList();
            if (to.Count == 0 && d.ToName is not null) to.Add(d.ToName);
            for (var i = 0; i < to.Count; i++) { Line(g, to[i], i == 0 ? 11 : 10, i == 0, XBrushes.Black, m, y, w - 2 * m); y += 13; }

            var size = Math.Min(120, page.Height.Point - y - 24);
            DrawQr(g, d.QrPayload, (w - size) / 2, page.Height.Point - size - 18, size);
            Line(g, d.Rma, 7, false, XBrushes.DimGray, m, page.Height.Point - 8, w - 2 * m, center: true);
        }
        using var ms = new MemoryStream();
        doc.Save(ms, false);
        return ms.ToArray();
    }

    /// <summary>Whether PDFsharp can place these image bytes on a label (checked when a logo is uploaded).</summary>
    public static bool CanDraw(byte[] image)
    {
        EnsureFonts();
        using var img = Image(image);
        if (img is not { PixelWidth: > 0, PixelHeight: > 0 }) return false;
        try
        {
            // Importing happens when the image is drawn and saved: do both, into a throwaway page.
            var doc = new PdfDocument();
            using (var g = XGraphics.FromPdfPage(doc.AddPage())) g.DrawImage(img, 0, 0, 10, 10);
            doc.Save(Stream.Null, false);
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException) { return false; }
    }

    private static XImage? Image(byte[] bytes)
    {
        try { return XImage.FromStream(new MemoryStream(bytes, writable: false)); }
        catch (Exception e) when (e is not OutOfMemoryException) { return null; }
    }

    public static IEnumerable<string> AddressLines(PostalAddress? a)
    {
        if (a is null) yield break;
        foreach (var l in new[] { a.Name, a.Line1, a.Line2 }) if (!string.IsNullOrWhiteSpace(l)) yield return l;
        var city = string.Join(' ', new[] { a.PostalCode, a.City }.Where(s => !string.IsNullOrWhiteSpace(s)));
        if (city.Length > 0) yield return city;
        var last = string.Join(' ', new[] { a.Region, a.Country }.Where(s => !string.IsNullOrWhiteSpace(s)));
        if (last.Length > 0) yield return last;
    }

    /// <summary>Draws one line in a font for its script; right-to-left lines are shaped, reordered and right-aligned.</summary>
    public static void Line(XGraphics g, string text, double size, bool bold, XBrush brush, double x, double baseline, double width, bool center = false)
    {
        var (family, visual, rtl) = Prepare(text);
        var font = Font(family, size, bold);
        // Shrink long lines to the label's width rather than cutting them.
        var measured = g.MeasureString(visual, font).Width;
        if (measured > width) font = Font(family, Math.Max(5, size * width / measured), bold);
        var format = center ? XStringFormats.BaseLineCenter : rtl ? XStringFormats.BaseLineRight : XStringFormats.BaseLineLeft;
        var at = center ? x + width / 2 : rtl ? x + width : x;
        g.DrawString(visual, font, brush, at, baseline, format);
    }

    /// <summary>
    /// The Arabic font is embedded whole: Noto Sans Arabic draws many presentation forms (isolated beh, teh, noon, feh, qaf;
    /// alef, waw and yeh with hamza) as composite glyphs, and PDFsharp's subsetter leaves their components out, so those
    /// letters lost their dots or vanished (ArabicLabelRenderingTests compares with Chromium and caught it). ~240 KB a label.
    /// </summary>
    private static XFont Font(string family, double size, bool bold) => family == LabelFonts.Arabic
        ? new XFont(family, size, bold ? XFontStyleEx.Bold : XFontStyleEx.Regular, new XPdfFontOptions(PdfFontEncoding.Unicode, PdfFontEmbedding.EmbedCompleteFontFile))
        : new XFont(family, size, bold ? XFontStyleEx.Bold : XFontStyleEx.Regular);

    /// <summary>The font family and the text in display order for one line.</summary>
    public static (string Family, string Visual, bool RightToLeft) Prepare(string text)
    {
        if (ArabicShaping.HasArabic(text))
        {
            var rtl = Bidi.IsRightToLeft(text);
            return (LabelFonts.Arabic, Bidi.ToVisual(ArabicShaping.Shape(text), rtl), rtl);
        }
        if (text.Any(c => c is >= '\uAC00' and <= '\uD7AF' or >= '\u1100' and <= '\u11FF' or >= '\u3130' and <= '\u318F'))
            return (LabelFonts.Korean, text, false);
        if (text.Any(c => c is >= '\u0590' and <= '\u05FF')) return (LabelFonts.Fallback, Bidi.ToVisual(text), Bidi.IsRightToLeft(text));
        return (LabelFonts.Latin, text, false);
    }

    private static void DrawQr(XGraphics g, string payload, double x, double y, double size)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(payload, QRCodeGenerator.ECCLevel.M);
        var modules = data.ModuleMatrix;
        var n = modules.Count;
        var cell = size / n;
        g.DrawRectangle(XBrushes.White, x, y, size, size);
        for (var row = 0; row < n; row++)
            for (var col = 0; col < n; col++)
                if (modules[row][col]) g.DrawRectangle(XBrushes.Black, x + col * cell, y + row * cell, cell + 0.05, cell + 0.05);
    }

    /// <summary>The QR code as SVG, for the confirmation page (box-free and in-store returns show it at the counter).</summary>
    public static string QrSvg(string payload, string title)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(payload, QRCodeGenerator.ECCLevel.M);
        var n = data.ModuleMatrix.Count;
        var sb = new StringBuilder($"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {n} {n}\" role=\"img\" shape-rendering=\"crispEdges\"><title>{System.Net.WebUtility.HtmlEncode(title)}</title><rect width=\"{n}\" height=\"{n}\" fill=\"#fff\"/><path fill=\"#000\" d=\"");
        for (var row = 0; row < n; row++)
            for (var col = 0; col < n; col++)
                if (data.ModuleMatrix[row][col]) sb.Append($"M{col} {row}h1v1h-1z");
        return sb.Append("\"/></svg>").ToString();
    }
}

/// <summary>Fonts from Debian's fonts-noto-core, fonts-nanum and fonts-dejavu-core packages (installed by the set-up scripts).</summary>
public sealed class LabelFonts : IFontResolver
{
    public const string Latin = "Noto Sans";
    public const string Arabic = "Noto Sans Arabic";
    public const string Korean = "NanumGothic";
    public const string Fallback = "DejaVu Sans";

    private static readonly Dictionary<string, string[]> Files = new()
    {
        [Latin] = ["/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"],
        [Latin + "|b"] = ["/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"],
        [Arabic] = ["/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"],
        [Arabic + "|b"] = ["/usr/share/fonts/truetype/noto/NotoSansArabic-Bold.ttf", "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"],
        [Korean] = ["/usr/share/fonts/truetype/nanum/NanumGothic.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"],
        [Korean + "|b"] = ["/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf", "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"],
        [Fallback] = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"],
        [Fallback + "|b"] = ["/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"],
    };

    public FontResolverInfo? ResolveTypeface(string familyName, bool bold, bool italic)
    {
        var family = Files.ContainsKey(familyName) ? familyName : Fallback;
        return new FontResolverInfo(bold ? family + "|b" : family);
    }

    public byte[]? GetFont(string faceName)
    {
        var path = Files.GetValueOrDefault(faceName)?.FirstOrDefault(File.Exists)
                   ?? throw new FileNotFoundException($"No font file for '{faceName}'. Install fonts-noto-core, fonts-nanum and fonts-dejavu-core.");
        return File.ReadAllBytes(path);
    }
}
