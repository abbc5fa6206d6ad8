using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace CodeFormer.Imaging.Tests;

/// <summary>Builds and takes apart PNG, JPEG and WebP files byte by byte, to craft the hostile inputs the tests refuse.</summary>
internal static class CraftedFiles
{
    public static readonly byte[] PngSignature = [137, 80, 78, 71, 13, 10, 26, 10];

    public static byte[] Chunk(string type, ReadOnlySpan<byte> data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(chunk, 4);
        data.CopyTo(chunk.AsSpan(8));
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32.HashToUInt32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    public static byte[] Png(params byte[][] chunks) => [.. PngSignature, .. chunks.SelectMany(c => c)];

    public static byte[] Ihdr(int width, int height, byte bitDepth = 8, byte colourType = 2)
    {
        var data = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(data, width);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), height);
        data[8] = bitDepth;
        data[9] = colourType;
        return Chunk("IHDR", data);
    }

    /// <summary>Filter-0 RGB 8-bit scanlines of a gradient.</summary>
    public static byte[] RgbRows(int width, int height)
    {
        var rows = new byte[height * (1 + 3 * width)];
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                var i = y * (1 + 3 * width) + 1 + 3 * x;
                rows[i] = (byte)(x * 7);
                rows[i + 1] = (byte)(y * 5);
                rows[i + 2] = (byte)(x + y);
            }
        }
        return rows;
    }

    public static byte[] Zlib(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            zlib.Write(data);
        }
        return output.ToArray();
    }

    /// <summary>The chunks of a PNG, as (type, data).</summary>
    public static List<(string Type, byte[] Data)> PngChunks(byte[] png)
    {
        var chunks = new List<(string, byte[])>();
        var position = 8;
        while (position + 12 <= png.Length)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(position));
            chunks.Add((Encoding.ASCII.GetString(png, position + 4, 4), png.AsSpan(position + 8, length).ToArray()));
            position += 12 + length;
        }
        return chunks;
    }

    public static byte[] PngFromChunks(IEnumerable<(string Type, byte[] Data)> chunks) =>
        Png(chunks.Select(c => Chunk(c.Type, c.Data)).ToArray());

    /// <summary>Offset of the first byte of entropy-coded data after the first SOS segment, and of the EOI marker.</summary>
    public static (int ScanStart, int End) JpegScan(byte[] jpeg)
    {
        var position = 2;
        while (true)
        {
            var marker = jpeg[position + 1];
            var length = BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(position + 2));
            position += 2 + length;
            if (marker == 0xDA)
            {
                return (position, jpeg.Length - 2);
            }
        }
    }

    /// <summary>A JPEG without its segments of the given marker (0xDB: quantization tables).</summary>
    public static byte[] JpegWithout(byte[] jpeg, byte marker)
    {
        using var output = new MemoryStream();
        output.Write(jpeg, 0, 2);
        var position = 2;
        while (true)
        {
            var current = jpeg[position + 1];
            var length = BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(position + 2));
            if (current == 0xDA)
            {
                output.Write(jpeg, position, jpeg.Length - position);
                return output.ToArray();
            }
            if (current != marker)
            {
                output.Write(jpeg, position, 2 + length);
            }
            position += 2 + length;
        }
    }

    /// <summary>Offset of the first frame header (SOF0..SOF2) payload.</summary>
    public static int JpegFrameHeader(byte[] jpeg)
    {
        var position = 2;
        while (true)
        {
            var marker = jpeg[position + 1];
            if (marker is 0xC0 or 0xC1 or 0xC2)
            {
                return position + 4;
            }
            position += 2 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(position + 2));
        }
    }

    /// <summary>A JPEG with an APP1 EXIF segment (the given TIFF bytes) right after SOI.</summary>
    public static byte[] JpegWithExif(byte[] jpeg, byte[] tiff)
    {
        var payload = "Exif\0\0"u8.ToArray().Concat(tiff).ToArray();
        var segment = new byte[4 + payload.Length];
        segment[0] = 0xFF;
        segment[1] = 0xE1;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(payload.Length + 2));
        payload.CopyTo(segment, 4);
        return [.. jpeg[..2], .. segment, .. jpeg[2..]];
    }

    /// <summary>A little-endian TIFF header with IFD0 at offset 8 declaring <paramref name="entries"/> entries, followed by <paramref name="body"/>.</summary>
    public static byte[] Tiff(ushort entries, byte[] body)
    {
        var tiff = new byte[10 + body.Length];
        "II*\0"u8.CopyTo(tiff);
        BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(4), 8);
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(8), entries);
        body.CopyTo(tiff, 10);
        return tiff;
    }

    public static byte[] WebpFromChunks(params (string FourCc, byte[] Data)[] chunks)
    {
        using var body = new MemoryStream();
        body.Write("WEBP"u8);
        foreach (var (fourCc, data) in chunks)
        {
            body.Write(Encoding.ASCII.GetBytes(fourCc));
            var size = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(size, data.Length);
            body.Write(size);
            body.Write(data);
            if ((data.Length & 1) != 0)
            {
                body.WriteByte(0);
            }
        }
        var riff = new byte[8];
        "RIFF"u8.CopyTo(riff);
        BinaryPrimitives.WriteInt32LittleEndian(riff.AsSpan(4), (int)body.Length);
        return [.. riff, .. body.ToArray()];
    }

    /// <summary>The chunks of a WebP, as (fourcc, data).</summary>
    public static List<(string FourCc, byte[] Data)> WebpChunks(byte[] webp)
    {
        var chunks = new List<(string, byte[])>();
        var position = 12;
        while (position + 8 <= webp.Length)
        {
            var size = BinaryPrimitives.ReadInt32LittleEndian(webp.AsSpan(position + 4));
            chunks.Add((Encoding.ASCII.GetString(webp, position, 4), webp.AsSpan(position + 8, size).ToArray()));
            position += 8 + size + (size & 1);
        }
        return chunks;
    }
}
