using System.Numerics;
using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Geometry;

/// <summary>
/// Reference B.4: landmarks → FFHQ template similarity (LMEDS), then warpAffine to faceSize² with bilinear
/// sampling and a constant grey border.
/// </summary>
public sealed class FaceAligner
{
    /// <summary>The reference's border value (135, 133, 132) is BGR; in RGB it is (132, 133, 135).</summary>
    public static WarpBorder GreyBorder => WarpBorder.Constant(132, 133, 135);

    public AlignedFace Align(RgbImage image, IReadOnlyList<Vector2> landmarks, int faceSize = FfhqTemplate.ReferenceSize)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(landmarks);
        if (landmarks.Count != 5)
        {
            throw new ArgumentException($"Alignment needs the 5 landmarks (eyes, nose, mouth corners), got {landmarks.Count}.", nameof(landmarks));
        }
        var imageToFace = SimilarityEstimator.Estimate(landmarks, FfhqTemplate.ForFaceSize(faceSize));
        var crop = AffineWarper.Warp(image, imageToFace, faceSize, faceSize, GreyBorder);
        return new AlignedFace(crop, imageToFace);
    }

    /// <summary>
    /// <see cref="Align"/> into an existing square crop (its side is the face size), so that a caller aligning face
    /// after face (video frames) reuses one crop instead of allocating a face-sized image each time. Same pixels.
    /// </summary>
    public AlignedFace AlignInto(RgbImage image, IReadOnlyList<Vector2> landmarks, RgbImage crop)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(landmarks);
        ArgumentNullException.ThrowIfNull(crop);
        if (landmarks.Count != 5)
        {
            throw new ArgumentException($"Alignment needs the 5 landmarks (eyes, nose, mouth corners), got {landmarks.Count}.", nameof(landmarks));
        }
        if (crop.Width != crop.Height)
        {
            throw new ArgumentException($"The crop must be square (the face size), it is {crop.Width}×{crop.Height}.", nameof(crop));
        }
        var imageToFace = SimilarityEstimator.Estimate(landmarks, FfhqTemplate.ForFaceSize(crop.Width));
        AffineWarper.WarpInto(image.Pixels, image.Width, image.Height, 3, imageToFace, PixelRegion.Whole(crop.Width, crop.Height), crop.Pixels, GreyBorder);
        return new AlignedFace(crop, imageToFace);
    }

    /// <summary>
    /// <see cref="Align"/> straight into one face of the network's batch layout (NCHW, RGB in [-1, 1]): the same values
    /// <see cref="Align"/> followed by <see cref="Pipeline.FaceTensorLayout.Pack"/> gives, made in one pass and with no
    /// face-sized crop in between. Returns the image → face matrix.
    /// </summary>
    public AffineTransform AlignToNetworkLayout(RgbImage image, IReadOnlyList<Vector2> landmarks, int faceSize, Span<float> face)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(landmarks);
        if (landmarks.Count != 5)
        {
            throw new ArgumentException($"Alignment needs the 5 landmarks (eyes, nose, mouth corners), got {landmarks.Count}.", nameof(landmarks));
        }
        var imageToFace = SimilarityEstimator.Estimate(landmarks, FfhqTemplate.ForFaceSize(faceSize));
        AffineWarper.WarpToNetworkLayout(image, imageToFace, faceSize, GreyBorder, face);
        return imageToFace;
    }

    /// <summary>
    /// The reference's --has_aligned mode: the input already is an aligned face, only resized to faceSize² with
    /// INTER_LINEAR. There is no paste-back, so the matrix returned is just that resize.
    /// </summary>
    public AlignedFace FromAlignedInput(RgbImage alignedCrop, int faceSize = FfhqTemplate.ReferenceSize)
    {
        ArgumentNullException.ThrowIfNull(alignedCrop);
        if (faceSize <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(faceSize), $"Face size must be positive, got {faceSize}.");
        }
        var crop = alignedCrop.Width == faceSize && alignedCrop.Height == faceSize
            ? alignedCrop.Clone()
            : ImageResizer.ResizeBilinear(alignedCrop, faceSize, faceSize);
        double sx = faceSize / (double)alignedCrop.Width, sy = faceSize / (double)alignedCrop.Height;
        // INTER_LINEAR's half-pixel convention: dst = (src + 0.5)·scale − 0.5.
        var resize = new AffineTransform(sx, 0, 0.5 * sx - 0.5, 0, sy, 0.5 * sy - 0.5);
        return new AlignedFace(crop, resize);
    }
}
