using System.Numerics;
using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Pipeline;

/// <summary>What happened to one face: where it was found and how it was aligned.</summary>
public sealed record FaceReport(
    int Index,
    float[] Box,
    float Score,
    float[][] Landmarks,
    double[] Affine)
{
    public static FaceReport From(int index, Detection.DetectedFace face, Geometry.AffineTransform affine) => new(
        index,
        [face.X1, face.Y1, face.X2, face.Y2],
        face.Score,
        face.Landmarks.Select(p => new[] { p.X, p.Y }).ToArray(),
        affine.ToArray());

    public Vector2 Center => new((Box[0] + Box[2]) / 2, (Box[1] + Box[3]) / 2);
}

/// <summary>The aligned input crop and the restored crop of one face, encoded as PNG.</summary>
public sealed record FaceImages(int Index, byte[] CroppedPng, byte[] RestoredPng);

/// <summary>The restored photo and everything a caller may want to show or store about it.</summary>
public sealed record RestorationResult(
    byte[] Image,
    ImageFileFormat Format,
    int Width,
    int Height,
    int InputWidth,
    int InputHeight,
    bool Greyscale,
    IReadOnlyList<FaceReport> Faces,
    StageTimings Timings,
    IReadOnlyList<FaceImages> FaceImages,
    byte[]? Comparison,
    IReadOnlyList<string> Warnings);
