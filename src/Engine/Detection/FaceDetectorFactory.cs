using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Detection;

/// <summary>The face detectors the engine can run.</summary>
public enum DetectorKind
{
    /// <summary>OpenCV Zoo / libfacedetection YuNet (fixed 640 or dynamic export).</summary>
    YuNet,
    /// <summary>biubug6 RetinaFace MobileNet-0.25, the reference's default family.</summary>
    RetinaFace,
}

/// <summary>Creates a detector of the chosen kind; the caller owns the session options and the returned detector.</summary>
internal static class FaceDetectorFactory
{
    public static IFaceDetector Create(DetectorKind kind, string modelPath, SessionOptions options, FaceDetectionOptions detection) => kind switch
    {
        DetectorKind.YuNet => new YuNetDetector(modelPath, options, detection),
        DetectorKind.RetinaFace => new RetinaFaceDetector(modelPath, options, detection),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), $"Unknown detector kind {(int)kind}."),
    };
}
