using System.Buffers.Binary;
using System.Text;

namespace Retour.Core.Media;

public enum PhotoType { Jpeg, Png, WebP }

/// <summary>
/// Shopper photos are judged by their bytes, never by their name or declared type: a JPEG, PNG or WebP whose structure
/// reads cleanly from the first byte to the last. Before storing, their metadata is stripped, because a phone photo's
/// EXIF carries the GPS position of the shopper's home: JPEG keeps only the orientation (so the photo still shows
/// upright), and PNG and WebP lose their EXIF, XMP and text chunks. Pixels are never decoded or re-encoded.
/// </summary>
public static class Photos
{
    public const int MaxBytes = 10 * 1024 * 1024;

    public static string ContentType(PhotoType t) => t switch
    {
        PhotoType.Jpeg => "image/jpeg",
        PhotoType.Png => "image/png",
        _ => "image/webp",
    };

    /// <summary>The type the bytes start like, or null.</summary>
    public static PhotoType? Sniff(ReadOnlySpan<byte> b)
    {
        if (b.Length >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return PhotoType.Jpeg;
        if (b.Length >= 8 && b[..8].SequenceEqual(PngSignature)) return PhotoType.Png;
        if (b.Length >= 12 && b[..4].SequenceEqual("RIFF"u8) && b[8..12].SequenceEqual("WEBP"u8)) return PhotoType.WebP;
        return null;
    }

    /// <summary>The cleaned photo, or null when the bytes are not a well-formed JPEG, PNG or WebP.</summary>
    public static (PhotoType Type, byte[] Bytes)? Clean(byte[] bytes)
    {
        var type = Sniff(bytes);
        try
        {
            var cleaned = type switch
            {
                PhotoType.Jpeg => CleanJpeg(bytes),
                PhotoType.Png => CleanPng(bytes),
                PhotoType.WebP => CleanWebP(bytes),
                _ => null,
            };
            return cleaned is null ? null : (type!.Value, cleaned);
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or IndexOutOfRangeException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// Width and height in pixels of a PNG (from IHDR) or a JPEG (from its first start-of-frame marker), or null for other
    /// types or a malformed header. Read from the header only; the pixels are not decoded.
    /// </summary>
    public static (int Width, int Height)? Dimensions(ReadOnlySpan<byte> b)
    {
        switch (Sniff(b))
        {
            case PhotoType.Png when b.Length >= 24 && b[12..16].SequenceEqual("IHDR"u8):
                var w = BinaryPrimitives.ReadUInt32BigEndian(b[16..20]);
                var h = BinaryPrimitives.ReadUInt32BigEndian(b[20..24]);
                return w is > 0 and <= int.MaxValue && h is > 0 and <= int.MaxValue ? ((int)w, (int)h) : null;
            case PhotoType.Jpeg:
                var i = 2;
                while (i + 4 <= b.Length)
                {
                    if (b[i] != 0xFF) return null;
                    var marker = b[i + 1];
                    if (marker == 0xFF) { i++; continue; }
                    if (marker is 0xD8 or 0x01 or >= 0xD0 and <= 0xD7) { i += 2; continue; }
                    var length = BinaryPrimitives.ReadUInt16BigEndian(b.Slice(i + 2, 2));
                    if (length < 2) return null;
                    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
                    if (marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC))
                    {
                        if (i + 9 > b.Length || length < 7) return null;
                        int height = BinaryPrimitives.ReadUInt16BigEndian(b.Slice(i + 5, 2)), width = BinaryPrimitives.ReadUInt16BigEndian(b.Slice(i + 7, 2));
                        return width > 0 && height > 0 ? (width, height) : null;
                    }
                    if (marker is 0xDA or 0xD9) return null;
                    i += 2 + length;
                }
                return null;
            default:
                return null;
        }
    }

    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static byte[]? CleanJpeg(byte[] b)
    {
        using var output = new MemoryStream(b.Length);
        output.Write(b, 0, 2); // SOI
        var i = 2;
        while (i + 4 <= b.Length)
        {
            if (b[i] != 0xFF) return null;
            var marker = b[i + 1];
            if (marker == 0xFF) { i++; continue; } // fill byte
            if (marker == 0xD9) { output.Write(b, i, 2); return output.ToArray(); } // EOI before any scan: odd but well-formed
            var length = BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(i + 2, 2));
            if (length < 2 || i + 2 + length > b.Length) return null;
            var payload = b.AsSpan(i + 4, length - 2);
            if (marker == 0xDA)
            {
                // Start of scan: the entropy-coded data and everything after it is image data; it must end with EOI.
                if (b.Length < 2 || b[^2] != 0xFF || b[^1] != 0xD9) return null;
                output.Write(b, i, b.Length - i);
                return output.ToArray();
            }
            if (marker == 0xE1 && payload.StartsWith("Exif\0\0"u8))
            {
                if (MinimalExif(payload[6..]) is { } exif) WriteSegment(output, 0xE1, exif);
            }
            else if (marker is 0xE1 or 0xED or 0xFE)
            {
                // XMP (APP1), Photoshop IRB with IPTC (APP13) and comments can all carry places and names: dropped.
            }
            else output.Write(b, i, length + 2);
            i += length + 2;
        }
        return null;
    }

    /// <summary>An EXIF block with nothing but the orientation of the original, or null when it had none.</summary>
    private static byte[]? MinimalExif(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8) return null;
        var little = tiff[0] == 'I' && tiff[1] == 'I';
        if (!little && !(tiff[0] == 'M' && tiff[1] == 'M')) return null;
        ushort U16(ReadOnlySpan<byte> s) => little ? BinaryPrimitives.ReadUInt16LittleEndian(s) : BinaryPrimitives.ReadUInt16BigEndian(s);
        uint U32(ReadOnlySpan<byte> s) => little ? BinaryPrimitives.ReadUInt32LittleEndian(s) : BinaryPrimitives.ReadUInt32BigEndian(s);
        var ifd = U32(tiff[4..]);
        if (ifd + 2 > tiff.Length) return null;
        var count = U16(tiff[(int)ifd..]);
        ushort? orientation = null;
        for (var e = 0; e < count; e++)
        {
            var at = (int)ifd + 2 + e * 12;
            if (at + 12 > tiff.Length) return null;
            if (U16(tiff[at..]) == 0x0112 && U16(tiff[(at + 2)..]) == 3) orientation = U16(tiff[(at + 8)..]);
        }
        if (orientation is not (>= 1 and <= 8)) return null;

        var exif = new byte[6 + 8 + 2 + 12 + 4];
        "Exif\0\0"u8.CopyTo(exif);
        var t = exif.AsSpan(6);
        t[0] = t[1] = (byte)(little ? 'I' : 'M');
        void W16(Span<byte> s, ushort v) { if (little) BinaryPrimitives.WriteUInt16LittleEndian(s, v); else BinaryPrimitives.WriteUInt16BigEndian(s, v); }
        void W32(Span<byte> s, uint v) { if (little) BinaryPrimitives.WriteUInt32LittleEndian(s, v); else BinaryPrimitives.WriteUInt32BigEndian(s, v); }
        W16(t[2..], 42);
        W32(t[4..], 8);
        W16(t[8..], 1);
        W16(t[10..], 0x0112);
        W16(t[12..], 3);
        W32(t[14..], 1);
        W16(t[18..], orientation.Value);
        W32(t[22..], 0); // no next IFD
        return exif;
    }

    private static void WriteSegment(Stream s, byte marker, byte[] payload)
    {
        s.WriteByte(0xFF);
        s.WriteByte(marker);
        var len = payload.Length + 2;
        s.WriteByte((byte)(len >> 8));
        s.WriteByte((byte)len);
        s.Write(payload);
    }

    private static readonly string[] PngDropped = ["eXIf", "tEXt", "zTXt", "iTXt", "tIME"];

    private static byte[]? CleanPng(byte[] b)
    {
        using var output = new MemoryStream(b.Length);
        output.Write(PngSignature);
        var i = 8;
        var first = true;
        while (i + 12 <= b.Length)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(i, 4));
            if (length > int.MaxValue || i + 12 + (long)length > b.Length) return null;
            var type = Encoding.ASCII.GetString(b, i + 4, 4);
            if (first && type != "IHDR") return null;
            first = false;
            if (!PngDropped.Contains(type)) output.Write(b, i, (int)length + 12);
            i += (int)length + 12;
            if (type == "IEND") return i == b.Length || b.AsSpan(i).IndexOfAnyExcept((byte)0) < 0 ? output.ToArray() : null;
        }
        return null;
    }

    private static byte[]? CleanWebP(byte[] b)
    {
        var riffSize = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(4, 4));
        if (riffSize + 8L > b.Length || riffSize < 4) return null;
        var end = (int)riffSize + 8;
        using var body = new MemoryStream(b.Length);
        body.Write("WEBP"u8);
        var i = 12;
        var hasImage = false;
        var vp8x = -1;
        while (i + 8 <= end)
        {
            var fourcc = Encoding.ASCII.GetString(b, i, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(i + 4, 4));
            var padded = size + (size & 1);
            if (i + 8 + (long)padded > end) return null;
            if (fourcc is "VP8 " or "VP8L" or "ANIM") hasImage = true;
            if (fourcc is not ("EXIF" or "XMP "))
            {
                if (fourcc == "VP8X") vp8x = (int)body.Position;
                body.Write(b, i, (int)padded + 8);
            }
            i += (int)padded + 8;
        }
        if (i != end || !hasImage) return null;
        var result = new byte[8 + body.Length];
        "RIFF"u8.CopyTo(result);
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(4), (uint)body.Length);
        body.ToArray().CopyTo(result, 8);
        // VP8X announces EXIF (bit 3) and XMP (bit 2) chunks; they are gone now.
        if (vp8x >= 0) result[8 + vp8x + 8] &= unchecked((byte)~0x0C);
        return result;
    }
}
