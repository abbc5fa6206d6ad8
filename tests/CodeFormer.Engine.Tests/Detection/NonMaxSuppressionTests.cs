using System.Numerics;
using CodeFormer.Engine.Detection;

namespace CodeFormer.Engine.Tests.Detection;

public sealed class NonMaxSuppressionTests
{
    internal static DetectedFace Box(float x1, float y1, float x2, float y2, float score) =>
        new(x1, y1, x2, y2, score, Enumerable.Repeat(new Vector2((x1 + x2) / 2, (y1 + y2) / 2), 5).ToArray());

    [Fact]
    public void IoUOfKnownBoxes()
    {
        // Two 10×10 boxes overlapping in a 5×10 strip: 50 / (100 + 100 − 50) = 1/3.
        Assert.Equal(1f / 3, NonMaxSuppression.IntersectionOverUnion(Box(0, 0, 10, 10, 1), Box(5, 0, 15, 10, 1)), 6);
        Assert.Equal(1f, NonMaxSuppression.IntersectionOverUnion(Box(0, 0, 10, 10, 1), Box(0, 0, 10, 10, 1)), 6);
        Assert.Equal(0f, NonMaxSuppression.IntersectionOverUnion(Box(0, 0, 10, 10, 1), Box(10, 0, 20, 10, 1)));
        Assert.Equal(0f, NonMaxSuppression.IntersectionOverUnion(Box(0, 0, 0, 0, 1), Box(0, 0, 0, 0, 1)));
    }

    [Fact]
    public void KeepsTheBestOfEachClusterInScoreOrder()
    {
        var candidates = new[]
        {
            Box(0, 0, 10, 10, 0.7f),
            Box(1, 1, 11, 11, 0.9f),      // IoU with the first ≈ 0.68: suppresses it
            Box(100, 100, 120, 120, 0.8f), // separate face
            Box(5, 0, 15, 10, 0.85f),     // IoU with the 0.9 box = 45/155 ≈ 0.29 ≤ 0.4: kept
        };
        var kept = NonMaxSuppression.Apply(candidates, 0.4f);
        Assert.Equal([0.9f, 0.85f, 0.8f], kept.Select(f => f.Score));
    }

    [Fact]
    public void SuppressesOnlyAboveTheThreshold()
    {
        // IoU exactly 1/3: kept at threshold 1/3 (torchvision drops IoU > threshold), dropped just below it.
        var pair = new[] { Box(0, 0, 10, 10, 0.9f), Box(5, 0, 15, 10, 0.8f) };
        Assert.Equal(2, NonMaxSuppression.Apply(pair, 0.34f).Count);
        Assert.Single(NonMaxSuppression.Apply(pair, 0.33f));
    }

    [Fact]
    public void GreedyOrderMattersLikeTorchvision()
    {
        // A suppressed box does not suppress others: B overlaps A and C; A kills B, so C survives.
        var a = Box(0, 0, 10, 10, 0.9f);
        var b = Box(4, 0, 14, 10, 0.8f);
        var c = Box(8, 0, 18, 10, 0.7f);
        var kept = NonMaxSuppression.Apply([c, b, a], 0.4f);
        Assert.Equal([a, c], kept);
    }

    [Fact]
    public void EmptyInputAndBadThreshold()
    {
        Assert.Empty(NonMaxSuppression.Apply([], 0.4f));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => NonMaxSuppression.Apply([], 1.5f));
        Assert.Contains("1.5", error.Message);
    }
}
