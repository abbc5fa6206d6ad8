using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Detection;

/// <summary>Finds faces and their five landmarks in an image.</summary>
public interface IFaceDetector : IDisposable
{
    /// <summary>Faces sorted by descending score, after score threshold and NMS, in <paramref name="image"/> coordinates.</summary>
    IReadOnlyList<DetectedFace> Detect(RgbImage image, CancellationToken cancellationToken = default);
}
