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

    public static ImageLimits Default { get; } = new();

    /// <summary>Throws when a limit is not positive: a zero limit would refuse every image with a confusing message.</summary>
    public void Validate()
    {
        if (MaxBytes <= 0 || MaxWidth <= 0 || MaxHeight <= 0 || MaxPixels <= 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(ImageLimits),
                $"Image limits must be positive: MaxBytes {MaxBytes}, MaxWidth {MaxWidth}, MaxHeight {MaxHeight}, MaxPixels {MaxPixels}.");
        }
    }
}
