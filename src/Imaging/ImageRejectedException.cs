namespace CodeFormer.Imaging;

/// <summary>
/// Which rule an input image broke. The service maps each rule to a job failure reason, so the names are stable:
/// add new rules at the end, never rename or renumber one.
/// </summary>
public enum ImageRejectionRule
{
    /// <summary>The file is larger than <see cref="ImageLimits.MaxBytes"/> (counted as it is read).</summary>
    MaxBytes,
    /// <summary>Wider than <see cref="ImageLimits.MaxWidth"/> after EXIF orientation.</summary>
    MaxWidth,
    /// <summary>Taller than <see cref="ImageLimits.MaxHeight"/> after EXIF orientation.</summary>
    MaxHeight,
    /// <summary>More pixels than <see cref="ImageLimits.MaxPixels"/>.</summary>
    MaxPixels,
    /// <summary>A recognised image format that is deliberately not accepted (TIFF, BMP, GIF, HEIC, ...).</summary>
    UnsupportedFormat,
    /// <summary>Empty bytes, garbage, or an image whose data the decoder cannot read.</summary>
    NotDecodable,
    /// <summary>The file or its compressed pixel data ends early: rows, blocks or the end of the stream are missing.</summary>
    Truncated,
    /// <summary>An animation (APNG, animated WebP): only still images are restored.</summary>
    Animated,
    /// <summary>
    /// The header is missing, duplicated, contradicts itself (two IHDRs, two frame headers, a WebP canvas that is not the
    /// image's size) or holds impossible values; or a chunk's checksum does not match its data.
    /// </summary>
    MalformedHeader,
    /// <summary>Compressed metadata (PNG zTXt/iTXt/iCCP) larger than <see cref="ImageLimits.MaxMetadataBytes"/> once inflated.</summary>
    MetadataBomb,
    /// <summary>Long side more than <see cref="ImageLimits.MaxAspectRatio"/> times the short side.</summary>
    AspectRatio,
    /// <summary>The result is larger than the output format can store (WebP: 16383 px a side).</summary>
    OutputTooLarge,
    /// <summary>
    /// The container is whole but the decoder finds its compressed pixel data damaged or cut short inside (libwebp and
    /// libpng do not always tell the two apart).
    /// </summary>
    DamagedData,
}

/// <summary>An input image that is refused, with the rule it broke and the numbers in the message.</summary>
public sealed class ImageRejectedException : Exception
{
    public ImageRejectionRule Rule { get; }

    public ImageRejectedException(ImageRejectionRule rule, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Rule = rule;
    }
}
