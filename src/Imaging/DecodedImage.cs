namespace CodeFormer.Imaging;

/// <summary>What a file's header says, read without decoding pixels.</summary>
/// <param name="StoredWidth">Width as stored in the file, before EXIF orientation.</param>
/// <param name="StoredHeight">Height as stored in the file, before EXIF orientation.</param>
/// <param name="Width">Width as displayed, after EXIF orientation (orientations 5–8 swap the sides).</param>
/// <param name="Height">Height as displayed, after EXIF orientation.</param>
/// <param name="ExifOrientation">The EXIF orientation tag (1..8), 1 when absent or invalid.</param>
/// <param name="BitDepth">Bits per channel of the source: 16 for 16-bit PNG, otherwise 8.</param>
/// <param name="HasAlpha">The source carries an alpha channel (or a PNG transparency chunk).</param>
/// <param name="SourceIsGreyscaleFormat">The file itself is greyscale (PNG grey / grey+alpha, single-channel JPEG).</param>
public sealed record ImageHeader(
    ImageFileFormat Format,
    int StoredWidth,
    int StoredHeight,
    int Width,
    int Height,
    ushort ExifOrientation,
    int BitDepth,
    bool HasAlpha,
    bool SourceIsGreyscaleFormat)
{
    public long PixelCount => (long)Width * Height;

    /// <summary>
    /// Problems that did not stop the photo but that the user should see in the report, e.g. damaged EXIF metadata
    /// (the photo is then processed as stored, without EXIF orientation).
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}

/// <summary>A decoded, upright input image and the facts about its source that later stages need.</summary>
public sealed class DecodedImage
{
    public DecodedImage(RgbImage image, ImageHeader header, bool looksGreyscale)
    {
        Image = image;
        Header = header;
        LooksGreyscale = looksGreyscale;
    }

    /// <summary>Float RGB 0..255 after EXIF orientation; <see cref="RgbImage.Alpha"/> is set when the source had alpha.</summary>
    public RgbImage Image { get; }

    public ImageHeader Header { get; }

    public ImageFileFormat Format => Header.Format;

    /// <summary>The file is stored as greyscale.</summary>
    public bool SourceIsGreyscaleFormat => Header.SourceIsGreyscaleFormat;

    /// <summary>The pixels are grey by the reference's is_gray(threshold = 10) test, whatever the file format.</summary>
    public bool LooksGreyscale { get; }

    /// <summary>What the reference treats as a grey input: restored faces are then converted back to grey (B.6).</summary>
    public bool IsGreyscale => SourceIsGreyscaleFormat || LooksGreyscale;

    public bool HasAlpha => Header.HasAlpha;

    public int BitDepth => Header.BitDepth;

    /// <summary>Size as stored in the file, before EXIF orientation was applied.</summary>
    public int OriginalWidth => Header.StoredWidth;

    public int OriginalHeight => Header.StoredHeight;
}
