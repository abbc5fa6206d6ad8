using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Compositing;

/// <summary>
/// Reference B.6 greyscale handling (the grey test itself, B.2, is <see cref="GreyscaleDetector"/>): a grey input
/// gets grey restored faces, optionally carrying the input
/// crop's per-channel mean and standard deviation (<c>adain_npy</c>, eps 1e-5). Unlike the reference the result is
/// clamped to [0, 255]: unclamped AdaIN can exceed 255, which the reference then mistakes for a 16-bit image and
/// casts to uint16 — the all-black outputs of CodeFormer#222.
/// </summary>
public static class GreyscaleFaces
{
    private const double AdaInEpsilon = 1e-5;

    /// <summary><c>bgr2gray</c>: 0.2989·R + 0.587·G + 0.114·B replicated to three channels.</summary>
    public static RgbImage ToGrey(RgbImage face)
    {
        ArgumentNullException.ThrowIfNull(face);
        var grey = new RgbImage(face.Width, face.Height) { Alpha = (float[]?)face.Alpha?.Clone() };
        var src = face.Pixels;
        var dst = grey.Pixels;
        for (int i = 0; i < src.Length; i += 3)
        {
            float v = (float)(0.2989 * src[i] + 0.5870 * src[i + 1] + 0.1140 * src[i + 2]);
            dst[i] = dst[i + 1] = dst[i + 2] = v;
        }
        return grey;
    }

    /// <summary>
    /// <c>adain_npy(content, style)</c>: per channel, (content − mean_c)/std_c · std_s + mean_s, with
    /// std = √(var + 1e-5) over all pixels; clamped to [0, 255] (see the class remarks). The sizes may differ.
    /// </summary>
    public static RgbImage TransferColourStatistics(RgbImage content, RgbImage style)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(style);
        var (contentMean, contentStd) = MeanStd(content);
        var (styleMean, styleStd) = MeanStd(style);
        var result = new RgbImage(content.Width, content.Height) { Alpha = (float[]?)content.Alpha?.Clone() };
        var src = content.Pixels;
        var dst = result.Pixels;
        for (int i = 0; i < src.Length; i++)
        {
            int c = i % 3;
            double v = (src[i] - contentMean[c]) / contentStd[c] * styleStd[c] + styleMean[c];
            dst[i] = (float)Math.Clamp(v, 0, 255);
        }
        return result;
    }

    /// <summary>
    /// <c>add_restored_face</c>: unchanged for colour inputs; for grey inputs the face is made grey and, when the
    /// aligned input crop is given (as the CLI does), takes on its colour statistics.
    /// </summary>
    public static RgbImage PrepareRestoredFace(RgbImage restoredFace, bool inputIsGreyscale, RgbImage? inputCrop)
    {
        ArgumentNullException.ThrowIfNull(restoredFace);
        if (!inputIsGreyscale)
        {
            return restoredFace;
        }
        var grey = ToGrey(restoredFace);
        return inputCrop is null ? grey : TransferColourStatistics(grey, inputCrop);
    }

    /// <summary>
    /// <see cref="PrepareRestoredFace"/> in place: the restored face itself is made grey and given the crop's statistics
    /// (same values), for a caller that reuses its face buffers (video) and must not allocate a face-sized image per face.
    /// </summary>
    public static void PrepareRestoredFaceInPlace(RgbImage restoredFace, bool inputIsGreyscale, RgbImage? inputCrop)
    {
        ArgumentNullException.ThrowIfNull(restoredFace);
        PrepareRestoredFaceInPlace(restoredFace, inputIsGreyscale, inputCrop is null ? null : StatisticsOf(inputCrop));
    }

    /// <summary>Per-channel mean and standard deviation (√(var + 1e-5)) of a crop: all that AdaIN takes from it.</summary>
    public sealed record ColourStatistics(double[] Mean, double[] Std);

    /// <summary>The statistics <see cref="TransferColourStatistics"/> takes from its style image, computed once.</summary>
    public static ColourStatistics StatisticsOf(RgbImage crop)
    {
        ArgumentNullException.ThrowIfNull(crop);
        var (mean, std) = MeanStd(crop);
        return new ColourStatistics(mean, std);
    }

    /// <summary>
    /// <see cref="PrepareRestoredFaceInPlace(RgbImage, bool, RgbImage?)"/> with the crop's statistics taken beforehand, so
    /// the photo pipeline keeps three means and deviations per face instead of a face-sized crop. Same values.
    /// </summary>
    public static void PrepareRestoredFaceInPlace(RgbImage restoredFace, bool inputIsGreyscale, ColourStatistics? inputCrop)
    {
        ArgumentNullException.ThrowIfNull(restoredFace);
        if (!inputIsGreyscale)
        {
            return;
        }
        var p = restoredFace.Pixels;
        for (int i = 0; i < p.Length; i += 3)
        {
            p[i] = p[i + 1] = p[i + 2] = (float)(0.2989 * p[i] + 0.5870 * p[i + 1] + 0.1140 * p[i + 2]);
        }
        if (inputCrop is null)
        {
            return;
        }
        var (contentMean, contentStd) = MeanStd(restoredFace);
        var (styleMean, styleStd) = (inputCrop.Mean, inputCrop.Std);
        for (int i = 0; i < p.Length; i++)
        {
            int c = i % 3;
            p[i] = (float)Math.Clamp((p[i] - contentMean[c]) / contentStd[c] * styleStd[c] + styleMean[c], 0, 255);
        }
    }

    private static (double[] Mean, double[] Std) MeanStd(RgbImage image)
    {
        var mean = new double[3];
        var squares = new double[3];
        var p = image.Pixels;
        for (int i = 0; i < p.Length; i++)
        {
            mean[i % 3] += p[i];
            squares[i % 3] += (double)p[i] * p[i];
        }
        int n = image.Width * image.Height;
        var std = new double[3];
        for (int c = 0; c < 3; c++)
        {
            mean[c] /= n;
            double variance = Math.Max(0, squares[c] / n - mean[c] * mean[c]);
            std[c] = Math.Sqrt(variance + AdaInEpsilon);
        }
        return (mean, std);
    }
}
