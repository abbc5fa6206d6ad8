using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Compositing;

/// <summary>The masks of one face's paste-back, in the coordinates of the canvas block they were computed on.</summary>
/// <param name="Eroded">The warped square eroded by int(2·s): multiplies the warped face ("pasted_face").</param>
/// <param name="Soft">The feathered blend weight: Eroded eroded again by 2·w_edge, then Gaussian-blurred.</param>
/// <param name="Area">Σ Eroded, the face's area in canvas pixels.</param>
/// <param name="EdgeWidth">w_edge = int(√area) // 20.</param>
public sealed record FeatherMaskResult(FloatPlane Eroded, FloatPlane Soft, double Area, int EdgeWidth);

/// <summary>
/// The square soft mask of reference B.7, from ones(face) already warped into the canvas:
/// erode by int(2·s) to drop the bilinear black fringe, area = Σ, w_edge = int(√area) // 20,
/// erode by 2·w_edge, GaussianBlur with size 2·w_edge + 1 and OpenCV's automatic σ.
/// So the feather is about 5% of the face side (w_edge = 25 for a face 512 px wide on the canvas).
/// </summary>
public static class FeatherMask
{
    /// <summary>Side of the first erosion, int(2·s) in the reference (s is an integer there).</summary>
    public static int BorderErosionSide(int upscale) => 2 * upscale;

    /// <summary>w_edge = int(area ** 0.5) // 20.</summary>
    public static int EdgeWidth(double area)
    {
        if (!(area >= 0) || double.IsInfinity(area))
        {
            throw new ArgumentOutOfRangeException(nameof(area), $"Face area must be finite and non-negative, got {area}.");
        }
        return (int)Math.Sqrt(area) / 20;
    }

    /// <summary>
    /// Builds the masks. With w_edge = 0 (faces under 20 px) the reference's second erosion gets an empty kernel,
    /// which OpenCV treats as 3×3; <see cref="Morphology.Erode"/> reproduces that, and the 1×1 blur is the identity.
    /// </summary>
    public static FeatherMaskResult Build(FloatPlane warpedSquare, int upscale)
    {
        ArgumentNullException.ThrowIfNull(warpedSquare);
        if (upscale < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(upscale), $"Upscale must be at least 1, got {upscale}.");
        }
        var eroded = Morphology.Erode(warpedSquare, BorderErosionSide(upscale));
        double area = 0;
        foreach (float v in eroded.Values)
        {
            area += v;
        }
        int edge = EdgeWidth(area);
        var centre = Morphology.Erode(eroded, 2 * edge);
        // The eroded centre is only the blur's input: blurred where it lies, it becomes the soft mask.
        GaussianBlur.ApplyInPlace(centre, 2 * edge + 1);
        return new FeatherMaskResult(eroded, centre, area, edge);
    }
}
