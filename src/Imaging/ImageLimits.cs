namespace CodeFormer.Imaging;

/// <summary>
/// What an input file may claim before anything is decoded. Checked against the header (Image.Identify), so a
/// file that claims 100000×100000 pixels is refused without allocating its pixels.
/// </summary>
public sealed record ImageLimits
{
    /// <summary>Largest accepted file, in bytes (default 50 MB).</summary>
    public long MaxBytes { get; init; } = 50L * 1024 * 1024;

    /// <summary>Widest accepted image after EXIF orientation, in pixels.</summary>
    public int MaxWidth { get; init; } = 16384;

    /// <summary>Tallest accepted image after EXIF orientation, in pixels.</summary>
    public int MaxHeight { get; init; } = 16384;

    /// <summary>Most pixels accepted (default 100 MP: about 1.2 GB as float RGB).</summary>
    public long MaxPixels { get; init; } = 100_000_000;

    /// <summary>
    /// Largest ratio of long side to short side (default 32: a 16384×512 panorama passes, a 1000×1 strip does not).
    /// Checked on the header, before anything is enlarged: the engine scales small photos up to a 512 px short side,
    /// so a 1000×1 strip would otherwise become 512000×512 (3 GB as float RGB) before any other check.
    /// </summary>
    public double MaxAspectRatio { get; init; } = 32;

    /// <summary>
    /// Most bytes that the compressed metadata of one file (PNG zTXt, iTXt, iCCP) may inflate to (default 16 MiB).
    /// Inflation is stopped as soon as this is passed, so a 1 GiB text bomb costs at most this much work.
    /// </summary>
    public long MaxMetadataBytes { get; init; } = 16L * 1024 * 1024;

    public static ImageLimits Default { get; } = new();

    /// <summary>Throws when a limit is not positive: a zero limit would refuse every image with a confusing message.</summary>
    public void Validate()
    {
        if (MaxBytes <= 0 || MaxWidth <= 0 || MaxHeight <= 0 || MaxPixels <= 0 || !(MaxAspectRatio >= 1) || MaxMetadataBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(ImageLimits),
                $"Image limits must be positive (and the aspect ratio at least 1): MaxBytes {MaxBytes}, MaxWidth {MaxWidth}, MaxHeight {MaxHeight}, " +
                $"MaxPixels {MaxPixels}, MaxAspectRatio {MaxAspectRatio}, MaxMetadataBytes {MaxMetadataBytes}.");
        }
    }
}
