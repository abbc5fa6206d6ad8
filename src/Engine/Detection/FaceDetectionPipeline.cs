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
    // The resized image and the tensor of the whole-image pass, kept for the next image of the same size: a video
    // detects on every frame, and two new frame-sized arrays per frame were large-object garbage.
    private readonly SpareArray<float> _resizedSpare = new();
    private readonly SpareArray<float> _tensorSpare = new();
    private readonly SpareArray<float> _tiledSpare = new();

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
        var tensor = _options.ReuseBuffers
            ? plan.ToBgrTensor(image, _meanBgr, _resizedSpare, _tensorSpare)
            : plan.ToBgrTensor(image, _meanBgr);
        List<DetectedFace> whole;
        try
        {
            whole = _decode(tensor, plan.CanvasWidth, plan.CanvasHeight, cancellationToken);
        }
        finally
        {
            if (_options.ReuseBuffers)
            {
                _tensorSpare.Give(tensor);
            }
        }
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
        var resized = _options.ReuseBuffers ? ResizeWithSpare(image, referencePlan) : referencePlan.Resize(image);
        foreach (var t in plan.Tiles)
        {
            float[] tensor;
            if (_options.ReuseBuffers)
            {
                tensor = _tensorSpare.Take(3 * plan.CanvasWidth * plan.CanvasHeight);
                Array.Clear(tensor);
                DetectorTensor.FillRegion(resized, t.X, t.Y, t.Width, t.Height, plan.CanvasWidth, plan.CanvasHeight, _meanBgr, tensor);
            }
            else
            {
                tensor = DetectorTensor.FromRegion(resized, t.X, t.Y, t.Width, t.Height, plan.CanvasWidth, plan.CanvasHeight, _meanBgr);
            }
            List<DetectedFace> found;
            try
            {
                found = _decode(tensor, plan.CanvasWidth, plan.CanvasHeight, cancellationToken);
            }
            finally
            {
                if (_options.ReuseBuffers)
                {
                    _tensorSpare.Give(tensor);
                }
            }
            foreach (var face in found)
            {
                var inResized = face.Translated(t.X, t.Y);
                if (t.Owns(inResized, resized.Width, resized.Height))
                {
                    candidates.Add(inResized.Scaled((float)(1 / referencePlan.Scale)));
                }
            }
        }
        if (_options.ReuseBuffers && !ReferenceEquals(resized, image))
        {
            _tiledSpare.Give(resized.Pixels);
        }
    }

    /// <summary>The image at the reference's scale in the tiles' spare array (the caller gives it back).</summary>
    private RgbImage ResizeWithSpare(RgbImage image, DetectorInputPlan plan)
    {
        if (plan.ResizedWidth == image.Width && plan.ResizedHeight == image.Height)
        {
            return image;
        }
        var resized = new RgbImage(plan.ResizedWidth, plan.ResizedHeight, _tiledSpare.Take(plan.ResizedWidth * plan.ResizedHeight * 3));
        if (plan.Scale < 1)
        {
            ImageResizer.ResizeAreaInto(image, resized);
        }
        else
        {
            ImageResizer.ResizeBilinearInto(image, resized);
        }
        return resized;
    }
}
