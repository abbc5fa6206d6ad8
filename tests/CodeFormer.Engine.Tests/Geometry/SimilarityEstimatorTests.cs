using System.Numerics;
using CodeFormer.Engine.Geometry;

namespace CodeFormer.Engine.Tests.Geometry;

public sealed class SimilarityEstimatorTests
{
    private static AffineTransform RandomSimilarity(Random random)
    {
        // Face-like ranges (scale 0.5 … 4, any rotation, a few hundred pixels of translation): the points are float
        // (Vector2), so their rounding, not the estimator, sets the attainable precision.
        double scale = 0.5 * Math.Exp(random.NextDouble() * Math.Log(8));
        double angle = (random.NextDouble() * 2 - 1) * Math.PI;
        double a = scale * Math.Cos(angle), b = scale * Math.Sin(angle);
        return new AffineTransform(a, -b, random.NextDouble() * 600 - 300, b, a, random.NextDouble() * 600 - 300);
    }

    private static Vector2[] Map(AffineTransform t, IEnumerable<Vector2> points) => points.Select(p => t.Apply(p)).ToArray();

    /// <summary>
    /// Relative closeness: the linear part relative to the scale, and the mapped template points relative to the size
    /// of their coordinates (a translation is only as precise as the float coordinates it was measured from).
    /// </summary>
    private static void AssertClose(AffineTransform expected, AffineTransform actual, double relative)
    {
        double scale = Math.Sqrt(Math.Abs(expected.Determinant));
        foreach (var (e, a, name) in new[] { (expected.A, actual.A, "A"), (expected.B, actual.B, "B"), (expected.D, actual.D, "D"), (expected.E, actual.E, "E") })
        {
            Assert.True(Math.Abs(e - a) <= relative * scale, $"{name}: expected {e}, got {a} (scale {scale}); {expected} vs {actual}");
        }
        foreach (var p in FfhqTemplate.ForFaceSize())
        {
            var (ex, ey) = expected.Apply(p.X, p.Y);
            var (ax, ay) = actual.Apply(p.X, p.Y);
            double magnitude = 1 + Math.Max(Math.Abs(ex), Math.Abs(ey));
            Assert.True(Math.Abs(ex - ax) <= relative * magnitude && Math.Abs(ey - ay) <= relative * magnitude,
                $"point ({p.X}, {p.Y}) maps to ({ax}, {ay}), expected ({ex}, {ey}); {expected} vs {actual}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void RecoversARandomSimilarityExactly(int seed)
    {
        var applied = RandomSimilarity(new Random(seed));
        var template = FfhqTemplate.ForFaceSize();
        var landmarks = Map(applied, template);

        AssertClose(applied, SimilarityEstimator.Estimate(template, landmarks), 1e-6);
        // The direction alignment uses: landmarks → template recovers the inverse.
        AssertClose(applied.Invert(), SimilarityEstimator.Estimate(landmarks, template), 1e-6);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(4)]
    public void IgnoresOneGrosslyCorruptedLandmark(int corrupted)
    {
        var applied = RandomSimilarity(new Random(40 + corrupted));
        var template = FfhqTemplate.ForFaceSize();
        var landmarks = Map(applied, template);
        landmarks[corrupted] += new Vector2(80, -60);

        AssertClose(applied.Invert(), SimilarityEstimator.Estimate(landmarks, template), 1e-6);
        // Plain least squares over all five is visibly pulled by the outlier: the robust step matters.
        var naive = LeastSquaresByNormalEquations(landmarks, template);
        Assert.True(Math.Abs(naive.C - applied.Invert().C) > 1e-3 || Math.Abs(naive.A - applied.Invert().A) > 1e-4);
    }

    [Fact]
    public void ExhaustiveSubsetsFindTheModelEvenWithTwoOutliersOfFive()
    {
        // Only 3 of the 10 pairs are outlier-free. A random sampler finds one with high probability only;
        // trying every pair (the documented replacement for OpenCV's random draws) always does.
        var applied = RandomSimilarity(new Random(77));
        var template = FfhqTemplate.ForFaceSize();
        var landmarks = Map(applied, template);
        landmarks[1] += new Vector2(-45, 30);
        landmarks[3] += new Vector2(25, 70);

        AssertClose(applied.Invert(), SimilarityEstimator.Estimate(landmarks, template), 1e-6);
    }

    [Fact]
    public void IsDeterministicAndIndependentOfPointOrder()
    {
        var random = new Random(9);
        var template = FfhqTemplate.ForFaceSize();
        var landmarks = Map(RandomSimilarity(random), template)
            .Select(p => p + new Vector2((float)(random.NextDouble() - 0.5) * 3, (float)(random.NextDouble() - 0.5) * 3)).ToArray();
        var first = SimilarityEstimator.Estimate(landmarks, template);
        Assert.Equal(first, SimilarityEstimator.Estimate(landmarks, template));

        int[] order = [3, 0, 4, 2, 1];
        var permuted = SimilarityEstimator.Estimate(order.Select(k => landmarks[k]).ToArray(), order.Select(k => template[k]).ToArray());
        AssertClose(first, permuted, 1e-9);
    }

    [Fact]
    public void SmallNoiseWithoutOutliersGivesTheLeastSquaresFitOverAllPoints()
    {
        var random = new Random(5);
        var template = FfhqTemplate.ForFaceSize();
        var landmarks = Map(RandomSimilarity(random), template)
            .Select(p => p + new Vector2((float)(random.NextDouble() - 0.5), (float)(random.NextDouble() - 0.5))).ToArray();

        AssertClose(LeastSquaresByNormalEquations(landmarks, template), SimilarityEstimator.Estimate(landmarks, template), 1e-9);
    }

    [Fact]
    public void TwoPointsGiveTheExactSimilarity()
    {
        var applied = RandomSimilarity(new Random(12));
        Vector2[] from = [new(10, 20), new(50, -7)];
        AssertClose(applied, SimilarityEstimator.Estimate(from, Map(applied, from)), 1e-6);
    }

    [Fact]
    public void CoincidentPointsAreRejectedWithAClearMessage()
    {
        var same = Enumerable.Repeat(new Vector2(100, 100), 5).ToArray();
        var error = Assert.Throws<ArgumentException>(() => SimilarityEstimator.Estimate(same, FfhqTemplate.ForFaceSize()));
        Assert.Contains("coincide", error.Message);
        Assert.Contains("100", error.Message);
    }

    [Fact]
    public void TargetsThatCollapseToOnePointAreRejected()
    {
        var collapsed = Enumerable.Repeat(new Vector2(3, 4), 5).ToArray();
        var error = Assert.Throws<ArgumentException>(() => SimilarityEstimator.Estimate(FfhqTemplate.ForFaceSize(), collapsed));
        Assert.Contains("degenerate", error.Message);
    }

    [Fact]
    public void MismatchedOrTooFewOrNonFinitePointsAreRejected()
    {
        var template = FfhqTemplate.ForFaceSize();
        Assert.Contains("5 source points, 4 target points",
            Assert.Throws<ArgumentException>(() => SimilarityEstimator.Estimate(template, template.Take(4).ToArray())).Message);
        Assert.Contains("at least 2",
            Assert.Throws<ArgumentException>(() => SimilarityEstimator.Estimate(template.Take(1).ToArray(), template.Take(1).ToArray())).Message);
        var bad = template.ToArray();
        bad[2] = new Vector2(float.NaN, 1);
        Assert.Contains("Point 2 is not finite", Assert.Throws<ArgumentException>(() => SimilarityEstimator.Estimate(bad, template)).Message);
    }

    [Fact]
    public void TemplateScalesWithFaceSize()
    {
        var t512 = FfhqTemplate.ForFaceSize();
        var t256 = FfhqTemplate.ForFaceSize(256);
        Assert.Equal(5, t512.Length);
        Assert.Equal(192.98138f, t512[0].X);
        Assert.Equal(371.15118f, t512[4].Y);
        for (int k = 0; k < 5; k++)
        {
            Assert.Equal(t512[k].X / 2, t256[k].X, 4);
            Assert.Equal(t512[k].Y / 2, t256[k].Y, 4);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => FfhqTemplate.ForFaceSize(0));
    }

    /// <summary>An independent least-squares solve: the 4×4 normal equations of (a, b, tx, ty).</summary>
    private static AffineTransform LeastSquaresByNormalEquations(IReadOnlyList<Vector2> from, IReadOnlyList<Vector2> to)
    {
        var n = new double[4, 5];
        for (int k = 0; k < from.Count; k++)
        {
            double x = from[k].X, y = from[k].Y;
            double[][] rows = [[x, -y, 1, 0, to[k].X], [y, x, 0, 1, to[k].Y]];
            foreach (var r in rows)
            {
                for (int i = 0; i < 4; i++)
                {
                    for (int j = 0; j < 5; j++)
                    {
                        n[i, j] += r[i] * r[j];
                    }
                }
            }
        }
        for (int col = 0; col < 4; col++)
        {
            int pivot = Enumerable.Range(col, 4 - col).MaxBy(r => Math.Abs(n[r, col]));
            for (int j = 0; j < 5; j++)
            {
                (n[col, j], n[pivot, j]) = (n[pivot, j], n[col, j]);
            }
            for (int r = 0; r < 4; r++)
            {
                if (r == col)
                {
                    continue;
                }
                double f = n[r, col] / n[col, col];
                for (int j = 0; j < 5; j++)
                {
                    n[r, j] -= f * n[col, j];
                }
            }
        }
        double a = n[0, 4] / n[0, 0], b = n[1, 4] / n[1, 1], tx = n[2, 4] / n[2, 2], ty = n[3, 4] / n[3, 3];
        return new AffineTransform(a, -b, tx, b, a, ty);
    }
}
