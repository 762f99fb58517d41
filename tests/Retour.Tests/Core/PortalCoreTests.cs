using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Retour.Core.Addresses;
using Retour.Core.Media;
using Retour.Core.Text;
using Retour.Tests.Support;
using Xunit;

namespace Retour.Tests.Core;

public sealed class AddressRulesTests
{
    /// <summary>Google's libaddressinput metadata, one "data/XX={json}" line per country, read in place.</summary>
    private static Dictionary<string, JsonElement> Metadata() =>
        File.ReadLines(RealData.Path("addresses", "libaddressinput_countryinfo.txt"))
            .Where(l => Regex.IsMatch(l, "^data/[A-Z]{2}="))
            .ToDictionary(l => l[5..7], l => JsonDocument.Parse(l[8..]).RootElement);

    [Fact]
    public void Table_AgreesWithGoogleMetadata_ForEveryCountry()
    {
        var meta = Metadata();
        Assert.True(meta.Count > 200);
        var rules = AddressRules.Rules.ToList();
        Assert.True(rules.Count >= 50);
        foreach (var (country, require, zip) in rules)
        {
            Assert.True(meta.ContainsKey(country), country);
            var m = meta[country];
            var metaRequire = m.TryGetProperty("require", out var r) ? r.GetString()! : "AC"; // the "ZZ" default
            Assert.True(new string(metaRequire.Where(c => c is 'A' or 'C' or 'S' or 'Z').OrderBy(c => c).ToArray()) == new string(require.OrderBy(c => c).ToArray()),
                $"{country}: require {require}, metadata {metaRequire}");
            var metaZip = m.TryGetProperty("zip", out var z) ? z.GetString() : null;
            if (country == "KR") Assert.Contains(metaZip!, zip!); // the old six-digit form is still accepted
            else Assert.True(metaZip == zip, $"{country}: zip {zip}, metadata {metaZip}");
        }
    }

    [Fact]
    public void EveryExample_InTheMetadata_Passes_AndAWrongShapeFails()
    {
        var meta = Metadata();
        foreach (var (country, _, zip) in AddressRules.Rules.Where(r => r.Zip is not null))
        {
            if (!meta[country].TryGetProperty("zipex", out var ex)) continue;
            var metaZip = new Regex($"^(?:{meta[country].GetProperty("zip").GetString()})$");
            // Examples that break the metadata's own pattern (EE lists the old "1001") say nothing about ours.
            foreach (var example in ex.GetString()!.Split(',').Where(e => metaZip.IsMatch(e) || country == "KR"))
            {
                var problems = AddressRules.Validate(AddressRules.Normalize(Address(country, example)));
                Assert.True(problems.Count == 0, $"{country} {example}: {string.Join(", ", problems)}");
            }
            Assert.Contains(AddressRules.Validate(Address(country, "!!!")), p => p is { Field: "postal_code", Code: AddressProblem.PostalFormat });
        }
    }

    [Theory]
    [InlineData("DE", "1013", "postal_code", AddressProblem.PostalFormat)]
    [InlineData("DE", null, "postal_code", AddressProblem.Required)]
    [InlineData("US", "9501", "postal_code", AddressProblem.PostalFormat)]
    [InlineData("KR", "0623", "postal_code", AddressProblem.PostalFormat)]
    [InlineData("GB", "XX1 1XX", "postal_code", AddressProblem.PostalFormat)]
    public void WrongPostalCodes_AreNamed(string country, string? postal, string field, string code) =>
        Assert.Contains(AddressRules.Validate(Address(country, postal)), p => p.Field == field && p.Code == code);

    [Fact]
    public void RegionIsRequired_WhereTheCountryNeedsIt_AndPostalCodeOptional_WhereItIsNot()
    {
        Assert.Contains(AddressRules.Validate(Address("US", "95014") with { Region = null }), p => p is { Field: "region", Code: AddressProblem.Required });
        Assert.DoesNotContain(AddressRules.Validate(Address("DE", "10115") with { Region = null }), p => p.Field == "region");
        Assert.Empty(AddressRules.Validate(Address("IE", null)));
        Assert.Empty(AddressRules.Validate(Address("AE", null)));
    }

    [Fact]
    public void Normalize_TrimsAndUppercases()
    {
        var a = AddressRules.Normalize(new PostalAddress(" Ana ", " Calle 1 ", "  ", "Madrid", null, " 28039 ", "es"));
        Assert.Equal(("Ana", "Calle 1", null, "ES", "28039"), (a.Name, a.Line1, a.Line2, a.Country, a.PostalCode));
        Assert.Empty(AddressRules.Validate(AddressRules.Normalize(new PostalAddress("A", "B", null, "London", null, "ec1y  8sy", "gb"))));
        Assert.Contains(AddressRules.Validate(Address("Germany", "10115")), p => p is { Field: "country", Code: AddressProblem.UnknownCountry });
    }

    private static PostalAddress Address(string country, string? postal) =>
        new("Kim Min-jun", "Street 1", null, "City", "Region", postal, country);
}

public sealed class BidiAndShapingTests
{
    [Fact]
    public void Shaping_PicksContextualForms_AndTheLamAlefLigature()
    {
        // "سلام": seen initial, lam-alef final ligature, meem isolated (alef does not join to the left)
        Assert.Equal("\uFEB3\uFEFC\uFEE1", ArabicShaping.Shape("سلام"));
        // "باب": beh initial, alef final, beh isolated
        Assert.Equal("\uFE91\uFE8E\uFE8F", ArabicShaping.Shape("باب"));
        // "محمد": meem initial, hah medial, meem medial, dal final
        Assert.Equal("\uFEE3\uFEA4\uFEE4\uFEAA", ArabicShaping.Shape("محمد"));
        Assert.Equal("Berlin 10115", ArabicShaping.Shape("Berlin 10115"));
    }

    [Fact]
    public void Shaping_KeepsHarakatTransparent()
    {
        // beh + fatha + teh: the mark between them does not break the join
        Assert.Equal("\uFE91\u064E\uFE96", ArabicShaping.Shape("بَت"));
    }

    [Fact]
    public void Bidi_ReversesArabic_AndKeepsNumbersAndLatinLeftToRight()
    {
        Assert.Equal("cba", Bidi.ToVisual("abc".Replace('a', 'ا').Replace('b', 'ب').Replace('c', 'ت')).Replace('ا', 'a').Replace('ب', 'b').Replace('ت', 'c'));
        // Arabic paragraph with a number: the digits keep their order
        var visual = Bidi.ToVisual("شارع 12");
        Assert.Equal("12 عراش", visual);
        // Latin inside Arabic stays in reading order
        Assert.Equal("DHL عم", Bidi.ToVisual("مع DHL"));
        // Left-to-right paragraphs pass through untouched
        Assert.Equal("R-7K3M-9QX2 Berlin", Bidi.ToVisual("R-7K3M-9QX2 Berlin"));
        Assert.True(Bidi.IsRightToLeft("الرياض 12345"));
        Assert.False(Bidi.IsRightToLeft("12 Riyadh"));
    }

    [Fact]
    public void Bidi_MirrorsBrackets_InRightToLeftRuns()
    {
        Assert.Equal("(ب) ا", Bidi.ToVisual("ا (ب)"));
    }
}

public sealed class PhotosTests
{
    [Fact]
    public void Jpeg_LosesGpsAndComments_KeepsOrientationAndImage()
    {
        var jpeg = Jpeg(withGps: true);
        Assert.Equal(PhotoType.Jpeg, Photos.Sniff(jpeg));
        Assert.True(Contains(jpeg, "GPSSECRET"u8.ToArray()) && Contains(jpeg, "where I live"u8.ToArray()));
        var (type, clean) = Photos.Clean(jpeg)!.Value;
        Assert.Equal(PhotoType.Jpeg, type);
        Assert.False(Contains(clean, "GPSSECRET"u8.ToArray()));
        Assert.False(Contains(clean, "where I live"u8.ToArray()));
        Assert.False(Contains(clean, [0x25, 0x88])); // the GPS IFD pointer tag (0x8825, little-endian)
        Assert.True(Contains(clean, "Exif\0\0"u8.ToArray()));
        Assert.True(Contains(clean, [0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00])); // orientation 6 kept
        Assert.True(Contains(clean, ScanData));
        Assert.Equal([0xFF, 0xD9], clean[^2..]);
    }

    [Fact]
    public void Png_LosesTextAndExifChunks()
    {
        var png = Png(("IHDR", new byte[13]), ("tEXt", "Location\0Home"u8.ToArray()), ("eXIf", "GPSSECRET"u8.ToArray()), ("IDAT", [1, 2, 3]), ("IEND", []));
        var (type, clean) = Photos.Clean(png)!.Value;
        Assert.Equal(PhotoType.Png, type);
        Assert.False(Contains(clean, "GPSSECRET"u8.ToArray()));
        Assert.False(Contains(clean, "Location"u8.ToArray()));
        Assert.True(Contains(clean, "IDAT"u8.ToArray()));
    }

    [Fact]
    public void WebP_LosesExif_AndStaysAWellFormedRiff()
    {
        var webp = WebP(("VP8X", [0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0]), ("VP8 ", [1, 2, 3, 4]), ("EXIF", "GPSSECRET"u8.ToArray()));
        var (type, clean) = Photos.Clean(webp)!.Value;
        Assert.Equal(PhotoType.WebP, type);
        Assert.False(Contains(clean, "GPSSECRET"u8.ToArray()));
        Assert.Equal((uint)clean.Length - 8, BinaryPrimitives.ReadUInt32LittleEndian(clean.AsSpan(4)));
        Assert.Equal(0, clean[20] & 0x0C);
    }

    [Fact]
    public void ContentDecides_NotTheName()
    {
        Assert.Null(Photos.Sniff("%PDF-1.7 pretending to be a photo"u8));
        Assert.Null(Photos.Sniff("GIF89a"u8));
        Assert.Null(Photos.Clean("<svg xmlns='http://www.w3.org/2000/svg'/>"u8.ToArray()));
        var truncated = Jpeg(withGps: false)[..^10];
        Assert.Null(Photos.Clean(truncated));
        Assert.Null(Photos.Clean(Png(("tEXt", [1]), ("IEND", []))));
    }

    private static readonly byte[] ScanData = [0x11, 0x22, 0x33, 0x44, 0x55];

    private static byte[] Jpeg(bool withGps)
    {
        // TIFF (little-endian): IFD0 with Orientation=6 and a GPS IFD pointer; the GPS IFD holds a marker string.
        var tiff = new List<byte>();
        tiff.AddRange("II"u8.ToArray()); tiff.AddRange(U16(42)); tiff.AddRange(U32(8));
        tiff.AddRange(U16(2));
        tiff.AddRange(U16(0x0112)); tiff.AddRange(U16(3)); tiff.AddRange(U32(1)); tiff.AddRange(U16(6)); tiff.AddRange(U16(0));
        tiff.AddRange(U16(0x8825)); tiff.AddRange(U16(4)); tiff.AddRange(U32(1)); tiff.AddRange(U32(38));
        tiff.AddRange(U32(0));
        // GPS IFD at 38: one ASCII entry pointing at the text
        tiff.AddRange(U16(1)); tiff.AddRange(U16(0x0001)); tiff.AddRange(U16(2)); tiff.AddRange(U32(10)); tiff.AddRange(U32(56)); tiff.AddRange(U32(0));
        tiff.AddRange("GPSSECRET\0"u8.ToArray());
        var app1 = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        var b = new List<byte> { 0xFF, 0xD8 };
        if (withGps) Segment(b, 0xE1, app1);
        else Segment(b, 0xE0, "JFIF\0\x01\x01\0\0\x01\0\x01\0\0"u8.ToArray());
        Segment(b, 0xFE, "where I live"u8.ToArray());
        Segment(b, 0xDB, new byte[65]);
        Segment(b, 0xDA, [1, 1, 0, 0, 63, 0]);
        b.AddRange(ScanData);
        b.AddRange([0xFF, 0xD9]);
        return b.ToArray();
    }

    private static void Segment(List<byte> b, byte marker, byte[] payload)
    {
        b.Add(0xFF); b.Add(marker);
        b.Add((byte)((payload.Length + 2) >> 8)); b.Add((byte)(payload.Length + 2));
        b.AddRange(payload);
    }

    private static byte[] Png(params (string Type, byte[] Data)[] chunks)
    {
        var b = new List<byte> { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };
        foreach (var (type, data) in chunks)
        {
            var len = new byte[4]; BinaryPrimitives.WriteUInt32BigEndian(len, (uint)data.Length);
            b.AddRange(len); b.AddRange(Encoding.ASCII.GetBytes(type)); b.AddRange(data); b.AddRange(new byte[4]);
        }
        return b.ToArray();
    }

    private static byte[] WebP(params (string FourCc, byte[] Data)[] chunks)
    {
        var body = new List<byte>(); body.AddRange("WEBP"u8.ToArray());
        foreach (var (fourcc, data) in chunks)
        {
            body.AddRange(Encoding.ASCII.GetBytes(fourcc)); body.AddRange(U32((uint)data.Length)); body.AddRange(data);
            if (data.Length % 2 == 1) body.Add(0);
        }
        return "RIFF"u8.ToArray().Concat(U32((uint)body.Count)).Concat(body).ToArray();
    }

    private static byte[] U16(ushort v) { var b = new byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); return b; }
    private static byte[] U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); return b; }
    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
