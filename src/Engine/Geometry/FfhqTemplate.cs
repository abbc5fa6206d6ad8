using System.Numerics;

namespace CodeFormer.Engine.Geometry;

/// <summary>
/// The 5-point FFHQ face template CodeFormer aligns to (facexlib's, in a 512×512 face): left eye, right eye,
/// nose tip, left mouth corner, right mouth corner — the same order the detectors emit.
/// Not provided: the reference's 3-point variant, crop_ratio &gt; 1 offsets and the dlib template (none is used by
/// the default CLI path).
/// </summary>
public static class FfhqTemplate
{
    public const int ReferenceSize = 512;

    private static readonly (double X, double Y)[] Points512 =
    [
        (192.98138, 239.94708),
        (318.90277, 240.1936),
        (256.63416, 314.01935),
        (201.26117, 371.41043),
        (313.08905, 371.15118),
    ];

    /// <summary>The template for a <paramref name="faceSize"/>² crop: the 512 points scaled by faceSize/512 (square crop, crop_ratio 1).</summary>
    public static Vector2[] ForFaceSize(int faceSize = ReferenceSize)
    {
        if (faceSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(faceSize), $"Face size must be positive, got {faceSize}.");
        }
        double scale = faceSize / (double)ReferenceSize;
        return Points512.Select(p => new Vector2((float)(p.X * scale), (float)(p.Y * scale))).ToArray();
    }
}
