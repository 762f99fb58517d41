using System.Diagnostics;
using System.Text;
using Xunit;

namespace Retour.Tests.Support;

/// <summary>A rasterised PDF page: 1 channel (grey) or 3 (RGB), row by row.</summary>
public sealed record Raster(int Width, int Height, int Channels, byte[] Pixels);

/// <summary>Poppler's command-line tools (Debian's poppler-utils, installed by scripts/test.sh), for reading PDFs back.</summary>
public static class Poppler
{
    /// <summary>Runs a tool and returns its output; a non-zero exit fails the test with its message.</summary>
    public static string Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{tool} failed: {stderr.Result}");
        return output;
    }

    public static string Text(string pdfPath) => Run("pdftotext", "-layout", pdfPath, "-");

    public static string Text(byte[] pdf) => WithFile(pdf, (path, _) => Text(path));

    /// <summary>The first page at <paramref name="dpi"/> (72 dpi: 1 pt = 1 px), in grey or RGB.</summary>
    public static Raster Rasterise(byte[] pdf, int dpi = 72, bool grey = false) => WithFile(pdf, (path, dir) => Rasterise(path, dir, dpi, grey));

    public static Raster Rasterise(string pdfPath, string workDir, int dpi = 72, bool grey = false)
    {
        var stem = Path.Combine(workDir, "page-" + Guid.NewGuid().ToString("N")[..6]);
        Run("pdftoppm", [.. new[] { "-r", dpi.ToString(), "-singlefile" }, .. grey ? new[] { "-gray" } : [], pdfPath, stem]);
        var b = File.ReadAllBytes(stem + (grey ? ".pgm" : ".ppm"));
        File.Delete(stem + (grey ? ".pgm" : ".ppm"));
        // Binary PGM/PPM: "P5" or "P6", width, height, maxval (255), one whitespace, then the pixels.
        var at = 0;
        string Token()
        {
            while (char.IsWhiteSpace((char)b[at])) at++;
            var start = at;
            while (!char.IsWhiteSpace((char)b[at])) at++;
            return Encoding.ASCII.GetString(b, start, at - start);
        }
        Assert.Equal(grey ? "P5" : "P6", Token());
        var (w, h) = (int.Parse(Token()), int.Parse(Token()));
        Assert.Equal("255", Token());
        at++;
        var channels = grey ? 1 : 3;
        return new Raster(w, h, channels, b[at..(at + w * h * channels)]);
    }

    private static T WithFile<T>(byte[] pdf, Func<string, string, T> work)
    {
        var dir = Directory.CreateTempSubdirectory("retour-pdf-");
        try
        {
            var path = Path.Combine(dir.FullName, "doc.pdf");
            File.WriteAllBytes(path, pdf);
            return work(path, dir.FullName);
        }
        finally { dir.Delete(true); }
    }
}
