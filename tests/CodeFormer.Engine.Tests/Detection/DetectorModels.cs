using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Imaging;
using CodeFormer.Testing;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Tests.Detection;

/// <summary>
/// The real detector models, each session opened once for the whole test class (on first use, so that
/// skipped tests on machines without the assets never touch them), and decoded photos cached likewise.
/// </summary>
public sealed class DetectorModels : IDisposable
{
    public const string YuNet2023Mar = "models/face_detection_yunet_2023mar.onnx";
    public const string YuNetS = "models/yunet_s_dynamic.onnx";
    public const string YuNetN = "models/yunet_n_dynamic.onnx";
    public const string RetinaFace = "models/retinaface_mobilenet0.25_640.onnx";

    public const string Astronaut = "images/astronaut.png";
    public const string Hopper = "images/grace_hopper_517x606.jpg";
    public const string HopperTiny = "images/hopper_128x128.png";
    public const string Solvay = "images/solvay_1927_1280x926.png";

    private readonly Dictionary<string, IFaceDetector> _detectors = [];
    private readonly Dictionary<string, RgbImage> _images = [];
    private readonly Lock _gate = new();

    public SessionOptions SessionOptions { get; } = new();

    public static DetectorKind KindOf(string model) => model == RetinaFace ? DetectorKind.RetinaFace : DetectorKind.YuNet;

    public IFaceDetector Default(string model)
    {
        lock (_gate)
        {
            if (!_detectors.TryGetValue(model, out var detector))
            {
                detector = Create(model, new FaceDetectionOptions());
                _detectors[model] = detector;
            }
            return detector;
        }
    }

    /// <summary>A detector with non-default options; the caller disposes it.</summary>
    public IFaceDetector Create(string model, FaceDetectionOptions options) =>
        FaceDetectorFactory.Create(KindOf(model), TestAssets.PathOf(model), SessionOptions, options);

    public RgbImage Image(string path)
    {
        lock (_gate)
        {
            if (!_images.TryGetValue(path, out var image))
            {
                image = RgbImages.Load(TestAssets.PathOf(path));
                _images[path] = image;
            }
            return image;
        }
    }

    public void Dispose()
    {
        foreach (var detector in _detectors.Values)
        {
            detector.Dispose();
        }
        SessionOptions.Dispose();
    }
}
