using System.IO.Compression;
using System.Text;

namespace Retour.Tests.Support;

/// <summary>Real, decodable PNG files made on the spot (a browser must be able to show the thumbnails).</summary>
public static class TestImages
{
    public static byte[] Png(int width, int height, (byte R, byte G, byte B) colour)
    {
        using var raw = new MemoryStream();
        for (var y = 0; y < height; y++)
        {
            raw.WriteByte(0); // no filter
            for (var x = 0; x < width; x++) { raw.WriteByte(colour.R); raw.WriteByte(colour.G); raw.WriteByte(colour.B); }
        }
        using var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) raw.WriteTo(zs);

        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BigEndian(header, 0, width); BigEndian(header, 4, height);
        header[8] = 8; header[9] = 2; // 8-bit RGB
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", z.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>Writes one PNG chunk (length, type, data, CRC).</summary>
    public static void Chunk(Stream s, string type, byte[] data)
    {
        var len = new byte[4];
        BigEndian(len, 0, data.Length);
        s.Write(len);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(typeAndData);
        var crc = new byte[4];
        BigEndian(crc, 0, (int)Crc32(typeAndData));
        s.Write(crc);
    }

    private static void BigEndian(byte[] b, int at, int v)
    {
        b[at] = (byte)(v >> 24); b[at + 1] = (byte)(v >> 16); b[at + 2] = (byte)(v >> 8); b[at + 3] = (byte)v;
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
