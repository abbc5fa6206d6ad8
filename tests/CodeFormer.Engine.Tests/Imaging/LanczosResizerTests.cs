using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Tests.Imaging;

public sealed class LanczosResizerTests
{
    [Theory]
    [InlineData(0.25f)]
    [InlineData(0.5f)]
    [InlineData(0.75f)]
    [InlineData(0.1f)]
    public void Coefficients_are_the_normalised_lanczos4_kernel(float x)
    {
        Span<float> actual = stackalloc float[8];
        LanczosResizer.Coefficients(x, actual);

        // Independent definition: L(d) = sinc(d)·sinc(d/4) at d = x + 3 − i, normalised to sum 1.
        var direct = new double[8];
        for (int i = 0; i < 8; i++)
        {
            double d = x + 3 - i;
            direct[i] = Math.Sin(Math.PI * d) / (Math.PI * d) * (Math.Sin(Math.PI * d / 4) / (Math.PI * d / 4));
        }
        double sum = direct.Sum();
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(direct[i] / sum, actual[i], 1e-5);
        }
    }

    /// <summary>
    /// The resize works in bands of 64 output rows, resizing horizontally only the rows each band's taps read. Oracle:
    /// the whole horizontal pass, then the vertical one, with the same coefficients in the same order (the resizer
    /// before banding), so the results must be identical.
    /// </summary>
    [Theory]
    [InlineData(13, 70, 26, 140)]
    [InlineData(13, 300, 9, 131)]
    public void Banded_resize_is_identical_to_the_whole_image_pass(int width, int height, int newWidth, int newHeight)
    {
        var source = Enumerable.Range(0, width * height * 3).Select(i => (float)(i * 37 % 251)).ToArray();
        var result = new float[newWidth * newHeight * 3];

        LanczosResizer.ResizePlane(source, width, height, 3, result, newWidth, newHeight);

        static (int[] Index, float[] Weight) Plan(int size, int newSize)
        {
            var index = new int[newSize * 8];
            var weight = new float[newSize * 8];
            for (int d = 0; d < newSize; d++)
            {
                float f = (float)((d + 0.5) * ((double)size / newSize) - 0.5);
                int s0 = (int)MathF.Floor(f);
                LanczosResizer.Coefficients(f - s0, weight.AsSpan(d * 8, 8));
                for (int k = 0; k < 8; k++)
                {
                    index[d * 8 + k] = Math.Clamp(s0 - 3 + k, 0, size - 1);
                }
            }
            return (index, weight);
        }
        var (xi, xw) = Plan(width, newWidth);
        var (yi, yw) = Plan(height, newHeight);
        var rows = new float[height * newWidth * 3];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < newWidth; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    float sum = 0;
                    for (int k = 0; k < 8; k++)
                    {
                        sum += source[(y * width + xi[x * 8 + k]) * 3 + c] * xw[x * 8 + k];
                    }
                    rows[(y * newWidth + x) * 3 + c] = sum;
                }
            }
        }
        for (int y = 0; y < newHeight; y++)
        {
            for (int i = 0; i < newWidth * 3; i++)
            {
                float value = 0;
                for (int k = 0; k < 8; k++)
                {
                    value += rows[yi[y * 8 + k] * newWidth * 3 + i] * yw[y * 8 + k];
                }
                Assert.Equal(value, result[y * newWidth * 3 + i]);
            }
        }
    }

    /// <summary>Every 7th value of cv2.resize(float32 image, INTER_LANCZOS4) from OpenCV 4.6.0 (Debian python3-opencv).</summary>
    public static TheoryData<int, int, int, int, float[]> OpenCvSamples => new()
    {
        { 7, 5, 11, 8, [-3.5346f, 93.2786f, 179.3448f, 156.8553f, 114.1588f, 107.1206f, 68.1914f, 167.8684f, 109.5269f, 231.5266f, 78.4937f, 170.998f, 146.5132f, 248.0631f, 82.8088f, 59.9985f, 152.6622f, 70.0199f, 220.8464f, 75.3844f, 169.1927f, 136.0972f, 163.9466f, 94.3259f, 45.801f, 153.4861f, 259.1346f, 212.5162f, 62.6688f, 154.4156f, 128.5349f, 258.1875f, 69.8502f, 42.1089f, 139.0557f, 139.9056f, 222.1907f, 19.6318f] },
        { 12, 9, 5, 4, [29.61f, 154.5822f, 173.3393f, 276.6021f, 210.2608f, 11.9717f, 183.9661f, 230.0334f, 241.4748f] },
    };

    [Theory]
    [MemberData(nameof(OpenCvSamples))]
    public void Float_resize_matches_opencv_lanczos4(int width, int height, int newWidth, int newHeight, float[] expectedEvery7th)
    {
        // Test pattern (x·37 + y·11 + c·53) mod 256: edges and wrap-arounds exercise ringing and border replication.
        var source = new float[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    source[(y * width + x) * 3 + c] = (x * 37 + y * 11 + c * 53) % 256;
                }
            }
        }
        var result = new float[newWidth * newHeight * 3];

        LanczosResizer.ResizePlane(source, width, height, 3, result, newWidth, newHeight);

        var sampled = result.Where((_, i) => i % 7 == 0).ToArray();
        Assert.Equal(expectedEvery7th.Length, sampled.Length);
        for (int i = 0; i < sampled.Length; i++)
        {
            Assert.Equal(expectedEvery7th[i], sampled[i], 0.002f);
        }
    }

    [Fact]
    public void Same_size_is_an_exact_copy()
    {
        var image = new RgbImage(9, 5, TestModels.RandomValues(135, seed: 1, 0f, 255f)) { Alpha = TestModels.RandomValues(45, seed: 2, 0f, 255f) };

        var result = LanczosResizer.Resize(image, 9, 5);

        Assert.Equal(image.Pixels, result.Pixels);
        Assert.Equal(image.Alpha, result.Alpha);
    }

    [Fact]
    public void Downscale_by_three_samples_the_centre_pixel_like_opencv()
    {
        // src = (d + 0.5)·3 − 0.5 = 3d + 1 is an integer: OpenCV takes that pixel as is (no antialiasing).
        var image = new RgbImage(12, 9, TestModels.RandomValues(12 * 9 * 3, seed: 3, 0f, 255f));

        var result = LanczosResizer.Resize(image, 4, 3);

        for (int y = 0; y < 3; y++)
        {
            for (int x = 0; x < 4; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    Assert.Equal(image.Pixels[((3 * y + 1) * 12 + 3 * x + 1) * 3 + c], result.Pixels[(y * 4 + x) * 3 + c]);
                }
            }
        }
    }

    [Fact]
    public void Constant_image_stays_constant_when_enlarged()
    {
        var image = new RgbImage(5, 4, Enumerable.Repeat(100f, 60).ToArray());

        var result = LanczosResizer.Resize(image, 13, 7);

        Assert.All(result.Pixels, v => Assert.Equal(100f, v, 0.01f));
    }

    [Fact]
    public void Ringing_at_hard_edges_is_clamped_to_the_byte_range()
    {
        var pixels = new float[10 * 2 * 3];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (i / 3 % 10) < 5 ? 0f : 255f;
        }
        var unclamped = new float[23 * 5 * 3];

        LanczosResizer.ResizePlane(pixels, 10, 2, 3, unclamped, 23, 5);
        var clamped = LanczosResizer.Resize(new RgbImage(10, 2, pixels), 23, 5);

        Assert.Contains(unclamped, v => v < 0f || v > 255f);
        Assert.All(clamped.Pixels, v => Assert.InRange(v, 0f, 255f));
    }

    [Fact]
    public void Non_positive_target_is_refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => LanczosResizer.Resize(new RgbImage(4, 4), 0, 3));

        Assert.Contains("0×3", error.Message);
    }
}
