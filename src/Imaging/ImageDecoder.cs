using SixLabors.ImageSharp;

namespace CodeFormer.Imaging;

/// <summary>
/// Turns untrusted file bytes into an upright float RGB image. Order matters: the byte limit (counted as bytes
/// arrive), format sniffing, one sequential walk of the container that yields the one authoritative header
/// (<see cref="ContainerWalker"/>: duplicates, contradictions, animation, metadata bombs and truncation refused) and the
/// size, pixel and aspect-ratio limits, and only then the pixel decode, whose completeness is verified. Every refusal
/// is an <see cref="ImageRejectedException"/> naming the rule and the numbers, never an internal exception's text.
/// </summary>
/// <remarks>
/// Pixels are decoded by SkiaSharp (libjpeg-turbo, libpng, libwebp) and its result code is checked: anything but
/// Success is a refusal. Two reasons. (1) ImageSharp 2.1 fills truncated or missing data silently (black or grey rows
/// reported as a whole photo); libpng/libwebp report a cut zlib stream, missing rows or a size-patched VP8/VP8L.
/// (2) Numerics: libjpeg-turbo is what OpenCV (and so the reference pipeline) decodes with; ImageSharp 2.1's JPEG
/// decoder differs from it by up to 60 levels on 4:2:0 photos (chroma upsampling), SkiaSharp matches it bit for bit.
/// ImageSharp stays for format detection, 16-bit PNG pixels (see <see cref="SixteenBitPngDecoder"/>) and encoding.
/// </remarks>
public sealed class ImageDecoder
{
    /// <summary>Reads only the header and walks the container: format, sizes, orientation, bit depth, alpha. Enforces all limits.</summary>
    public ImageHeader Inspect(byte[] data, ImageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        limits ??= ImageLimits.Default;
        limits.Validate();
        RejectIfTooManyBytes(data.Length, limits);
        using var stream = new MemoryStream(data, writable: false);
        // A MemoryStream completes every read synchronously, so this never blocks on I/O.
        return InspectCoreAsync(stream, limits, cancellationToken).AsTask().GetAwaiter().GetResult();
    }

    /// <summary>Checks everything <see cref="Inspect"/> checks, then decodes, applies EXIF orientation and converts to float RGB 0..255.</summary>
    public DecodedImage Decode(byte[] data, ImageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        var header = Inspect(data, limits, cancellationToken);
        return DecodePixels(data, header, cancellationToken);
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
        return Decode(BoundedRead.ReadAll(stream, limits.MaxBytes, cancellationToken), limits, cancellationToken);
    }

    /// <summary>
    /// Reads the stream asynchronously (a blob or request body), under the same MaxBytes bound, then decodes.
    /// Decoding itself is CPU work and runs on the calling thread.
    /// </summary>
    public async Task<DecodedImage> DecodeAsync(Stream stream, ImageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        limits ??= ImageLimits.Default;
        limits.Validate();
        var data = await BoundedRead.ReadAllAsync(stream, limits.MaxBytes, cancellationToken).ConfigureAwait(false);
        return Decode(data, limits, cancellationToken);
    }

    /// <summary>
    /// Header and structure checks on a stream (an upload), read once, sequentially, through a 64 KB buffer: the upload
    /// is never held in memory. The same rules <see cref="Decode(byte[], ImageLimits?, CancellationToken)"/> applies
    /// before it decodes, so a file accepted here is refused later only for what a full decode alone can show (a zlib
    /// stream or JPEG scan that stops early inside a whole container).
    /// </summary>
    public async Task<ImageHeader> InspectAsync(Stream stream, ImageLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        limits ??= ImageLimits.Default;
        limits.Validate();
        return await InspectCoreAsync(stream, limits, cancellationToken).ConfigureAwait(false);
    }

    private static async ValueTask<ImageHeader> InspectCoreAsync(Stream stream, ImageLimits limits, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (stream.CanSeek)
        {
            RejectIfTooManyBytes(stream.Length - stream.Position, limits);
        }
        var (walker, head) = await ContainerWalker.OpenAsync(stream, limits, cancellationToken).ConfigureAwait(false);
        if (head.Length == 0)
        {
            throw ImageRefusals.NotDecodable("the input is empty (0 bytes)");
        }
        var detected = Image.DetectFormat(ImageFormats.Accepted, head);
        var fileFormat = detected is null ? null : ImageFormats.ToFileFormat(detected);
        if (detected is null || fileFormat is null)
        {
            var refusedName = ImageFormats.NameUnsupportedFormat(head);
            if (refusedName is not null)
            {
                throw new ImageRejectedException(
                    ImageRejectionRule.UnsupportedFormat,
                    $"The image is {refusedName}, which is not accepted: only JPEG, PNG and WebP are decoded.");
            }
            throw ImageRefusals.NotDecodable($"its bytes start with 0x{Convert.ToHexString(head, 0, Math.Min(8, head.Length))}, which is no known image header");
        }

        walker.HeaderFound = (width, height) => EnforceStoredDimensions(width, height, limits);
        var facts = await walker.WalkAsync(fileFormat.Value).ConfigureAwait(false);
        var orientation = ExifOrientationReader.Read(facts.Exif, out var exifWarning);
        var swapsSides = orientation >= 5;
        var header = new ImageHeader(
            facts.Format,
            facts.Width,
            facts.Height,
            swapsSides ? facts.Height : facts.Width,
            swapsSides ? facts.Width : facts.Height,
            orientation,
            facts.BitDepth,
            facts.HasAlpha,
            facts.Greyscale)
        {
            Warnings = exifWarning is null ? [] : [exifWarning],
        };
        EnforceDimensions(header, limits);
        return header;
    }

    /// <summary>
    /// The limits that hold whatever the EXIF orientation turns out to be (it may come after the size in the file):
    /// pixel count, aspect ratio, and a side longer than both side limits.
    /// </summary>
    private static void EnforceStoredDimensions(int width, int height, ImageLimits limits)
    {
        if (width > limits.MaxWidth && width > limits.MaxHeight)
        {
            throw TooWide(width, limits);
        }
        if (height > limits.MaxHeight && height > limits.MaxWidth)
        {
            throw TooTall(height, limits);
        }
        EnforcePixelsAndAspect(width, height, limits);
    }

    private static void EnforceDimensions(ImageHeader header, ImageLimits limits)
    {
        if (header.Width > limits.MaxWidth)
        {
            throw TooWide(header.Width, limits);
        }
        if (header.Height > limits.MaxHeight)
        {
            throw TooTall(header.Height, limits);
        }
        EnforcePixelsAndAspect(header.Width, header.Height, limits);
    }

    private static void EnforcePixelsAndAspect(int width, int height, ImageLimits limits)
    {
        var pixels = (long)width * height;
        if (pixels > limits.MaxPixels)
        {
            throw new ImageRejectedException(
                ImageRejectionRule.MaxPixels,
                $"Image rejected (MaxPixels): {width}×{height} = {pixels} pixels exceeds the limit of {limits.MaxPixels} pixels.");
        }
        var ratio = (double)Math.Max(width, height) / Math.Min(width, height);
        if (ratio > limits.MaxAspectRatio)
        {
            throw new ImageRejectedException(
                ImageRejectionRule.AspectRatio,
                $"Image rejected (AspectRatio): {width}×{height} has a long side {ratio:0.#} times its short side; the limit is {limits.MaxAspectRatio:0.#}.");
        }
    }

    private static ImageRejectedException TooWide(int width, ImageLimits limits) => new(
        ImageRejectionRule.MaxWidth,
        $"Image rejected (MaxWidth): width {width} px exceeds the limit of {limits.MaxWidth} px.");

    private static ImageRejectedException TooTall(int height, ImageLimits limits) => new(
        ImageRejectionRule.MaxHeight,
        $"Image rejected (MaxHeight): height {height} px exceeds the limit of {limits.MaxHeight} px.");

    private static void RejectIfTooManyBytes(long length, ImageLimits limits)
    {
        if (length > limits.MaxBytes)
        {
            throw ImageRefusals.TooManyBytes(length, limits.MaxBytes, complete: true);
        }
    }

    private static DecodedImage DecodePixels(byte[] data, ImageHeader header, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (header.Format == ImageFileFormat.Jpeg && JpegScanCompleteness.FindMissingData(data) is { } missing)
        {
            throw missing;
        }
        var image = header.Format == ImageFileFormat.Png && header.BitDepth == 16
            ? SixteenBitPngDecoder.Decode(data, header, cancellationToken)
            : SkiaPixelDecoder.Decode(data, header, cancellationToken);
        return new DecodedImage(image, header, GreyscaleDetector.LooksGreyscale(image));
    }
}
