using System.Numerics;
using CodeFormer.Engine.Detection;

namespace CodeFormer.Engine.Tests.Detection;

public sealed class FaceFilterTests
{
    private static DetectedFace Face(float cx, float cy, float size, float eyeDistance, float score)
    {
        var landmarks = new[]
        {
            new Vector2(cx - eyeDistance / 2, cy - size / 8), new Vector2(cx + eyeDistance / 2, cy - size / 8),
            new Vector2(cx, cy), new Vector2(cx - eyeDistance / 3, cy + size / 6), new Vector2(cx + eyeDistance / 3, cy + size / 6),
        };
        return new DetectedFace(cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2, score, landmarks);
    }

    [Fact]
    public void DropsFacesWithEyesCloserThanTheThreshold()
    {
        var faces = new[] { Face(50, 50, 40, 20, 0.9f), Face(150, 50, 40, 4.9f, 0.8f), Face(250, 50, 40, 5f, 0.7f) };
        var kept = FaceFilter.Apply(faces, new FaceDetectionOptions(), 400, 100);
        Assert.Equal([0.9f, 0.7f], kept.Select(f => f.Score));
    }

    [Fact]
    public void DropsFacesSmallerThanMinFaceSize()
    {
        var faces = new[] { Face(50, 50, 40, 20, 0.9f), Face(150, 50, 19, 10, 0.8f) };
        Assert.Single(FaceFilter.Apply(faces, new FaceDetectionOptions { MinFaceSize = 20 }, 400, 100));
        Assert.Equal(2, FaceFilter.Apply(faces, new FaceDetectionOptions(), 400, 100).Count);
    }

    [Fact]
    public void OnlyCenterFaceKeepsTheFaceNearestTheImageCentre()
    {
        var faces = new[] { Face(50, 50, 40, 20, 0.99f), Face(190, 60, 30, 15, 0.75f), Face(350, 50, 40, 20, 0.9f) };
        var kept = FaceFilter.Apply(faces, new FaceDetectionOptions { OnlyCenterFace = true }, 400, 100);
        Assert.Equal(0.75f, Assert.Single(kept).Score);
    }

    [Fact]
    public void CentreChoiceIgnoresFacesAlreadyFilteredOut()
    {
        // The centre face has eyes 3 px apart, so the reference drops it before choosing the centre one.
        var faces = new[] { Face(200, 50, 40, 3, 0.99f), Face(100, 50, 40, 20, 0.8f), Face(390, 50, 40, 20, 0.9f) };
        var kept = FaceFilter.Apply(faces, new FaceDetectionOptions { OnlyCenterFace = true }, 400, 100);
        Assert.Equal(0.8f, Assert.Single(kept).Score);
    }

    [Fact]
    public void MaxFacesKeepsTheHighestScored()
    {
        var faces = new[] { Face(50, 50, 40, 20, 0.95f), Face(150, 50, 40, 20, 0.9f), Face(250, 50, 40, 20, 0.85f) };
        var kept = FaceFilter.Apply(faces, new FaceDetectionOptions { MaxFaces = 2 }, 400, 100);
        Assert.Equal([0.95f, 0.9f], kept.Select(f => f.Score));
    }

    [Fact]
    public void InvalidOptionsAreRejectedWithTheValue()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => FaceFilter.Apply([], new FaceDetectionOptions { MaxFaces = 0 }, 10, 10));
        Assert.Contains("got 0", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaceDetectionOptions { ScoreThreshold = 1.2f }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaceDetectionOptions { NmsIou = float.NaN }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new FaceDetectionOptions { DetectorShortSide = 0 }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => FaceFilter.Apply([], new FaceDetectionOptions(), 0, 10));
    }
}
