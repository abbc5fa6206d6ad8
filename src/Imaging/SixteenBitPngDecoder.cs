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
        var png = PngImageData.Read(data);
        if (png.ImageDataChunkCount <= 1)
        {
            return data;
        }
        using var joined = new MemoryStream(data.Length);
        joined.Write(data, 0, 8);
        var written = false;
        foreach (var (start, length, isImageData) in png.Chunks)
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
            using var imageData = png.OpenCompressedImageData();
            var typeAndData = new byte[4 + imageData.Length];
            "IDAT"u8.CopyTo(typeAndData);
            imageData.ReadExactly(typeAndData.AsSpan(4));
            var number = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(number, (uint)(typeAndData.Length - 4));
            joined.Write(number);
            joined.Write(typeAndData);
            BinaryPrimitives.WriteUInt32BigEndian(number, System.IO.Hashing.Crc32.HashToUInt32(typeAndData));
            joined.Write(number);
        }
        joined.Write(data, png.End, data.Length - png.End);
        return joined.ToArray();
    }

    /// <summary>Inflates the concatenated IDAT data and refuses when it holds fewer bytes than the image's rows need.</summary>
    internal static void RequireCompleteImageData(byte[] data, CancellationToken cancellationToken)
    {
        var png = PngImageData.Read(data);
        var expected = png.InflatedBytesNeeded();
        using var idat = png.OpenCompressedImageData();
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
