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
        var candidates = new List<DetectedFace>();
        var plan = DetectorInputPlan.Create(image.Width, image.Height, _options.DetectorShortSide, _fixedWidth, _fixedHeight, divisor: 32);

        // The whole image in one canvas: always for dynamic models; for fixed ones it also catches faces
        // too large to be whole in any tile.
        var whole = _decode(plan.ToBgrTensor(image, _meanBgr), plan.CanvasWidth, plan.CanvasHeight, cancellationToken);
        candidates.AddRange(whole.Select(f => f.Scaled((float)(1 / plan.Scale))));

        if (_options.TileFixedInput && _fixedWidth is { } canvasWidth && _fixedHeight is { } canvasHeight)
        {
            AddTiledCandidates(image, canvasWidth, canvasHeight, candidates, cancellationToken);
        }

        var kept = NonMaxSuppression.Apply(candidates, _options.NmsIou);
        return FaceFilter.Apply(kept, _options, image.Width, image.Height);
    }

    /// <summary>Most tiles one image may take; beyond it (extreme panoramas) only the whole-image pass runs.</summary>
    internal const int MaxTiles = 16;

    /// <summary>
    /// Scans the image at the reference's scale (short side 640), which a fixed canvas cannot hold in one piece,
    /// in overlapping tiles; each tile contributes only the whole faces centred in its core.
    /// </summary>
    private void AddTiledCandidates(RgbImage image, int canvasWidth, int canvasHeight, List<DetectedFace> candidates, CancellationToken cancellationToken)
    {
        double scale = (double)_options.DetectorShortSide / Math.Min(image.Width, image.Height);
        int scaledWidth = DetectorInputPlan.ScaledSize(image.Width, scale), scaledHeight = DetectorInputPlan.ScaledSize(image.Height, scale);
        if (scaledWidth <= canvasWidth && scaledHeight <= canvasHeight)
        {
            return; // The whole-image pass already ran at the reference's scale.
        }
        var tiles = DetectorTiling.Cover(scaledWidth, scaledHeight, canvasWidth, canvasHeight, minOverlap: Math.Min(canvasWidth, canvasHeight) / 4);
        if (tiles.Count > MaxTiles)
        {
            return;
        }
        var referencePlan = DetectorInputPlan.Create(image.Width, image.Height, _options.DetectorShortSide, null, null, divisor: 1);
        var resized = referencePlan.Resize(image);
        foreach (var t in tiles)
        {
            int width = Math.Min(t.Width, resized.Width - t.X), height = Math.Min(t.Height, resized.Height - t.Y);
            var tensor = DetectorTensor.FromRegion(resized, t.X, t.Y, width, height, canvasWidth, canvasHeight, _meanBgr);
            foreach (var face in _decode(tensor, canvasWidth, canvasHeight, cancellationToken))
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
