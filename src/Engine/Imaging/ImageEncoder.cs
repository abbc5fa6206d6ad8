using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;

namespace CodeFormer.Engine.Imaging;

/// <summary>
/// Writes float RGB images as 8-bit PNG, JPEG or WebP. Values are rounded half-to-even (as torch.round in the
/// reference's tensor2img) and clamped to 0..255: never wrapped, never cast to uint16 — the reference's uint16
/// cast of overflowing grey outputs is what made them black (CodeFormer#222).
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
    /// Encodes to bytes. PNG and WebP keep alpha when present (WebP is written lossless, so nothing but the
    /// rounding to 8 bits is lost); JPEG drops alpha (see <see cref="DropsAlpha"/>). With <paramref name="greyscale"/>
    /// PNG and JPEG are written single-channel (L8, or grey+alpha PNG) from the BT.601 luma the reference uses
    /// (0.2989 R + 0.587 G + 0.114 B); WebP has no grey mode and gets the luma in all three channels.
    /// </summary>
    public byte[] Encode(RgbImage image, ImageFileFormat format, int jpegQuality = 95, bool greyscale = false)
    {
        using var output = new MemoryStream();
        EncodeTo(output, image, format, jpegQuality, greyscale);
        return output.ToArray();
    }

    public void EncodeTo(Stream destination, RgbImage image, ImageFileFormat format, int jpegQuality = 95, bool greyscale = false)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(image);
        if (jpegQuality is < 1 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(jpegQuality), jpegQuality, "JPEG quality must be between 1 and 100.");
        }
        if (image.Alpha is not null && image.Alpha.Length != image.Width * image.Height)
        {
            throw new ArgumentException(
                $"The alpha plane of a {image.Width}×{image.Height} image needs {image.Width * image.Height} values, got {image.Alpha.Length}.",
                nameof(image));
        }
        var keepAlpha = image.Alpha is not null && format != ImageFileFormat.Jpeg;
        var encoder = CreateEncoder(format, jpegQuality, greyscale, keepAlpha);
        if (greyscale && format != ImageFileFormat.Webp)
        {
            if (keepAlpha)
            {
                using var greyAlpha = ToPixels<La16>(image, (r, g, b, a) => new La16(Luma(r, g, b), a));
                greyAlpha.Save(destination, encoder);
            }
            else
            {
                using var grey = ToPixels<L8>(image, (r, g, b, _) => new L8(Luma(r, g, b)));
                grey.Save(destination, encoder);
            }
            return;
        }
        if (greyscale)
        {
            using var greyRgba = ToPixels<Rgba32>(image, (r, g, b, a) => { var l = Luma(r, g, b); return new Rgba32(l, l, l, a); });
            greyRgba.Save(destination, encoder);
            return;
        }
        if (keepAlpha)
        {
            using var rgba = ToPixels<Rgba32>(image, (r, g, b, a) => new Rgba32(ToByte(r), ToByte(g), ToByte(b), a));
            rgba.Save(destination, encoder);
            return;
        }
        using var rgb = ToPixels<Rgb24>(image, (r, g, b, _) => new Rgb24(ToByte(r), ToByte(g), ToByte(b)));
        rgb.Save(destination, encoder);
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

    private static byte Luma(float r, float g, float b) => ToByte(0.2989f * r + 0.587f * g + 0.114f * b);

    private static IImageEncoder CreateEncoder(ImageFileFormat format, int jpegQuality, bool greyscale, bool keepAlpha) => format switch
    {
        ImageFileFormat.Png => new PngEncoder
        {
            BitDepth = PngBitDepth.Bit8,
            ColorType = (greyscale, keepAlpha) switch
            {
                (true, true) => PngColorType.GrayscaleWithAlpha,
                (true, false) => PngColorType.Grayscale,
                (false, true) => PngColorType.RgbWithAlpha,
                (false, false) => PngColorType.Rgb,
            },
        },
        ImageFileFormat.Jpeg => new JpegEncoder
        {
            Quality = jpegQuality,
            ColorType = greyscale ? JpegColorType.Luminance : JpegColorType.YCbCrRatio420,
        },
        // Lossless: a restored image should not pick up a second round of compression artefacts.
        ImageFileFormat.Webp => new WebpEncoder { FileFormat = WebpFileFormatType.Lossless },
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown image file format."),
    };

    private delegate TPixel PixelFactory<TPixel>(float r, float g, float b, byte alpha);

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
                    var a = alpha is null ? (byte)255 : ToByte(alpha[i]);
                    row[x] = create(pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2], a);
                }
            }
        });
        return result;
    }
}
