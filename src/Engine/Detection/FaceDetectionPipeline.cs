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
        var referencePlan = DetectorInputPlan.Create(image.Width, image.Height, _options.DetectorShortSide, null, null, divisor: 32);
        bool tile = _options.TileFixedInput && _fixedWidth is { } tileWidth && _fixedHeight is { } tileHeight
            && (referencePlan.ResizedWidth > tileWidth || referencePlan.ResizedHeight > tileHeight);

        // The whole image in one canvas: always for dynamic models; for fixed ones it also catches faces
        // too large to be whole in any tile.
        var whole = _decode(plan.ToBgrTensor(image, _meanBgr), plan.CanvasWidth, plan.CanvasHeight, cancellationToken);
        candidates.AddRange(whole.Select(f => f.Scaled((float)(1 / plan.Scale))));

        if (tile)
        {
            // The reference's scale (short side 640), which the fixed canvas cannot hold in one piece.
            var resized = referencePlan.Resize(image);
            int canvasWidth = _fixedWidth!.Value, canvasHeight = _fixedHeight!.Value;
            int minOverlap = Math.Min(canvasWidth, canvasHeight) / 4;
            foreach (var t in DetectorTiling.Cover(resized.Width, resized.Height, canvasWidth, canvasHeight, minOverlap))
            {
                int width = Math.Min(t.Width, resized.Width), height = Math.Min(t.Height, resized.Height);
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

        var kept = NonMaxSuppression.Apply(candidates, _options.NmsIou);
        return FaceFilter.Apply(kept, _options, image.Width, image.Height);
    }
}
