namespace CodeFormer.Imaging;

/// <summary>Which rule an input image broke.</summary>
public enum ImageRejectionRule
{
    MaxBytes,
    MaxWidth,
    MaxHeight,
    MaxPixels,
    /// <summary>A recognised image format that is deliberately not accepted (TIFF, BMP, GIF, HEIC, ...).</summary>
    UnsupportedFormat,
    /// <summary>Empty, truncated or garbage bytes.</summary>
    NotDecodable,
    /// <summary>Restoring the photo with the options asked for would need more memory than the engine's budget allows.</summary>
    MemoryBudget,
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
