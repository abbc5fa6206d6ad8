using System.Numerics;
using CodeFormer.Engine.Imaging;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Detection;

/// <summary>
/// YuNet (OpenCV Zoo 2023mar, fixed 640×640 input, or libfacedetection.train's dynamic exports with
/// H and W multiples of 32). Which one is read from the input's declared shape.
/// Input: BGR 0..255 NCHW, no normalisation; padding is 0 (black), as OpenCV's FaceDetectorYN pads.
/// Decode matches FaceDetectorYN: score = √(clamp(cls)·clamp(obj)), centre = (cell + offset)·stride,
/// size = exp(log-size)·stride, landmark = (cell + offset)·stride.
/// </summary>
public sealed class YuNetDetector : IFaceDetector
{
    /// <summary>
    /// 0.7, deliberately below OpenCV FaceDetectorYN's 0.9 default (tuned on clean photos): this engine restores
    /// degraded photos, whose faces YuNet scores lower. Measured on the 1927 Solvay photo (29 faces): 0.9 keeps
    /// 1 (2023mar), 16 (yunet_s) and 24 (yunet_n) of them; 0.7 keeps all 29 with each model, while the
    /// best-scored non-face there is 0.62, 0.60 and 0.45. (facefusion uses 0.5 for every detector.)
    /// </summary>
    public const float DefaultScoreThreshold = 0.7f;

    private static readonly int[] Strides = [8, 16, 32];
    private static readonly string[] OutputNames = Strides
        .SelectMany(s => new[] { $"cls_{s}", $"obj_{s}", $"bbox_{s}", $"kps_{s}" }).ToArray();

    private readonly DetectorSession _session;
    private readonly FaceDetectionOptions _options;
    private readonly int? _fixedHeight;
    private readonly int? _fixedWidth;
    private readonly FaceDetectionPipeline _pipeline;

    internal YuNetDetector(string modelPath, SessionOptions sessionOptions, FaceDetectionOptions? options = null)
        : this(DetectorSession.Open(modelPath, sessionOptions, OutputNames), options)
    {
    }

    internal YuNetDetector(byte[] model, SessionOptions sessionOptions, FaceDetectionOptions? options = null)
        : this(DetectorSession.Open(model, sessionOptions, OutputNames), options)
    {
    }

    private YuNetDetector(DetectorSession session, FaceDetectionOptions? options)
    {
        _session = session;
        try
        {
            _options = options ?? new FaceDetectionOptions();
            _options.Validate();
            var dims = session.InputDimensions;
            if (dims[1] is > 0 and not 3)
            {
                throw new InvalidDataException($"{session.ModelDescription}: YuNet input must have 3 channels, it declares {dims[1]}.");
            }
            if (dims[2] > 0 && dims[3] > 0)
            {
                if (dims[2] % 32 != 0 || dims[3] % 32 != 0)
                {
                    throw new InvalidDataException($"{session.ModelDescription}: fixed YuNet input {dims[3]}×{dims[2]} is not a multiple of 32.");
                }
                _fixedHeight = dims[2];
                _fixedWidth = dims[3];
            }
            // Padding 0 before any normalisation: black, as OpenCV's FaceDetectorYN pads.
            _pipeline = new FaceDetectionPipeline(_options, _fixedWidth, _fixedHeight, (0, 0, 0), DecodeCanvas);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>True for a model with a fixed input size (the 2023mar zoo model); false for the dynamic exports.</summary>
    public bool HasFixedInputSize => _fixedWidth is not null;

    public float ScoreThreshold => _options.ScoreThreshold ?? DefaultScoreThreshold;

    public IReadOnlyList<DetectedFace> Detect(RgbImage image, CancellationToken cancellationToken = default) =>
        _pipeline.Detect(image, cancellationToken);

    /// <summary>Candidates above the threshold on one canvas, in canvas pixels (FaceDetectorYN's decode).</summary>
    private List<DetectedFace> DecodeCanvas(float[] tensor, int canvasWidth, int canvasHeight, CancellationToken cancellationToken)
        => _session.Run(tensor, canvasHeight, canvasWidth, OutputNames, _options.ReuseBuffers, cancellationToken, outputs => DecodeOutputs(outputs, canvasWidth, canvasHeight));

    private List<DetectedFace> DecodeOutputs(float[][] outputs, int canvasWidth, int canvasHeight)
    {
        var candidates = new List<DetectedFace>();
        float threshold = ScoreThreshold;
        for (int level = 0; level < Strides.Length; level++)
        {
            int stride = Strides[level];
            int cols = canvasWidth / stride, rows = canvasHeight / stride;
            var cls = outputs[4 * level];
            var obj = outputs[4 * level + 1];
            var bbox = outputs[4 * level + 2];
            var kps = outputs[4 * level + 3];
            int cells = rows * cols;
            if (cls.Length != cells || obj.Length != cells || bbox.Length != 4 * cells || kps.Length != 10 * cells)
            {
                throw new InvalidDataException(
                    $"{_session.ModelDescription}: stride {stride} outputs have {cls.Length}/{obj.Length}/{bbox.Length}/{kps.Length} values; a {canvasWidth}×{canvasHeight} input needs {cells}/{cells}/{4 * cells}/{10 * cells}.");
            }
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++)
                {
                    int i = r * cols + c;
                    float score = MathF.Sqrt(Math.Clamp(cls[i], 0f, 1f) * Math.Clamp(obj[i], 0f, 1f));
                    if (!(score > threshold))
                    {
                        continue;
                    }
                    float cx = (c + bbox[4 * i]) * stride;
                    float cy = (r + bbox[4 * i + 1]) * stride;
                    float w = MathF.Exp(bbox[4 * i + 2]) * stride;
                    float h = MathF.Exp(bbox[4 * i + 3]) * stride;
                    var landmarks = new Vector2[5];
                    for (int k = 0; k < 5; k++)
                    {
                        landmarks[k] = new Vector2((kps[10 * i + 2 * k] + c) * stride, (kps[10 * i + 2 * k + 1] + r) * stride);
                    }
                    candidates.Add(new DetectedFace(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, score, landmarks));
                }
            }
        }
        return candidates;
    }

    public void Dispose() => _session.Dispose();
}
