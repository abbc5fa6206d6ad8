namespace CodeFormer.Imaging;

/// <summary>
/// Writes float RGB images (0..255) as PNG (8 or 16 bits), JPEG or WebP. Values are rounded half-to-even (as
/// torch.round in the reference's tensor2img) and clamped, never wrapped. The bit depth is the caller's choice
/// (the input's), never inferred from the values: the reference picked uint16 whenever max &gt; 256, so grey faces
/// that AdaIN pushed slightly above 255 were written as near-zero 16-bit values and came out black (CodeFormer#222).
/// </summary>
public sealed class ImageEncoder
{
    /// <summary>Whether writing this image in this format loses its alpha plane (JPEG has none): callers warn the user.</summary>
    public static bool DropsAlpha(RgbImage image, ImageFileFormat format)
    {
        ArgumentNullException.ThrowIfNull(image);
        return image.Alpha is not null && format == ImageFileFormat.Jpeg;
    }

    /// <summary>
    /// Encodes to bytes: PNG with the project's <see cref="PngWriter"/>, JPEG and WebP with libjpeg-turbo and libwebp
    /// (<see cref="LossyEncoder"/>). <paramref name="quality"/> (1..100) applies to JPEG and to WebP, which is written
    /// lossy (PNG is the lossless choice). PNG and WebP keep alpha when present (WebP stores alpha losslessly); JPEG drops alpha (see <see cref="DropsAlpha"/>). With <paramref name="greyscale"/>
    /// PNG and JPEG are written single-channel (grey, or grey+alpha PNG) from the luma the reference uses
    /// (0.2989 R + 0.587 G + 0.114 B); WebP has no grey mode and gets the luma in all three channels.
    /// <paramref name="pngBitDepth"/> 16 writes a 16-bit PNG (value × 257, so 8-bit levels map exactly) to keep
    /// the precision of a 16-bit input, as the reference does; JPEG and WebP are 8-bit only.
    /// </summary>
    public byte[] Encode(RgbImage image, ImageFileFormat format, int quality = 95, bool greyscale = false, int pngBitDepth = 8)
    {
        using var output = new MemoryStream();
        EncodeTo(output, image, format, quality, greyscale, pngBitDepth);
        return output.ToArray();
    }

    public void EncodeTo(Stream destination, RgbImage image, ImageFileFormat format, int quality = 95, bool greyscale = false, int pngBitDepth = 8) =>
        Write(destination, image, format, quality, greyscale, pngBitDepth, consumeImage: false);

    /// <summary>
    /// <see cref="Encode"/> for an image nothing reads afterwards (the engine's result canvas): JPEG and WebP pack their
    /// 8-bit samples into the image's own float array instead of a new whole-image buffer, leaving its pixels garbage.
    /// The bytes are the same as <see cref="Encode"/>'s. PNG is written band by band and leaves the image intact.
    /// </summary>
    public byte[] EncodeConsuming(RgbImage image, ImageFileFormat format, int quality = 95, bool greyscale = false, int pngBitDepth = 8)
    {
        using var output = new MemoryStream();
        Write(output, image, format, quality, greyscale, pngBitDepth, consumeImage: true);
        return output.ToArray();
    }

    private static void Write(Stream destination, RgbImage image, ImageFileFormat format, int quality, bool greyscale, int pngBitDepth, bool consumeImage)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(image);
        if (quality is < 1 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(quality), quality, "Quality (JPEG and WebP) must be between 1 and 100.");
        }
        if (pngBitDepth is not (8 or 16))
        {
            throw new ArgumentOutOfRangeException(nameof(pngBitDepth), pngBitDepth, "PNG bit depth must be 8 or 16.");
        }
        if (pngBitDepth == 16 && format != ImageFileFormat.Png)
        {
            throw new ArgumentException($"16-bit output is written only as PNG; {format} is 8-bit.", nameof(pngBitDepth));
        }
        if (image.Alpha is not null && image.Alpha.Length != image.Width * image.Height)
        {
            throw new ArgumentException(
                $"The alpha plane of a {image.Width}×{image.Height} image needs {image.Width * image.Height} values, got {image.Alpha.Length}.",
                nameof(image));
        }
        if (!OutputFormat.CanHold(format, image.Width, image.Height))
        {
            // Never write a corrupt file: WebP's 14-bit sizes would wrap (16800 px decodes as 416 px).
            throw new ImageRejectedException(
                ImageRejectionRule.OutputTooLarge,
                $"The result ({image.Width}×{image.Height} px) is too large for {format}, which stores at most {OutputFormat.MaxSide(format)} px a side; write it as PNG instead.");
        }
        var keepAlpha = image.Alpha is not null && format != ImageFileFormat.Jpeg;
        switch (format)
        {
            case ImageFileFormat.Png:
                WritePng(destination, image, greyscale, keepAlpha, pngBitDepth);
                break;
            case ImageFileFormat.Jpeg or ImageFileFormat.Webp:
                LossyEncoder.Write(destination, image, format, quality, greyscale, keepAlpha, packInPlace: consumeImage);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown image file format.");
        }
    }

    /// <summary>Fills rows [firstRow, firstRow + rowCount) of an image as float RGB 0..255, interleaved.</summary>
    public delegate void FloatRowSource(int firstRow, int rowCount, Span<float> rgb);

    /// <summary>
    /// An 8-bit RGB PNG of an image the caller makes band by band (values rounded and clamped as <see cref="Encode"/>
    /// does), so that an image composed of others — the before/after comparison — never exists whole in memory.
    /// </summary>
    public byte[] EncodePngRows(int width, int height, FloatRowSource rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Image size {width}×{height} is not positive.");
        }
        using var output = new MemoryStream();
        float[] band = [];
        PngWriter.Write(output, width, height, PngWriter.ColourType.Rgb, 8, (firstRow, rowCount, samples) =>
        {
            int values = rowCount * width * 3;
            if (band.Length < values)
            {
                band = new float[values];
            }
            rows(firstRow, rowCount, band.AsSpan(0, values));
            var bytes = samples.Span;
            for (int i = 0; i < values; i++)
            {
                bytes[i] = ToByte(band[i]);
            }
        });
        return output.ToArray();
    }

    /// <summary>Round half-to-even, then clamp; NaN becomes 0 rather than an undefined cast.</summary>
    internal static byte ToByte(float value)
    {
        if (float.IsNaN(value))
        {
            return 0;
        }
        return (byte)Math.Clamp(MathF.Round(value), 0f, 255f);
    }

    /// <summary>A 0..255 value as 16 bits: × 257 maps 255 to 65535 and every 8-bit level to an exact 16-bit one.</summary>
    internal static ushort ToUInt16(float value)
    {
        if (float.IsNaN(value))
        {
            return 0;
        }
        return (ushort)Math.Clamp(MathF.Round(value * 257f), 0f, 65535f);
    }

    internal static float Luma(float r, float g, float b) => 0.2989f * r + 0.587f * g + 0.114f * b;

    /// <summary>PNG through the project's <see cref="PngWriter"/> (native zlib), from the same rounded, clamped samples.</summary>
    private static void WritePng(Stream destination, RgbImage image, bool greyscale, bool keepAlpha, int bitDepth)
    {
        var type = (greyscale, keepAlpha) switch
        {
            (true, true) => PngWriter.ColourType.GreyAlpha,
            (true, false) => PngWriter.ColourType.Grey,
            (false, true) => PngWriter.ColourType.Rgba,
            (false, false) => PngWriter.ColourType.Rgb,
        };
        int channels = PngWriter.Channels(type);
        int bytesPerSample = bitDepth / 8;
        int width = image.Width;
        int rowBytes = width * channels * bytesPerSample;
        var pixels = image.Pixels;
        var alpha = image.Alpha;
        // Rows are made band by band as the writer deflates them, never the whole image's samples at once.
        PngWriter.Write(destination, image.Width, image.Height, type, bitDepth, (firstRow, rowCount, samples) =>
        {
            Parallel.For(0, rowCount, r =>
            {
                int y = firstRow + r;
                var row = samples.Span.Slice(r * rowBytes, rowBytes);
                int k = 0;
                for (int x = 0; x < width; x++)
                {
                    long i = (long)y * width + x;
                    if (greyscale)
                    {
                        Put(row, ref k, Luma(pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]), bytesPerSample);
                    }
                    else
                    {
                        Put(row, ref k, pixels[3 * i], bytesPerSample);
                        Put(row, ref k, pixels[3 * i + 1], bytesPerSample);
                        Put(row, ref k, pixels[3 * i + 2], bytesPerSample);
                    }
                    if (keepAlpha)
                    {
                        Put(row, ref k, alpha![i], bytesPerSample);
                    }
                }
            });
        });
    }

    /// <summary>One PNG sample: a byte, or two bytes big-endian for 16-bit.</summary>
    private static void Put(Span<byte> row, ref int k, float value, int bytesPerSample)
    {
        if (bytesPerSample == 1)
        {
            row[k++] = ToByte(value);
        }
        else
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(row[k..], ToUInt16(value));
            k += 2;
        }
    }
}
