using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Detection;

/// <summary>
/// What every detector does around its network: size the image as the reference does, run the network on one
/// canvas (or, for a fixed-size network with <see cref="FaceDetectionOptions.TileFixedInput"/>, on tiles plus one
/// whole-image pass), map candidates back to image coordinates, then NMS and the shared post-filters.
/// </summary>
internal sealed class FaceDetectionPipeline
{
    /// <summary>Decodes one canvas: candidates above the threshold, in canvas pixels, before NMS.</summary>
    public delegate List<DetectedFace> CanvasDecoder(float[] tensor, int canvasWidth, int canvasHeight, CancellationToken cancellationToken);

    private readonly FaceDetectionOptions _options;
    private readonly int? _fixedWidth;
    private readonly int? _fixedHeight;
    private readonly (float B, float G, float R) _meanBgr;
    private readonly CanvasDecoder _decode;

    public FaceDetectionPipeline(FaceDetectionOptions options, int? fixedWidth, int? fixedHeight, (float B, float G, float R) meanBgr, CanvasDecoder decode)
    {
        _options = options;
        _fixedWidth = fixedWidth;
        _fixedHeight = fixedHeight;
        _meanBgr = meanBgr;
        _decode = decode;
    }

    public IReadOnlyList<DetectedFace> Detect(RgbImage image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        var plan = DetectorInputPlan.Create(image.Width, image.Height, _options.DetectorShortSide, _fixedWidth, _fixedHeight, divisor: 32);
        var tiling = PlanTiles(image);

        // The whole image in one canvas: all there is for dynamic models and for images that fit. When tiles also
        // run, it contributes only the faces too large to be whole in a tile, so that every other face comes
        // from the reference's scale rather than from this smaller view.
        var candidates = new List<DetectedFace>();
        var whole = _decode(plan.ToBgrTensor(image, _meanBgr), plan.CanvasWidth, plan.CanvasHeight, cancellationToken);
        foreach (var face in whole)
        {
            var inImage = face.Scaled((float)(1 / plan.Scale));
            if (tiling is not { } t || MathF.Max(inImage.Width, inImage.Height) * t.Scale > t.MinOverlap)
            {
                candidates.Add(inImage);
            }
        }

        if (tiling is { } tiles)
        {
            AddTiledCandidates(image, tiles, candidates, cancellationToken);
        }

        var kept = NonMaxSuppression.Apply(candidates, _options.NmsIou);
        return FaceFilter.Apply(kept, _options, image.Width, image.Height);
    }

    /// <summary>The largest stride of both detector families' feature pyramids (8, 16, 32): tiles start on its grid.</summary>
    private const int NetworkStride = 32;

    /// <summary>Most tiles one image may take; beyond it (extreme panoramas) only the whole-image pass runs.</summary>
    internal const int MaxTiles = 16;

    private sealed record TilePlan(double Scale, int CanvasWidth, int CanvasHeight, int MinOverlap, IReadOnlyList<DetectorTile> Tiles);

    /// <summary>Tiles at the reference's scale, or null when they are off, not needed (the image fits) or too many.</summary>
    private TilePlan? PlanTiles(RgbImage image)
    {
        if (!_options.TileFixedInput || _fixedWidth is not { } canvasWidth || _fixedHeight is not { } canvasHeight)
        {
            return null;
        }
        double scale = (double)_options.DetectorShortSide / Math.Min(image.Width, image.Height);
        int scaledWidth = DetectorInputPlan.ScaledSize(image.Width, scale), scaledHeight = DetectorInputPlan.ScaledSize(image.Height, scale);
        if (scaledWidth <= canvasWidth && scaledHeight <= canvasHeight)
        {
            return null; // The whole-image pass already runs at the reference's scale.
        }
        // Neighbours overlap by at least a quarter tile: a face up to that size centred in a tile's core is whole in it.
        int minOverlap = Math.Min(canvasWidth, canvasHeight) / 4;
        if (DetectorTiling.Count(scaledWidth, scaledHeight, canvasWidth, canvasHeight, minOverlap, NetworkStride) > MaxTiles)
        {
            return null;
        }
        var tiles = DetectorTiling.Cover(scaledWidth, scaledHeight, canvasWidth, canvasHeight, minOverlap, NetworkStride);
        return new TilePlan(scale, canvasWidth, canvasHeight, minOverlap, tiles);
    }

    /// <summary>
    /// Scans the image at the reference's scale (short side 640), which a fixed canvas cannot hold in one piece,
    /// in overlapping tiles; each tile contributes only the whole faces centred in its core.
    /// </summary>
    private void AddTiledCandidates(RgbImage image, TilePlan plan, List<DetectedFace> candidates, CancellationToken cancellationToken)
    {
        var referencePlan = DetectorInputPlan.Create(image.Width, image.Height, _options.DetectorShortSide, null, null, divisor: 1);
        var resized = referencePlan.Resize(image);
        foreach (var t in plan.Tiles)
        {
            var tensor = DetectorTensor.FromRegion(resized, t.X, t.Y, t.Width, t.Height, plan.CanvasWidth, plan.CanvasHeight, _meanBgr);
            foreach (var face in _decode(tensor, plan.CanvasWidth, plan.CanvasHeight, cancellationToken))
            {
                var inResized = face.Translated(t.X, t.Y);
                if (t.Owns(inResized, resized.Width, resized.Height))
                {
                    candidates.Add(inResized.Scaled((float)(1 / referencePlan.Scale)));
                }
            }
        }
    }
}
