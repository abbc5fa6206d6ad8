using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Tests.Imaging;

public sealed class GaussianBlurTests
{
    [Fact]
    public void AutoSigmaFollowsOpenCvsFormula()
    {
        Assert.Equal(8.0, GaussianBlur.AutoSigma(51), 12);
        Assert.Equal(0.3 * ((101 - 1) * 0.5 - 1) + 0.8, GaussianBlur.AutoSigma(101), 12);
        var kernel = GaussianBlur.Kernel(51, 0);
        Assert.Equal(1.0, kernel.Sum(v => (double)v), 5);
        Assert.Equal(kernel[25 - 7], kernel[25 + 7]);
        // Neighbouring taps of a σ = 8 Gaussian: ratio exp((x₁² − x₀²)/(2σ²)).
        Assert.Equal(Math.Exp((11.0 * 11 - 10 * 10) / (2 * 64.0)), kernel[25 + 10] / (double)kernel[25 + 11], 5);
    }

    [Fact]
    public void SmallAutoKernelsUseOpenCvsFixedTables()
    {
        Assert.Equal([0.25f, 0.5f, 0.25f], GaussianBlur.Kernel(3, 0));
        Assert.Equal([0.0625f, 0.25f, 0.375f, 0.25f, 0.0625f], GaussianBlur.Kernel(5, 0));
        Assert.Equal(0.28125f, GaussianBlur.Kernel(7, 0)[3]);
        Assert.Equal(60f / 256, GaussianBlur.Kernel(9, 0)[4]);
        // An explicit σ bypasses the tables.
        Assert.NotEqual(0.25f, GaussianBlur.Kernel(3, 2.0)[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => GaussianBlur.Kernel(4, 0));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(11)]
    [InlineData(51)]
    public void MatchesADirectTwoDimensionalConvolutionWithReflect101(int size)
    {
        var random = new Random(size);
        var plane = new FloatPlane(23, 17, Enumerable.Range(0, 23 * 17).Select(_ => (float)random.NextDouble()).ToArray());
        var kernel = GaussianBlur.Kernel(size, 0);
        var blurred = GaussianBlur.Apply(plane, size);
        int r = size / 2;
        for (int y = 0; y < plane.Height; y++)
        {
            for (int x = 0; x < plane.Width; x++)
            {
                double sum = 0;
                for (int j = -r; j <= r; j++)
                {
                    for (int i = -r; i <= r; i++)
                    {
                        sum += kernel[j + r] * kernel[i + r] * plane[Reflect(x + i, plane.Width), Reflect(y + j, plane.Height)];
                    }
                }
                Assert.Equal(sum, blurred[x, y], 4);
            }
        }
    }

    [Fact]
    public void ConstantPlanesStayConstant()
    {
        var blurred = GaussianBlur.Apply(FloatPlane.Filled(40, 3, 0.75f), 51);
        Assert.All(blurred.Values, v => Assert.Equal(0.75f, v, 5));
    }

    /// <summary>gfedcb|abcdefgh|gfedcba, written out independently of the implementation.</summary>
    private static int Reflect(int p, int n)
    {
        int period = 2 * n - 2;
        p = ((p % period) + period) % period;
        return p < n ? p : period - p;
    }
}
