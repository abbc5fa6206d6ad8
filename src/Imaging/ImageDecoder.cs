using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace CodeFormer.Imaging;

/// <summary>
/// Turns untrusted file bytes into an upright float RGB image. Order matters: size limit on the bytes, format
/// sniffing, header-only Identify and the dimension/pixel limits, a structural truncation check, and only then
/// the decode. Every refusal is an <see cref="ImageRejectedException"/> naming the rule and the numbers.
/// </summary>
public sealed class ImageDecoder
{
    /// <summary>Reads only the header: format, sizes, orientation, bit depth, alpha. Enforces all limits.</summary>
    public ImageHeader Inspect(byte[] data, ImageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Inspect(data, limits ?? ImageLimits.Default, cancellationToken, out _);
    }

    /// <summary>Checks the limits on the header, then decodes, applies EXIF orientation and converts to float RGB 0..255.</summary>
    public DecodedImage Decode(byte[] data, ImageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        var header = Inspect(data, limits ?? ImageLimits.Default, cancellationToken, out var decoder);
        return DecodePixels(data, header, decoder, cancellationToken);
    }

    public DecodedImage Decode(ReadOnlySpan<byte> data, ImageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        limits ??= ImageLimits.Default;
        limits.Validate();
        // Refuse an oversized span before copying it.
        RejectIfTooManyBytes(data.Length, limits);
        return Decode(data.ToArray(), limits, cancellationToken);
    }

    /// <summary>Reads the stream, stopping as soon as more than MaxBytes arrived (an endless stream cannot exhaust memory), and decodes it.</summary>
    public DecodedImage Decode(Stream stream, ImageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        limits ??= ImageLimits.Default;
        limits.Validate();
        if (stream.CanSeek)
        {
            RejectIfTooManyBytes(stream.Length - stream.Position, limits);
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            buffer.Write(chunk, 0, read);
            RejectIfTooManyBytes(buffer.Length, limits);
        }
        return Decode(buffer.ToArray(), limits, cancellationToken);
    }

    /// <summary>
    /// Reads the stream asynchronously (a blob or request body), under the same MaxBytes bound, then decodes.
    /// Decoding itself is CPU work and runs on the calling thread.
    /// </summary>
    public async Task<DecodedImage> DecodeAsync(Stream stream, ImageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        limits ??= ImageLimits.Default;
        var data = await ReadBoundedAsync(stream, limits, cancellationToken).ConfigureAwait(false);
        return Decode(data, limits, cancellationToken);
    }

    /// <summary>
    /// Header and structure checks only, on a stream (an upload): the same rules <see cref="Decode(byte[], ImageLimits?, CancellationToken)"/>
    /// applies before it decodes, so a file accepted here is never refused later for a reason the file itself shows.
    /// </summary>
    public async Task<ImageHeader> InspectAsync(Stream stream, ImageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        limits ??= ImageLimits.Default;
        var data = await ReadBoundedAsync(stream, limits, cancellationToken).ConfigureAwait(false);
        return Inspect(data, limits, cancellationToken, out _);
    }

    private static async Task<byte[]> ReadBoundedAsync(Stream stream, ImageLimits limits, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        limits.Validate();
        if (stream.CanSeek)
        {
            RejectIfTooManyBytes(stream.Length - stream.Position, limits);
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, read);
            RejectIfTooManyBytes(buffer.Length, limits);
        }
        return buffer.ToArray();
    }

    private static ImageHeader Inspect(byte[] data, ImageLimits limits, CancellationToken cancellationToken, out IImageDecoder decoder)
    {
        limits.Validate();
        RejectIfTooManyBytes(data.Length, limits);
        if (data.Length == 0)
        {
            throw NotDecodable("the input is empty (0 bytes)");
        }

        var detected = Image.DetectFormat(ImageFormats.Accepted, data);
        var fileFormat = detected is null ? null : ImageFormats.ToFileFormat(detected);
        if (detected is null || fileFormat is null)
        {
            var refusedName = ImageFormats.NameUnsupportedFormat(data);
            if (refusedName is not null)
            {
                throw new ImageRejectedException(
                    ImageRejectionRule.UnsupportedFormat,
                    $"The image is {refusedName}, which is not accepted: only JPEG, PNG and WebP are decoded.");
            }
            var head = Convert.ToHexString(data, 0, Math.Min(8, data.Length));
            throw NotDecodable($"its {data.Length} bytes start with 0x{head}, which is no known image header");
        }

        decoder = ImageFormats.Accepted.ImageFormatsManager.FindDecoder(detected);
        IImageInfo? info;
        try
        {
            using var stream = new MemoryStream(data, writable: false);
            info = ((IImageInfoDetector)decoder).Identify(ImageFormats.Accepted, stream, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw NotDecodable($"its {detected.Name} header cannot be read ({e.Message})", e);
        }
        if (info is null || info.Width <= 0 || info.Height <= 0)
        {
            throw NotDecodable($"its {detected.Name} header gives no image size");
        }

        var header = DescribeHeader(fileFormat.Value, info, data);
        EnforceDimensions(header, limits);

        var structuralProblem = ContainerIntegrity.FindStructuralProblem(header.Format, data);
        if (structuralProblem is not null)
        {
            throw NotDecodable(structuralProblem);
        }
        return header;
    }

    private static ImageHeader DescribeHeader(ImageFileFormat format, IImageInfo info, ReadOnlySpan<byte> data)
    {
        var orientation = ReadOrientation(info);
        var swapsSides = orientation >= 5;
        var bitDepth = 8;
        var hasAlpha = false;
        var greyFormat = false;
        switch (format)
        {
            case ImageFileFormat.Png:
                var png = info.Metadata.GetPngMetadata();
                bitDepth = png.BitDepth == PngBitDepth.Bit16 ? 16 : 8;
                hasAlpha = png.ColorType is PngColorType.RgbWithAlpha or PngColorType.GrayscaleWithAlpha
                    || png.HasTransparency
                    || ContainerIntegrity.PngHasTransparencyChunk(data);
                greyFormat = png.ColorType is PngColorType.Grayscale or PngColorType.GrayscaleWithAlpha;
                break;
            case ImageFileFormat.Jpeg:
                greyFormat = info.Metadata.GetJpegMetadata().ColorType == JpegColorType.Luminance;
                break;
            case ImageFileFormat.Webp:
                // ImageSharp 2.x reports 32 bits per pixel for WebP with an alpha channel (VP8L alpha or ALPH chunk).
                hasAlpha = info.PixelType.BitsPerPixel == 32;
                break;
        }
        return new ImageHeader(
            format,
            info.Width,
            info.Height,
            swapsSides ? info.Height : info.Width,
            swapsSides ? info.Width : info.Height,
            orientation,
            bitDepth,
            hasAlpha,
            greyFormat);
    }

    private static ushort ReadOrientation(IImageInfo info)
    {
        var value = info.Metadata.ExifProfile?.GetValue(ExifTag.Orientation)?.Value ?? 1;
        return value is >= 1 and <= 8 ? value : (ushort)1;
    }

    private static void EnforceDimensions(ImageHeader header, ImageLimits limits)
    {
        if (header.Width > limits.MaxWidth)
        {
            throw new ImageRejectedException(
                ImageRejectionRule.MaxWidth,
                $"Image rejected (MaxWidth): width {header.Width} px exceeds the limit of {limits.MaxWidth} px.");
        }
        if (header.Height > limits.MaxHeight)
        {
            throw new ImageRejectedException(
                ImageRejectionRule.MaxHeight,
                $"Image rejected (MaxHeight): height {header.Height} px exceeds the limit of {limits.MaxHeight} px.");
        }
        if (header.PixelCount > limits.MaxPixels)
        {
            throw new ImageRejectedException(
                ImageRejectionRule.MaxPixels,
                $"Image rejected (MaxPixels): {header.Width}×{header.Height} = {header.PixelCount} pixels exceeds the limit of {limits.MaxPixels} pixels.");
        }
    }

    private static void RejectIfTooManyBytes(long length, ImageLimits limits)
    {
        if (length > limits.MaxBytes)
        {
            throw new ImageRejectedException(
                ImageRejectionRule.MaxBytes,
                $"Image rejected (MaxBytes): file size {length} bytes exceeds the limit of {limits.MaxBytes} bytes.");
        }
    }

    private static ImageRejectedException NotDecodable(string why, Exception? inner = null) =>
        new(ImageRejectionRule.NotDecodable, $"The input is not a decodable {ImageFormats.AcceptedNames} image: {why}.", inner);

    private static DecodedImage DecodePixels(byte[] data, ImageHeader header, IImageDecoder decoder, CancellationToken cancellationToken)
    {
        try
        {
            using var stream = new MemoryStream(data, writable: false);
            // 16-bit PNGs decode into 16-bit pixels so their fractions survive the scaling to 0..255.
            var image = header.BitDepth == 16
                ? ToRgbImage(decoder.Decode<Rgba64>(ImageFormats.Accepted, stream, cancellationToken), header, 255f / 65535f, cancellationToken)
                : ToRgbImage(decoder.Decode<Rgba32>(ImageFormats.Accepted, stream, cancellationToken), header, 1f, cancellationToken);
            return new DecodedImage(image, header, GreyscaleDetector.LooksGreyscale(image));
        }
        catch (Exception e) when (e is not OperationCanceledException and not ImageRejectedException)
        {
            throw NotDecodable($"decoding its {header.Format} data failed ({e.Message})", e);
        }
    }

    private static RgbImage ToRgbImage<TPixel>(Image<TPixel> decoded, ImageHeader header, float scale, CancellationToken cancellationToken)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        using (decoded)
        {
            if (header.ExifOrientation != 1)
            {
                decoded.Mutate(operations => operations.AutoOrient());
            }
            if (decoded.Width != header.Width || decoded.Height != header.Height)
            {
                throw NotDecodable($"the decoded size {decoded.Width}×{decoded.Height} differs from the header's {header.Width}×{header.Height}");
            }
            var width = decoded.Width;
            var pixels = new float[checked(width * decoded.Height * 3)];
            var alpha = header.HasAlpha ? new float[width * decoded.Height] : null;
            decoded.ProcessPixelRows(accessor =>
            {
                for (var y = 0; y < accessor.Height; y++)
                {
                    if ((y & 63) == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                    CopyRow(accessor.GetRowSpan(y), pixels.AsSpan(y * width * 3, width * 3), alpha is null ? default : alpha.AsSpan(y * width, width), scale);
                }
            });
            return new RgbImage(width, decoded.Height, pixels) { Alpha = alpha };
        }
    }

    private static void CopyRow<TPixel>(Span<TPixel> source, Span<float> rgb, Span<float> alpha, float scale)
        where TPixel : unmanaged, IPixel<TPixel>
    {
        if (typeof(TPixel) == typeof(Rgba64))
        {
            var row = System.Runtime.InteropServices.MemoryMarshal.Cast<TPixel, Rgba64>(source);
            for (var x = 0; x < row.Length; x++)
            {
                rgb[3 * x] = row[x].R * scale;
                rgb[3 * x + 1] = row[x].G * scale;
                rgb[3 * x + 2] = row[x].B * scale;
                if (!alpha.IsEmpty)
                {
                    alpha[x] = row[x].A * scale;
                }
            }
            return;
        }
        var row8 = System.Runtime.InteropServices.MemoryMarshal.Cast<TPixel, Rgba32>(source);
        for (var x = 0; x < row8.Length; x++)
        {
            rgb[3 * x] = row8[x].R;
            rgb[3 * x + 1] = row8[x].G;
            rgb[3 * x + 2] = row8[x].B;
            if (!alpha.IsEmpty)
            {
                alpha[x] = row8[x].A;
            }
        }
    }
}
