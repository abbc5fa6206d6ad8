namespace CodeFormer.Imaging;

/// <summary>
/// The reference's grey test (facelib/utils/misc.py is_gray, threshold 10): an image is grey when the mean of the
/// variances of the pairwise channel differences R−G, G−B, B−R is at most the threshold. A colour photo has
/// large differences; a grey scan stored as RGB (or a slightly tinted one) has almost none.
/// </summary>
public static class GreyscaleDetector
{
    public const double ReferenceThreshold = 10.0;

    public static bool LooksGreyscale(RgbImage image, double threshold = ReferenceThreshold) =>
        MeanChannelDifferenceVariance(image) <= threshold;

    /// <summary>
    /// (var(R−G) + var(G−B) + var(B−R)) / 3 with population variances, as numpy's var.
    /// The reference computes it on int16 copies of 8-bit channels; on 8-bit inputs our floats hold the same integers,
    /// on 16-bit inputs they keep the fractions (a difference far below the threshold's resolution).
    /// </summary>
    public static double MeanChannelDifferenceVariance(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var pixels = image.Pixels;
        double sumRg = 0, sumGb = 0, sumBr = 0, squaresRg = 0, squaresGb = 0, squaresBr = 0;
        for (var i = 0; i < pixels.Length; i += 3)
        {
            double r = pixels[i], g = pixels[i + 1], b = pixels[i + 2];
            double rg = r - g, gb = g - b, br = b - r;
            sumRg += rg;
            sumGb += gb;
            sumBr += br;
            squaresRg += rg * rg;
            squaresGb += gb * gb;
            squaresBr += br * br;
        }
        double count = pixels.Length / 3;
        static double Variance(double sum, double squares, double n) => Math.Max(0, squares / n - (sum / n) * (sum / n));
        return (Variance(sumRg, squaresRg, count) + Variance(sumGb, squaresGb, count) + Variance(sumBr, squaresBr, count)) / 3.0;
    }
}
