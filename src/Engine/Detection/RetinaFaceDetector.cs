using System.Numerics;
using CodeFormer.Engine.Imaging;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Detection;

/// <summary>
/// The reference's default detector, biubug6 RetinaFace (MobileNet-0.25), as a fixed 640×640 ONNX export:
/// input BGR minus mean (104, 117, 123); outputs loc [1,P,4], conf [1,P,2] (softmaxed, column 1 = face),
/// landmarks [1,P,10], decoded against the anchor priors with variances [0.1, 0.2].
/// </summary>
/// <remarks>
/// The reference runs on the whole image scaled to short side 640 (use_origin_size); the fixed export needs the
/// image inside 640×640, so the long side is scaled to 640 and the rest of the canvas is padding (measured on the
/// Solvay photo: 19 of 29 faces at the reference's 0.8). <see cref="FaceDetectionOptions.TileFixedInput"/> restores
/// the reference's scale with overlapping 640×640 tiles (29 of 29, three network runs). Padding is 0
/// after mean subtraction, i.e. the mean colour, which is also what biubug6's training pads with
/// (<c>_pad_to_square</c> fills with rgb_mean): the network has seen it as "nothing here", unlike black.
/// </remarks>
public sealed class RetinaFaceDetector : IFaceDetector
{
    /// <summary>The reference's confidence threshold (B.3).</summary>
    public const float DefaultScoreThreshold = 0.8f;

    private static readonly (float B, float G, float R) MeanBgr = (104, 117, 123);
    private static readonly string[] OutputNames = ["output0", "output1", "output2"];

    private readonly DetectorSession _session;
    private readonly FaceDetectionOptions _options;
    private readonly int _canvasWidth;
    private readonly int _canvasHeight;
    private readonly RetinaFacePriors _priors;
    private readonly FaceDetectionPipeline _pipeline;

    internal RetinaFaceDetector(string modelPath, SessionOptions sessionOptions, FaceDetectionOptions? options = null)
        : this(DetectorSession.Open(modelPath, sessionOptions, OutputNames), options)
    {
    }

    internal RetinaFaceDetector(byte[] model, SessionOptions sessionOptions, FaceDetectionOptions? options = null)
        : this(DetectorSession.Open(model, sessionOptions, OutputNames), options)
    {
    }

    private RetinaFaceDetector(DetectorSession session, FaceDetectionOptions? options)
    {
        _session = session;
        try
        {
            _options = options ?? new FaceDetectionOptions();
            _options.Validate();
            var dims = session.InputDimensions;
            if (dims[1] != 3 || dims[2] <= 0 || dims[3] <= 0)
            {
                throw new InvalidDataException(
                    $"{session.ModelDescription}: RetinaFace needs a fixed [1,3,H,W] input, it declares [{string.Join(",", dims)}].");
            }
            _canvasHeight = dims[2];
            _canvasWidth = dims[3];
            _priors = new RetinaFacePriors(_canvasWidth, _canvasHeight);
            _pipeline = new FaceDetectionPipeline(_options, _canvasWidth, _canvasHeight, MeanBgr, DecodeCanvas);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public float ScoreThreshold => _options.ScoreThreshold ?? DefaultScoreThreshold;

    public IReadOnlyList<DetectedFace> Detect(RgbImage image, CancellationToken cancellationToken = default) =>
        _pipeline.Detect(image, cancellationToken);

    /// <summary>Candidates above the threshold on one canvas, in canvas pixels (biubug6 decode with variances).</summary>
    private List<DetectedFace> DecodeCanvas(float[] tensor, int canvasWidth, int canvasHeight, CancellationToken cancellationToken)
        => _session.Run(tensor, canvasHeight, canvasWidth, OutputNames, _options.ReuseBuffers, cancellationToken, outputs => DecodeOutputs(outputs, canvasWidth, canvasHeight));

    private List<DetectedFace> DecodeOutputs(float[][] outputs, int canvasWidth, int canvasHeight)
    {
        var (loc, conf, landmarkOffsets) = (outputs[0], outputs[1], outputs[2]);
        int count = _priors.Count;
        if (loc.Length != 4 * count || conf.Length != 2 * count || landmarkOffsets.Length != 10 * count)
        {
            throw new InvalidDataException(
                $"{_session.ModelDescription}: outputs have {loc.Length}/{conf.Length}/{landmarkOffsets.Length} values; {count} priors need {4 * count}/{2 * count}/{10 * count}.");
        }

        float threshold = ScoreThreshold;
        var candidates = new List<DetectedFace>();
        for (int p = 0; p < count; p++)
        {
            float score = conf[2 * p + 1];
            if (!(score > threshold))
            {
                continue;
            }
            var (cx, cy, pw, ph) = _priors[p];
            float boxCx = cx + loc[4 * p] * 0.1f * pw;
            float boxCy = cy + loc[4 * p + 1] * 0.1f * ph;
            float w = pw * MathF.Exp(loc[4 * p + 2] * 0.2f);
            float h = ph * MathF.Exp(loc[4 * p + 3] * 0.2f);
            float x1 = boxCx - w / 2, y1 = boxCy - h / 2;
            var landmarks = new Vector2[5];
            for (int k = 0; k < 5; k++)
            {
                landmarks[k] = new Vector2(
                    cx + landmarkOffsets[10 * p + 2 * k] * 0.1f * pw,
                    cy + landmarkOffsets[10 * p + 2 * k + 1] * 0.1f * ph);
            }
            candidates.Add(new DetectedFace(x1, y1, x1 + w, y1 + h, score, landmarks));
        }
        return candidates;
    }

    public void Dispose() => _session.Dispose();
}
