namespace CodeFormer.Imaging;

/// <summary>The only file formats the engine reads and writes. TIFF, BMP, GIF and the rest are refused on purpose.</summary>
public enum ImageFileFormat
{
    Jpeg,
    Png,
    Webp,
}

/// <summary>Chooses the format a result is written in.</summary>
public static class OutputFormat
{
    /// <summary>
    /// The format named by a file's extension (.png, .jpg/.jpeg, .webp, any case). An unknown extension is an
    /// error rather than a silent PNG, so a user asking for "out.tiff" learns that TIFF is not written.
    /// </summary>
    public static ImageFileFormat FromExtension(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var extension = Path.GetExtension(path);
        return extension.ToLowerInvariant() switch
        {
            ".png" => ImageFileFormat.Png,
            ".jpg" or ".jpeg" or ".jpe" => ImageFileFormat.Jpeg,
            ".webp" => ImageFileFormat.Webp,
            _ => throw new ArgumentException(
                $"Cannot choose an output format for '{path}': extension '{extension}' is not one of .png, .jpg, .jpeg, .webp.",
                nameof(path)),
        };
    }

    /// <summary>
    /// The format to write when the user named none: the input's own format, so a JPEG stays a JPEG.
    /// (The reference CLI always writes PNG; keeping the source format is a deliberate product choice.)
    /// </summary>
    public static ImageFileFormat FromSource(ImageFileFormat sourceFormat) => sourceFormat;

    /// <summary>
    /// The longest side a format can store: WebP keeps sizes in 14 bits (16383 px), JPEG in 16 bits (65535 px).
    /// An encoder asked for more writes a file that decodes at a different size, so it is checked before encoding.
    /// </summary>
    public static int MaxSide(ImageFileFormat format) => format switch
    {
        ImageFileFormat.Webp => 16383,
        ImageFileFormat.Jpeg => 65535,
        _ => int.MaxValue,
    };

    /// <summary>Whether a width × height image can be written in this format without corrupting its size.</summary>
    public static bool CanHold(ImageFileFormat format, int width, int height) =>
        width <= MaxSide(format) && height <= MaxSide(format);

    /// <summary>The usual file extension, with its dot.</summary>
    public static string ExtensionOf(ImageFileFormat format) => format switch
    {
        ImageFileFormat.Png => ".png",
        ImageFileFormat.Jpeg => ".jpg",
        ImageFileFormat.Webp => ".webp",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown image file format."),
    };
}
