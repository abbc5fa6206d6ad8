using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

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
    /// Encodes to bytes. <paramref name="quality"/> (1..100) applies to JPEG and to WebP, which is written lossy
    /// (ImageSharp 2.x's lossless WebP took about 1 s for a 0.3 MP photo here, lossy about 0.4 s; PNG is the
    /// lossless choice). PNG and WebP keep alpha when present (WebP stores alpha losslessly); JPEG drops alpha (see <see cref="DropsAlpha"/>). With <paramref name="greyscale"/>
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

    public void EncodeTo(Stream destination, RgbImage image, ImageFileFormat format, int quality = 95, bool greyscale = false, int pngBitDepth = 8)
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
        if (format == ImageFileFormat.Png)
        {
            WritePng(destination, image, greyscale, keepAlpha, pngBitDepth);
            return;
        }
        var encoder = CreateEncoder(format, quality, greyscale, keepAlpha, pngBitDepth);
        using var pixels = ToImageSharp(image, greyscale && format != ImageFileFormat.Webp, greyscale, keepAlpha, pngBitDepth == 16);
        pixels.Save(destination, encoder);
    }

    private static Image ToImageSharp(RgbImage image, bool singleChannel, bool greyscale, bool keepAlpha, bool sixteenBit) =>
        (singleChannel, keepAlpha, sixteenBit) switch
        {
            (true, true, false) => ToPixels(image, (r, g, b, a) => new La16(ToByte(Luma(r, g, b)), ToByte(a))),
            (true, false, false) => ToPixels(image, (r, g, b, _) => new L8(ToByte(Luma(r, g, b)))),
            (true, true, true) => ToPixels(image, (r, g, b, a) => new La32(ToUInt16(Luma(r, g, b)), ToUInt16(a))),
            (true, false, true) => ToPixels(image, (r, g, b, _) => new L16(ToUInt16(Luma(r, g, b)))),
            (false, _, _) when greyscale => ToPixels(image, (r, g, b, a) =>
            {
                var l = ToByte(Luma(r, g, b));
                return new Rgba32(l, l, l, ToByte(a));
            }),
            (false, true, false) => ToPixels(image, (r, g, b, a) => new Rgba32(ToByte(r), ToByte(g), ToByte(b), ToByte(a))),
            (false, false, false) => ToPixels(image, (r, g, b, _) => new Rgb24(ToByte(r), ToByte(g), ToByte(b))),
            (false, true, true) => ToPixels(image, (r, g, b, a) => new Rgba64(ToUInt16(r), ToUInt16(g), ToUInt16(b), ToUInt16(a))),
            (false, false, true) => ToPixels(image, (r, g, b, _) => new Rgb48(ToUInt16(r), ToUInt16(g), ToUInt16(b))),
        };

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

    private static float Luma(float r, float g, float b) => 0.2989f * r + 0.587f * g + 0.114f * b;

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
        var samples = new byte[(long)image.Width * image.Height * channels * bytesPerSample];
        var pixels = image.Pixels;
        var alpha = image.Alpha;
        Parallel.For(0, image.Height, y =>
        {
            var row = samples.AsSpan(y * width * channels * bytesPerSample, width * channels * bytesPerSample);
            int k = 0;
            for (int x = 0; x < width; x++)
            {
                int i = y * width + x;
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
        PngWriter.Write(destination, image.Width, image.Height, type, bitDepth, samples);
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

    private static IImageEncoder CreateEncoder(ImageFileFormat format, int quality, bool greyscale, bool keepAlpha, int pngBitDepth) => format switch
    {
        ImageFileFormat.Jpeg => new JpegEncoder
        {
            Quality = quality,
            ColorType = greyscale ? JpegColorType.Luminance : JpegColorType.YCbCrRatio420,
        },
        ImageFileFormat.Webp => new WebpEncoder { FileFormat = WebpFileFormatType.Lossy, Quality = quality },
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown image file format."),
    };

    private delegate TPixel PixelFactory<TPixel>(float r, float g, float b, float alpha);

    private static Image<TPixel> ToPixels<TPixel>(RgbImage image, PixelFactory<TPixel> create)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        var result = new Image<TPixel>(ImageFormats.Accepted, image.Width, image.Height);
        var pixels = image.Pixels;
        var alpha = image.Alpha;
        var width = image.Width;
        result.ProcessPixelRows(accessor =>
        {
            for (var y = 0; y < accessor.Height; y++)
            {
                var row = accessor.GetRowSpan(y);
                for (var x = 0; x < width; x++)
                {
                    var i = y * width + x;
                    var a = alpha is null ? 255f : alpha[i];
                    row[x] = create(pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2], a);
                }
            }
        });
        return result;
    }
}
