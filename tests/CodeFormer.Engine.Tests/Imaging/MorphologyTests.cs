using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Tests.Imaging;

public sealed class MorphologyTests
{
    private static FloatPlane RandomPlane(int w, int h, int seed)
    {
        var random = new Random(seed);
        return new FloatPlane(w, h, Enumerable.Range(0, w * h).Select(_ => (float)random.NextDouble()).ToArray());
    }

    /// <summary>The definition of cv2.erode with a k×k ones kernel, anchor k/2, outside pixels ignored.</summary>
    private static float BruteForce(FloatPlane p, int x, int y, int k)
    {
        float best = float.PositiveInfinity;
        for (int dy = 0; dy < k; dy++)
        {
            for (int dx = 0; dx < k; dx++)
            {
                int sx = x + dx - k / 2, sy = y + dy - k / 2;
                if (sx >= 0 && sy >= 0 && sx < p.Width && sy < p.Height)
                {
                    best = Math.Min(best, p[sx, sy]);
                }
            }
        }
        return best;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(10)]
    [InlineData(40)]
    public void MatchesTheWindowMinimumDefinition(int k)
    {
        var plane = RandomPlane(33, 26, k);
        var eroded = Morphology.Erode(plane, k);
        for (int y = 0; y < plane.Height; y++)
        {
            for (int x = 0; x < plane.Width; x++)
            {
                Assert.Equal(BruteForce(plane, x, y, k), eroded[x, y]);
            }
        }
    }

    [Fact]
    public void EvenKernelsReachBackwardsFromTheAnchor()
    {
        // Side 2, anchor 1: out(x) = min(in(x − 1), in(x)), so a single hole spreads right and down only.
        var plane = FloatPlane.Filled(20, 20, 1f);
        plane.Values[10 * 20 + 10] = 0;
        var eroded = Morphology.Erode(plane, 2);
        var holes = Enumerable.Range(0, 400).Where(i => eroded.Values[i] == 0).Select(i => (i % 20, i / 20)).ToArray();
        Assert.Equal([(10, 10), (11, 10), (10, 11), (11, 11)], holes);
    }

    [Fact]
    public void AnEmptyKernelMeansThreeByThreeAsInOpenCv()
    {
        var plane = RandomPlane(15, 12, 3);
        Assert.Equal(Morphology.Erode(plane, 3).Values, Morphology.Erode(plane, 0).Values);
    }

    [Fact]
    public void TheImageBorderDoesNotErode()
    {
        var ones = FloatPlane.Filled(30, 10, 1f);
        Assert.All(Morphology.Erode(ones, 9).Values, v => Assert.Equal(1f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => Morphology.Erode(ones, -1));
    }
}
