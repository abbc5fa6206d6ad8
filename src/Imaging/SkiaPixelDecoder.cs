using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace CodeFormer.Imaging;

/// <summary>
/// Decodes pixels with SkiaSharp's SKCodec (libjpeg-turbo, libpng, libwebp) and checks its result code: anything but
/// Success is a refusal naming the rule (see <see cref="ImageDecoder"/> for why not ImageSharp). No colour conversion
/// (no destination colour space), as OpenCV: the values are the file's. Alpha is decoded unpremultiplied, exactly as
/// stored. EXIF orientation is applied here,
/// while converting to float, from the orientation the container walk read.
/// </summary>
internal static class SkiaPixelDecoder
{
    public static unsafe RgbImage Decode(byte[] data, ImageHeader header, CancellationToken cancellationToken)
    {
        var format = header.Format switch
        {
            ImageFileFormat.Jpeg => "JPEG",
            ImageFileFormat.Png => "PNG",
            _ => "WebP",
        };
        // The codec takes ownership of the stream (a copy of the bytes, in native memory).
        var encoded = new SKMemoryStream(data);
        using var codec = SKCodec.Create(encoded, out var created);
        if (codec is null)
        {
            encoded.Dispose();
            throw Refusal(format, created);
        }
        var stored = codec.Info;
        if (stored.Width != header.StoredWidth || stored.Height != header.StoredHeight)
        {
            throw ImageRefusals.Malformed(format,
                $"the decoder reads a {stored.Width}×{stored.Height} image where the header says {header.StoredWidth}×{header.StoredHeight}");
        }
        // 8 bits per channel: Skia 4.155 refuses 16-bit integer output (InvalidConversion) and its half-float output
        // cannot hold 16-bit fractions, so 16-bit PNGs go through SixteenBitPngDecoder.
        var info = new SKImageInfo(stored.Width, stored.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rowBytes = (long)stored.Width * 4;
        var buffer = NativeMemory.Alloc((nuint)(rowBytes * stored.Height));
        try
        {
            var result = codec.GetPixels(info, (IntPtr)buffer, (int)rowBytes, new SKCodecOptions());
            if (result != SKCodecResult.Success)
            {
                if (header.Format == ImageFileFormat.Png)
                {
                    // libpng says "error in input" for a zlib stream that simply stops: name the missing rows if so.
                    SixteenBitPngDecoder.RequireCompleteImageData(data, cancellationToken);
                }
                throw Refusal(format, result);
            }
            cancellationToken.ThrowIfCancellationRequested();
            if (header.Format == ImageFileFormat.Png)
            {
                PaletteIndexCheck.RequireIndicesInPalette(data, cancellationToken);
            }
            return ToFloat((byte*)buffer, stored.Width, stored.Height, header, 1f, cancellationToken);
        }
        finally
        {
            NativeMemory.Free(buffer);
        }
    }

    private static ImageRejectedException Refusal(string format, SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => ImageRefusals.IncompleteData(format, "its compressed pixel data ends before the last row"),
        SKCodecResult.ErrorInInput or SKCodecResult.InvalidInput => ImageRefusals.Damaged(format),
        _ => ImageRefusals.NotDecodable($"the {format} decoder cannot read it ({result})"),
    };

    /// <summary>
    /// RGBA samples (stored orientation) to float RGB 0..255 (displayed orientation), plus alpha when the source has it.
    /// For displayed (x, y) the stored pixel is found by the EXIF rule: 2 mirror, 3 rotate 180°, 4 flip, 5 transpose,
    /// 6 rotate 90° clockwise, 7 transverse, 8 rotate 90° counter-clockwise.
    /// </summary>
    internal static unsafe RgbImage ToFloat<T>(T* samples, int storedWidth, int storedHeight, ImageHeader header, float scale, CancellationToken cancellationToken)
        where T : unmanaged
    {
        var width = header.Width;
        var height = header.Height;
        var pixels = new float[checked(width * height * 3)];
        var alpha = header.HasAlpha ? new float[width * height] : null;
        var orientation = header.ExifOrientation;
        var source = (IntPtr)samples;
        Parallel.For(0, height, new ParallelOptions { CancellationToken = cancellationToken }, y =>
        {
            var from = (T*)source;
            var rgb = pixels.AsSpan(y * width * 3, width * 3);
            for (var x = 0; x < width; x++)
            {
                var (sx, sy) = orientation switch
                {
                    2 => (storedWidth - 1 - x, y),
                    3 => (storedWidth - 1 - x, storedHeight - 1 - y),
                    4 => (x, storedHeight - 1 - y),
                    5 => (y, x),
                    6 => (y, storedHeight - 1 - x),
                    7 => (storedWidth - 1 - y, storedHeight - 1 - x),
                    8 => (storedWidth - 1 - y, x),
                    _ => (x, y),
                };
                var pixel = from + ((long)sy * storedWidth + sx) * 4;
                rgb[3 * x] = Value(pixel[0]) * scale;
                rgb[3 * x + 1] = Value(pixel[1]) * scale;
                rgb[3 * x + 2] = Value(pixel[2]) * scale;
                if (alpha is not null)
                {
                    alpha[y * width + x] = Value(pixel[3]) * scale;
                }
            }
        });
        return new RgbImage(width, height, pixels) { Alpha = alpha };
    }

    private static float Value<T>(T sample) where T : unmanaged =>
        typeof(T) == typeof(byte) ? Unsafe.As<T, byte>(ref sample) : Unsafe.As<T, ushort>(ref sample);
}
