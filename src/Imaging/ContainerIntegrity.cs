using System.Buffers.Binary;

namespace CodeFormer.Imaging;

/// <summary>
/// Walks the container structure (JPEG markers, PNG chunks, WebP RIFF chunks) to find truncated files.
/// Why: ImageSharp 2.x decodes a truncated JPEG, PNG or WebP without complaint and leaves the missing rows
/// black or transparent; restoring such a half-image silently is worse than refusing it.
/// Only the structure is read, never pixels, so this costs one pass over the bytes.
/// </summary>
internal static class ContainerIntegrity
{
    /// <summary>Describes why the file is incomplete, or returns null when its structure is whole.</summary>
    public static string? FindStructuralProblem(ImageFileFormat format, ReadOnlySpan<byte> data) => format switch
    {
        ImageFileFormat.Jpeg => FindJpegProblem(data),
        ImageFileFormat.Png => FindPngProblem(data),
        ImageFileFormat.Webp => FindWebpProblem(data),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown image file format."),
    };

    private static string? FindJpegProblem(ReadOnlySpan<byte> data)
    {
        if (data.Length < 4 || data[0] != 0xFF || data[1] != 0xD8)
        {
            return "the JPEG does not start with a start-of-image marker";
        }
        var position = 2;
        var insideScan = false;
        while (true)
        {
            if (insideScan)
            {
                // Entropy-coded data: 0xFF is followed by 0x00 (a stuffed byte), a restart marker or fill 0xFF;
                // anything else is the next marker.
                var relative = data[position..].IndexOf((byte)0xFF);
                if (relative < 0 || position + relative + 1 >= data.Length)
                {
                    return Truncated("JPEG", data.Length, "inside compressed image data, before the end-of-image marker");
                }
                var at = position + relative;
                var next = data[at + 1];
                if (next == 0x00 || next is >= 0xD0 and <= 0xD7)
                {
                    position = at + 2;
                    continue;
                }
                if (next == 0xFF)
                {
                    position = at + 1;
                    continue;
                }
                position = at;
                insideScan = false;
            }

            if (position >= data.Length)
            {
                return Truncated("JPEG", data.Length, "before the end-of-image marker");
            }
            if (data[position] != 0xFF)
            {
                return $"the JPEG has byte 0x{data[position]:X2} at offset {position} where a marker should start";
            }
            while (position < data.Length && data[position] == 0xFF)
            {
                position++;
            }
            if (position >= data.Length)
            {
                return Truncated("JPEG", data.Length, "inside a marker");
            }
            var marker = data[position++];
            if (marker == 0xD9)
            {
                return null;
            }
            if (marker is 0x01 or >= 0xD0 and <= 0xD8)
            {
                continue; // Markers without a length field.
            }
            if (position + 2 > data.Length)
            {
                return Truncated("JPEG", data.Length, $"inside the length of marker 0xFF{marker:X2}");
            }
            var segmentLength = BinaryPrimitives.ReadUInt16BigEndian(data[position..]);
            if (segmentLength < 2)
            {
                return $"the JPEG marker 0xFF{marker:X2} at offset {position - 2} declares an impossible length {segmentLength}";
            }
            if (position + segmentLength > data.Length)
            {
                return Truncated("JPEG", data.Length, $"inside marker 0xFF{marker:X2} which needs {position + segmentLength - data.Length} more bytes");
            }
            position += segmentLength;
            insideScan = marker == 0xDA;
        }
    }

    private static string? FindPngProblem(ReadOnlySpan<byte> data)
    {
        const int signatureLength = 8;
        var position = signatureLength;
        while (true)
        {
            if (position + 8 > data.Length)
            {
                return Truncated("PNG", data.Length, "before its IEND chunk");
            }
            var length = BinaryPrimitives.ReadUInt32BigEndian(data[position..]);
            var type = data.Slice(position + 4, 4);
            var chunkEnd = position + 8L + length + 4; // header, data, CRC
            var typeName = System.Text.Encoding.ASCII.GetString(type);
            if (length > int.MaxValue)
            {
                return $"the PNG chunk {typeName} at offset {position} declares an impossible length {length}";
            }
            if (chunkEnd > data.Length)
            {
                return Truncated("PNG", data.Length, $"inside chunk {typeName} which needs {chunkEnd - data.Length} more bytes");
            }
            if (type.SequenceEqual("IEND"u8))
            {
                return null;
            }
            position = (int)chunkEnd;
        }
    }

    /// <summary>
    /// Whether a PNG has a tRNS (transparency) chunk. ImageSharp 2.x reports HasTransparency = false for a palette
    /// PNG whose palette carries alpha in tRNS, yet decodes the transparency: the header facts must say alpha too.
    /// tRNS must come before the image data, so the walk stops at the first IDAT.
    /// </summary>
    public static bool PngHasTransparencyChunk(ReadOnlySpan<byte> data)
    {
        var position = 8;
        while (position + 8 <= data.Length)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(data[position..]);
            var type = data.Slice(position + 4, 4);
            if (type.SequenceEqual("tRNS"u8))
            {
                return true;
            }
            if (type.SequenceEqual("IDAT"u8) || length > int.MaxValue - 12 || position + 12L + length > data.Length)
            {
                return false;
            }
            position += 12 + (int)length;
        }
        return false;
    }

    private static string? FindWebpProblem(ReadOnlySpan<byte> data)
    {
        if (data.Length < 12 || !data[..4].SequenceEqual("RIFF"u8) || !data.Slice(8, 4).SequenceEqual("WEBP"u8))
        {
            return "the WebP does not start with a RIFF/WEBP header";
        }
        var riffEnd = 8L + BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        if (riffEnd > data.Length)
        {
            return Truncated("WebP", data.Length, $"while its RIFF header declares {riffEnd} bytes");
        }
        long position = 12;
        while (position < riffEnd)
        {
            if (position + 8 > riffEnd)
            {
                return Truncated("WebP", data.Length, "inside a chunk header");
            }
            var size = BinaryPrimitives.ReadUInt32LittleEndian(data[(int)(position + 4)..]);
            var chunkEnd = position + 8 + size + (size & 1); // chunks are padded to even sizes
            if (chunkEnd > riffEnd + (size & 1))
            {
                var typeName = System.Text.Encoding.ASCII.GetString(data.Slice((int)position, 4));
                return Truncated("WebP", data.Length, $"inside chunk {typeName} which needs {chunkEnd - riffEnd} more bytes");
            }
            position = chunkEnd;
        }
        return null;
    }

    private static string Truncated(string format, int length, string where) =>
        $"the {format} is truncated: its {length} bytes end {where}";
}
