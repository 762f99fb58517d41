using Microsoft.Playwright;
using PdfSharp.Drawing;
using PdfSharp.Pdf;
using Retour.BrowserTests.Support;
using Retour.Tests.Support;
using Retour.Features.Portal;
using Xunit;

namespace Retour.BrowserTests;

/// <summary>
/// PDFsharp neither shapes Arabic nor orders it right to left, so the label does both (ArabicShaping, Bidi). This proves the
/// result looks right: the label's line-drawing code renders an Arabic address into a PDF, poppler rasterises it, and its
/// ink, column by column, is compared with the same text drawn by Chromium (HarfBuzz shaping, the same Noto Sans Arabic
/// font). Unshaped text drawn by PDFsharp directly is the negative control: it must not match.
/// </summary>
[Collection(PortalCollection.Name)]
public sealed class ArabicLabelRenderingTests(PortalSite site)
{
    private const int Width = 900, Height = 120, Size = 48;

    [Theory]
    [InlineData("شارع الشيخ زايد")]
    [InlineData("ليلى حسن، شارع الشيخ زايد ١٢")]
    [InlineData("مرتجع رقم 4512 إلى دبي")]
    [InlineData("إ أ آ ؤ ئ ب ت ث ف ق ن")] // composite glyphs that a subset font loses
    public async Task ShapedLabelText_MatchesChromium_AndUnshapedTextDoesNot(string text)
    {
        var chromium = await ChromiumProfileAsync(text);
        var label = PdfProfile(g => ReturnLabel.Line(g, text, Size, false, XBrushes.Black, 20, 80, Width - 40), "label");
        var unshaped = PdfProfile(g => g.DrawString(text, new XFont(LabelFonts.Arabic, Size), XBrushes.Black, Width - 20, 80, XStringFormats.BaseLineRight), "unshaped");

        var (labelScore, labelWidth) = Compare(label, chromium);
        var (controlScore, _) = Compare(unshaped, chromium);
        // Measured: 0.83–0.97 for the label's text (kerning, which PDFsharp does not apply, accounts for the rest), and
        // below 0.3 for the unshaped control.
        Assert.True(labelScore > 0.8, $"The label's Arabic does not look like Chromium's: correlation {labelScore:F3} (unshaped {controlScore:F3})");
        Assert.InRange(labelWidth, 0.95, 1.05);
        Assert.True(controlScore < labelScore - 0.4, $"The negative control should not match: unshaped {controlScore:F3}, label {labelScore:F3}");
        Console.WriteLine($"{text}: label {labelScore:F3}, unshaped {controlScore:F3}, width ratio {labelWidth:F3}");
    }

    /// <summary>Ink per pixel column of the text drawn on a canvas by Chromium, right-aligned at the same place.</summary>
    private async Task<double[]> ChromiumProfileAsync(string text)
    {
        var page = await site.NewPageAsync();
        await page.SetContentAsync($"<canvas id=c width={Width} height={Height}></canvas>");
        var profile = await page.EvaluateAsync<double[]>("""
            async ([text, w, h, size]) => {
              const font = `${size}px "Noto Sans Arabic"`;
              await document.fonts.load(font, text);
              const x = document.getElementById('c').getContext('2d');
              x.fillStyle = '#fff'; x.fillRect(0, 0, w, h);
              x.fillStyle = '#000'; x.font = font; x.direction = 'rtl'; x.textAlign = 'right';
              x.fillText(text, w - 20, 80);
              const d = x.getImageData(0, 0, w, h).data, cols = new Array(w).fill(0);
              for (let y = 0; y < h; y++) for (let i = 0; i < w; i++) cols[i] += 255 - d[(y * w + i) * 4];
              return cols;
            }
            """, new object[] { text, Width, Height, Size });
        await page.Locator("#c").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(PortalSite.Screenshots, $"arabic-{Stamp(text)}-chromium.png") });
        return profile;
    }

    /// <summary>Draws on a PDF page of the same size, rasterises it with pdftoppm at 72 dpi (1 pt = 1 px) and returns the ink per column.</summary>
    private static double[] PdfProfile(Action<XGraphics> draw, string name)
    {
        ReturnLabel.EnsureFonts();
        var doc = new PdfDocument();
        var page = doc.AddPage();
        page.Width = XUnit.FromPoint(Width);
        page.Height = XUnit.FromPoint(Height);
        using (var g = XGraphics.FromPdfPage(page)) draw(g);
        var dir = Path.Combine(Path.GetTempPath(), "retour-arabic-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var pdf = Path.Combine(dir, "line.pdf");
        doc.Save(pdf);
        Poppler.Run("pdftoppm", "-r", "72", "-png", "-singlefile", pdf, Path.Combine(PortalSite.Screenshots, $"arabic-{name}-{Guid.NewGuid().ToString("N")[..6]}"));
        var raster = Poppler.Rasterise(pdf, dir, grey: true);
        Directory.Delete(dir, true);
        var (w, h, pgm) = (raster.Width, raster.Height, raster.Pixels);
        Assert.Equal((Width, Height), (w, h));
        var cols = new double[w];
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++) cols[x] += 255 - pgm[y * w + x];
        return cols;
    }

    /// <summary>Pearson correlation of the two ink profiles, each cut to its inked extent and resampled to 300 bins, and their width ratio.</summary>
    private static (double Correlation, double WidthRatio) Compare(double[] a, double[] b)
    {
        (int From, int To) Extent(double[] p)
        {
            var limit = p.Max() * 0.02;
            var from = Array.FindIndex(p, v => v > limit);
            var to = Array.FindLastIndex(p, v => v > limit);
            Assert.True(from >= 0, "Nothing was drawn.");
            return (from, to);
        }
        double[] Resample(double[] p, (int From, int To) e)
        {
            const int bins = 300;
            var r = new double[bins];
            var span = e.To - e.From + 1;
            for (var i = 0; i < bins; i++)
            {
                var lo = e.From + i * span / (double)bins;
                var hi = e.From + (i + 1) * span / (double)bins;
                for (var x = (int)Math.Floor(lo); x < Math.Ceiling(hi) && x <= e.To; x++) r[i] += p[x];
            }
            return r;
        }
        // Smoothed over a few pixels: Chromium applies the font's kerning and PDFsharp does not, which shifts strokes by a pixel or two.
        double[] Smooth(double[] p) => p.Select((_, i) => p.Skip(Math.Max(0, i - 4)).Take(9).Average()).ToArray();
        (a, b) = (Smooth(a), Smooth(b));
        var (ea, eb) = (Extent(a), Extent(b));
        var (ra, rb) = (Resample(a, ea), Resample(b, eb));
        var (ma, mb) = (ra.Average(), rb.Average());
        var cov = ra.Zip(rb).Sum(p => (p.First - ma) * (p.Second - mb));
        var va = Math.Sqrt(ra.Sum(v => (v - ma) * (v - ma)));
        var vb = Math.Sqrt(rb.Sum(v => (v - mb) * (v - mb)));
        return (cov / (va * vb), (ea.To - ea.From + 1) / (double)(eb.To - eb.From + 1));
    }

    private static string Stamp(string text) => Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..8];

}
