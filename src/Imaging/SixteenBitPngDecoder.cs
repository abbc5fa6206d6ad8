using System.Buffers.Binary;
using System.IO.Compression;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace CodeFormer.Imaging;

/// <summary>
/// 16-bit PNGs: SkiaSharp 4.155 decodes them only to 8 bits or half floats (10-bit mantissa), which would lose the
/// fractions that are the point of a 16-bit input, so ImageSharp decodes their pixels (metadata ignored). ImageSharp
/// fills a short zlib stream silently, so completeness is checked here first: the IDAT stream is inflated (into a
/// small scratch buffer, counting) and must hold every row of every interlace pass.
/// </summary>
internal static class SixteenBitPngDecoder
{
    public static unsafe RgbImage Decode(byte[] data, ImageHeader header, CancellationToken cancellationToken)
    {
        RequireCompleteImageData(data, cancellationToken);
        Image<Rgba64> decoded;
        try
        {
            using var stream = new MemoryStream(WithImageDataInOneChunk(data), writable: false);
            decoded = new PngDecoder { IgnoreMetadata = true }.Decode<Rgba64>(ImageFormats.Accepted, stream, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw ImageRefusals.NotDecodable("its 16-bit PNG pixel data cannot be decoded", e);
        }
        using (decoded)
        {
            if (decoded.Width != header.StoredWidth || decoded.Height != header.StoredHeight)
            {
                throw ImageRefusals.Malformed("PNG", $"the decoder reads {decoded.Width}×{decoded.Height} where the header says {header.StoredWidth}×{header.StoredHeight}");
            }
            var samples = new ushort[(long)decoded.Width * decoded.Height * 4];
            decoded.ProcessPixelRows(accessor =>
            {
                for (var y = 0; y < accessor.Height; y++)
                {
                    var row = accessor.GetRowSpan(y);
                    var target = samples.AsSpan(y * accessor.Width * 4, accessor.Width * 4);
                    for (var x = 0; x < row.Length; x++)
                    {
                        target[4 * x] = row[x].R;
                        target[4 * x + 1] = row[x].G;
                        target[4 * x + 2] = row[x].B;
                        target[4 * x + 3] = row[x].A;
                    }
                }
            });
            fixed (ushort* pointer = samples)
            {
                return SkiaPixelDecoder.ToFloat(pointer, decoded.Width, decoded.Height, header, 255f / 65535f, cancellationToken);
            }
        }
    }

    /// <summary>
    /// The PNG with its IDAT chunks joined into one (CRC recomputed), or the bytes themselves when there is only one.
    /// PNG lets the zlib stream be split anywhere, even into 1-byte or empty chunks, and libpng reads that; ImageSharp
    /// 2.x wants the zlib header inside the first IDAT and fails with an index error otherwise.
    /// </summary>
    internal static byte[] WithImageDataInOneChunk(byte[] data)
    {
        var chunks = new List<(int Start, int Length, bool IsImageData)>();
        int position = 8;
        while (position + 12 <= data.Length)
        {
            long length = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(position));
            if (length > data.Length - position - 12)
            {
                break; // a framing error is the container walk's to report; leave the file as it is
            }
            chunks.Add((position, (int)length, data.AsSpan(position + 4, 4).SequenceEqual("IDAT"u8)));
            position += 12 + (int)length;
        }
        if (chunks.Count(c => c.IsImageData) <= 1)
        {
            return data;
        }
        using var joined = new MemoryStream(data.Length);
        joined.Write(data, 0, 8);
        bool written = false;
        foreach (var (start, length, isImageData) in chunks)
        {
            if (!isImageData)
            {
                joined.Write(data, start, 12 + length);
                continue;
            }
            if (written)
            {
                continue;
            }
            written = true;
            var imageData = new MemoryStream();
            imageData.Write("IDAT"u8);
            foreach (var part in chunks.Where(c => c.IsImageData))
            {
                imageData.Write(data, part.Start + 8, part.Length);
            }
            var typeAndData = imageData.GetBuffer().AsSpan(0, (int)imageData.Length);
            var number = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(number, (uint)(typeAndData.Length - 4));
            joined.Write(number);
            joined.Write(typeAndData);
            BinaryPrimitives.WriteUInt32BigEndian(number, System.IO.Hashing.Crc32.HashToUInt32(typeAndData));
            joined.Write(number);
        }
        joined.Write(data, position, data.Length - position);
        return joined.ToArray();
    }

    /// <summary>Inflates the concatenated IDAT data and refuses when it holds fewer bytes than the image's rows need.</summary>
    internal static void RequireCompleteImageData(byte[] data, CancellationToken cancellationToken)
    {
        var idat = new MemoryStream();
        int width = 0, height = 0, bitDepth = 8, colourType = 0, interlace = 0;
        var position = 8;
        while (position + 12 <= data.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(position));
            var type = data.AsSpan(position + 4, 4);
            if (type.SequenceEqual("IHDR"u8))
            {
                width = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(position + 8));
                height = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(position + 12));
                bitDepth = data[position + 16];
                colourType = data[position + 17];
                interlace = data[position + 20];
            }
            else if (type.SequenceEqual("IDAT"u8))
            {
                idat.Write(data, position + 8, length);
            }
            else if (type.SequenceEqual("IEND"u8))
            {
                break;
            }
            position += 12 + length;
        }
        var channels = colourType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        long RowBytes(long w) => 1 + (w * channels * bitDepth + 7) / 8;
        long expected = 0;
        if (interlace == 0)
        {
            expected = height * RowBytes(width);
        }
        else
        {
            // Adam7: pass start and step, in x then y.
            int[] xStart = [0, 4, 0, 2, 0, 1, 0], xStep = [8, 8, 4, 4, 2, 2, 1], yStart = [0, 0, 4, 0, 2, 0, 1], yStep = [8, 8, 8, 4, 4, 2, 2];
            for (var pass = 0; pass < 7; pass++)
            {
                long passWidth = (width - xStart[pass] + xStep[pass] - 1) / xStep[pass];
                long passHeight = (height - yStart[pass] + yStep[pass] - 1) / yStep[pass];
                if (passWidth > 0 && passHeight > 0)
                {
                    expected += passHeight * RowBytes(passWidth);
                }
            }
        }
        long inflated = 0;
        var scratch = new byte[64 * 1024];
        if (ImageRefusals.ZlibHeaderProblem(idat.GetBuffer().AsSpan(0, (int)idat.Length)) is { } problem)
        {
            throw ImageRefusals.DamagedData("PNG", $"its image data {problem}");
        }
        idat.Position = 0;
        try
        {
            using var inflater = new ZLibStream(idat, CompressionMode.Decompress);
            int read;
            while (inflated < expected && (read = inflater.Read(scratch, 0, scratch.Length)) > 0)
            {
                inflated += read;
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            // InvalidDataException for damaged deflate blocks; ZLibException (an IOException) for what .NET's zlib
            // refuses outright. Damaged, not truncated: the bytes are there but do not inflate.
            throw ImageRefusals.DamagedData("PNG", $"its compressed image data does not inflate after {inflated} of the {expected} bytes its rows need");
        }
        if (inflated < expected)
        {
            throw ImageRefusals.IncompleteData("PNG", $"its compressed image data holds {inflated} of the {expected} bytes its rows need");
        }
    }
}
