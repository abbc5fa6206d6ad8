using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;

namespace CodeFormer.Imaging;

/// <summary>
/// The ImageSharp configurations the engine uses. Only JPEG, PNG and WebP can ever be decoded: ImageSharp 2.1.x
/// has open TIFF advisories without a fix, and every extra decoder is attack surface for untrusted uploads.
/// </summary>
internal static class ImageFormats
{
    /// <summary>The one configuration that decodes and encodes. Never Configuration.Default.</summary>
    public static Configuration Accepted { get; } = new(
        new JpegConfigurationModule(),
        new PngConfigurationModule(),
        new WebpConfigurationModule());

    /// <summary>
    /// Used ONLY for header sniffing (DetectFormat reads a few magic bytes) so a refusal can name the format;
    /// nothing is ever decoded with it. TGA and PBM are left out: their loose header tests would name garbage.
    /// </summary>
    private static readonly Configuration RecognitionOnly = new(
        new BmpConfigurationModule(),
        new GifConfigurationModule(),
        new TiffConfigurationModule());

    public const string AcceptedNames = "JPEG/PNG/WebP";

    public static ImageFileFormat? ToFileFormat(SixLabors.ImageSharp.Formats.IImageFormat format) => format switch
    {
        JpegFormat => ImageFileFormat.Jpeg,
        PngFormat => ImageFileFormat.Png,
        WebpFormat => ImageFileFormat.Webp,
        _ => null,
    };

    /// <summary>Names a recognised but refused format from its magic bytes, or returns null for unknown bytes.</summary>
    public static string? NameUnsupportedFormat(ReadOnlySpan<byte> header)
    {
        var known = Image.DetectFormat(RecognitionOnly, header);
        if (known is not null)
        {
            return known.Name;
        }
        if (header.Length >= 12 && header.Slice(4, 4).SequenceEqual("ftyp"u8))
        {
            var brand = header.Slice(8, 4);
            if (brand.SequenceEqual("avif"u8) || brand.SequenceEqual("avis"u8))
            {
                return "AVIF";
            }
            if (brand.SequenceEqual("heic"u8) || brand.SequenceEqual("heix"u8) || brand.SequenceEqual("mif1"u8) || brand.SequenceEqual("msf1"u8))
            {
                return "HEIC/HEIF";
            }
        }
        if (header.StartsWith("8BPS"u8))
        {
            return "PSD";
        }
        if (header.StartsWith((ReadOnlySpan<byte>)[0xFF, 0x0A]) || header.StartsWith((ReadOnlySpan<byte>)[0, 0, 0, 0x0C, 0x4A, 0x58, 0x4C, 0x20]))
        {
            return "JPEG XL";
        }
        return null;
    }
}
