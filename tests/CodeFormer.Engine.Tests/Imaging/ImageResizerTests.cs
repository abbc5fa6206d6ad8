using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Tests.Imaging;

public sealed class ImageResizerTests
{
    private static RgbImage Gray(int width, int height, Func<int, int, float> value)
    {
        var image = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                float v = value(x, y);
                int i = (y * width + x) * 3;
                image.Pixels[i] = v;
                image.Pixels[i + 1] = v + 1;
                image.Pixels[i + 2] = v + 2;
            }
        }
        return image;
    }

    private static float At(RgbImage image, int x, int y, int channel = 0) => image.Pixels[(y * image.Width + x) * 3 + channel];

    /// <summary>
    /// The resize works in bands of 64 output rows and resizes horizontally only the rows each band reads; taller
    /// targets cross many band edges. Oracle: the whole horizontal pass, then the vertical one, in the same float
    /// order (as the resizer did before banding), so the results must be identical, not just close.
    /// </summary>
    [Theory]
    [InlineData(37, 70, 74, 140)] // s = 2, three bands
    [InlineData(37, 300, 30, 131)] // shrinking: each band reads more than twice its rows
    [InlineData(5, 64, 11, 129)] // one row past two whole bands
    public void Banded_bilinear_resize_is_identical_to_the_whole_image_pass(int w, int h, int newW, int newH)
    {
        var src = Gray(w, h, (x, y) => (x * 37 + y * 11) % 256 + 0.25f);

        var resized = ImageResizer.ResizeBilinear(src, newW, newH);

        static (int, int, float)[] Taps(int size, int newSize) => Enumerable.Range(0, newSize).Select(d =>
        {
            float f = (float)((d + 0.5) * ((double)size / newSize) - 0.5);
            int s0 = (int)MathF.Floor(f);
            f -= s0;
            if (s0 < 0) { s0 = 0; f = 0; }
            if (s0 >= size - 1) { s0 = size - 1; f = 0; }
            return (s0, Math.Min(s0 + 1, size - 1), f);
        }).ToArray();
        var xs = Taps(w, newW);
        var ys = Taps(h, newH);
        var rows = new float[h * newW * 3];
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < newW; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    float sum = 0;
                    sum += src.Pixels[(y * w + xs[x].Item1) * 3 + c] * (1 - xs[x].Item3);
                    sum += src.Pixels[(y * w + xs[x].Item2) * 3 + c] * xs[x].Item3;
                    rows[(y * newW + x) * 3 + c] = sum;
                }
            }
        }
        for (int y = 0; y < newH; y++)
        {
            for (int i = 0; i < newW * 3; i++)
            {
                float value = 0;
                value += rows[ys[y].Item1 * newW * 3 + i] * (1 - ys[y].Item3);
                value += rows[ys[y].Item2 * newW * 3 + i] * ys[y].Item3;
                Assert.Equal(value, resized.Pixels[y * newW * 3 + i]);
            }
        }
    }

    [Theory]
    [InlineData(10, 7, 3, 5)]
    [InlineData(10, 7, 23, 1)]
    [InlineData(1, 1, 9, 4)]
    [InlineData(9, 4, 1, 1)]
    public void ConstantImageStaysConstant(int w, int h, int newW, int newH)
    {
        var src = Gray(w, h, (_, _) => 77.25f);
        foreach (var resized in new[] { ImageResizer.ResizeBilinear(src, newW, newH), ImageResizer.ResizeArea(src, newW, newH) })
        {
            Assert.Equal(newW, resized.Width);
            Assert.Equal(newH, resized.Height);
            for (int y = 0; y < newH; y++)
            {
                for (int x = 0; x < newW; x++)
                {
                    Assert.Equal(77.25f, At(resized, x, y, 0), 3);
                    Assert.Equal(78.25f, At(resized, x, y, 1), 3);
                    Assert.Equal(79.25f, At(resized, x, y, 2), 3);
                }
            }
        }
    }

    [Fact]
    public void AreaHalvingIsTheMeanOfTwoByTwoBlocks()
    {
        var random = new Random(3);
        var src = Gray(8, 6, (_, _) => random.Next(0, 256));
        var half = ImageResizer.ResizeArea(src, 4, 3);
        for (int y = 0; y < 3; y++)
        {
            for (int x = 0; x < 4; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    float mean = (At(src, 2 * x, 2 * y, c) + At(src, 2 * x + 1, 2 * y, c)
                        + At(src, 2 * x, 2 * y + 1, c) + At(src, 2 * x + 1, 2 * y + 1, c)) / 4;
                    Assert.Equal(mean, At(half, x, y, c), 4);
                }
            }
        }
    }

    [Fact]
    public void AreaShrinkByNonIntegerFactorUsesFractionalCoverage()
    {
        // 3 → 2: cell 0 covers pixel 0 fully and half of pixel 1; cell 1 the other half of pixel 1 and pixel 2.
        var src = Gray(3, 1, (x, _) => x * 3);
        var shrunk = ImageResizer.ResizeArea(src, 2, 1);
        Assert.Equal((2 * 0 + 3) / 3f, At(shrunk, 0, 0), 5);
        Assert.Equal((3 + 2 * 6) / 3f, At(shrunk, 1, 0), 5);
    }

    [Fact]
    public void AreaEnlargingFollowsOpenCvAreaPhaseKernel()
    {
        // OpenCV's INTER_AREA repeats pixels for integer upscales and interpolates with its own phase otherwise.
        var src = Gray(2, 1, (x, _) => x * 10);
        var doubled = ImageResizer.ResizeArea(src, 4, 1);
        Assert.Equal(new[] { 0f, 0f, 10f, 10f }, Enumerable.Range(0, 4).Select(x => At(doubled, x, 0)));
        var threeHalves = ImageResizer.ResizeArea(src, 3, 1);
        Assert.Equal(new[] { 0f, 5f, 10f }, Enumerable.Range(0, 3).Select(x => At(threeHalves, x, 0)));
    }

    [Fact]
    public void BilinearDoublingOfARampMatchesHalfPixelCentres()
    {
        var src = Gray(4, 1, (x, _) => x);
        var doubled = ImageResizer.ResizeBilinear(src, 8, 1);
        // sx = dx/2 − 0.25, clamped to the edge pixels: the values cv2.resize gives for a float ramp.
        float[] expected = [0f, 0.25f, 0.75f, 1.25f, 1.75f, 2.25f, 2.75f, 3f];
        for (int x = 0; x < 8; x++)
        {
            Assert.Equal(expected[x], At(doubled, x, 0), 5);
        }
    }

    [Fact]
    public void BilinearIsSeparableInBothAxes()
    {
        var src = Gray(4, 4, (x, y) => x + 10 * y);
        var doubled = ImageResizer.ResizeBilinear(src, 8, 8);
        float[] ramp = [0f, 0.25f, 0.75f, 1.25f, 1.75f, 2.25f, 2.75f, 3f];
        for (int y = 0; y < 8; y++)
        {
            for (int x = 0; x < 8; x++)
            {
                Assert.Equal(ramp[x] + 10 * ramp[y], At(doubled, x, y), 4);
            }
        }
    }

    [Fact]
    public void SinglePixelAndOddSizesWork()
    {
        var src = Gray(5, 3, (x, y) => x * 7 + y);
        var one = ImageResizer.ResizeArea(src, 1, 1);
        float mean = Enumerable.Range(0, 15).Select(i => At(src, i % 5, i / 5)).Average();
        Assert.Equal(mean, At(one, 0, 0), 4);

        var fromOne = ImageResizer.ResizeBilinear(Gray(1, 1, (_, _) => 42), 3, 5);
        Assert.All(Enumerable.Range(0, 15), i => Assert.Equal(42f, At(fromOne, i % 3, i / 3)));

        var odd = ImageResizer.ResizeBilinear(src, 7, 3);
        // Same height: rows are untouched vertically; the first and last columns are the edge pixels.
        Assert.Equal(At(src, 0, 1), At(odd, 0, 1), 5);
        Assert.Equal(At(src, 4, 2), At(odd, 6, 2), 5);
    }

    [Fact]
    public void AlphaPlaneIsResizedWithTheImage()
    {
        var src = Gray(4, 2, (x, _) => x);
        var withAlpha = new RgbImage(4, 2, src.Pixels) { Alpha = [0, 100, 200, 255, 0, 100, 200, 255] };
        var half = ImageResizer.ResizeArea(withAlpha, 2, 1);
        Assert.NotNull(half.Alpha);
        Assert.Equal([50f, 227.5f], half.Alpha!);
        var grown = ImageResizer.ResizeBilinear(withAlpha, 8, 2);
        Assert.Equal(16, grown.Alpha!.Length);
        Assert.Null(ImageResizer.ResizeBilinear(src, 2, 2).Alpha);
    }

    [Fact]
    public void PlaneResizeMatchesImageResize()
    {
        var random = new Random(5);
        var src = Gray(9, 5, (_, _) => random.Next(0, 256));
        var plane = Enumerable.Range(0, 45).Select(i => At(src, i % 9, i / 9)).ToArray();
        var resizedPlane = ImageResizer.ResizePlaneBilinear(plane, 9, 5, 13, 4);
        var resizedImage = ImageResizer.ResizeBilinear(src, 13, 4);
        for (int i = 0; i < 13 * 4; i++)
        {
            Assert.Equal(At(resizedImage, i % 13, i / 13), resizedPlane[i], 4);
        }
    }

    [Fact]
    public void BadSizesAreRejectedWithTheNumbers()
    {
        var src = Gray(2, 2, (_, _) => 0);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ImageResizer.ResizeBilinear(src, 0, 3));
        Assert.Contains("0×3", error.Message);
        var planeError = Assert.Throws<ArgumentException>(() => ImageResizer.ResizePlaneBilinear(new float[5], 2, 2, 4, 4));
        Assert.Contains("2×2", planeError.Message);
    }
}
