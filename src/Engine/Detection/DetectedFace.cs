using System.Numerics;

namespace CodeFormer.Engine.Detection;

/// <summary>
/// A face found by a detector, in the coordinates of the image handed to the detector.
/// Landmarks are in template order: image-left eye, image-right eye, nose tip,
/// image-left mouth corner, image-right mouth corner.
/// </summary>
public sealed record DetectedFace(float X1, float Y1, float X2, float Y2, float Score, IReadOnlyList<Vector2> Landmarks)
{
    public float Width => X2 - X1;
    public float Height => Y2 - Y1;
    public Vector2 Center => new((X1 + X2) / 2, (Y1 + Y2) / 2);
    public float EyeDistance => Vector2.Distance(Landmarks[0], Landmarks[1]);

    public DetectedFace Scaled(float factor) => new(
        X1 * factor, Y1 * factor, X2 * factor, Y2 * factor, Score, Landmarks.Select(p => p * factor).ToArray());

    public DetectedFace Translated(float dx, float dy) => new(
        X1 + dx, Y1 + dy, X2 + dx, Y2 + dy, Score, Landmarks.Select(p => p + new Vector2(dx, dy)).ToArray());
}
