using CodeFormer.Engine.Geometry;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Tests.Geometry;

namespace CodeFormer.Engine.Tests.Imaging;

public sealed class AffineWarperTests
{
    [Fact]
    public void IdentityReturnsTheInputExactly()
    {
        var src = RgbImages.Noise(37, 23, 1);
        var warped = AffineWarper.Warp(src, AffineTransform.Identity, 37, 23, WarpBorder.Zero);
        Assert.Equal(src.Pixels, warped.Pixels);
    }

    [Fact]
    public void IntegerTranslationShiftsExactlyAndFillsWithTheBorderColour()
    {
        var src = RgbImages.Noise(30, 20, 2);
        var warped = AffineWarper.Warp(src, new AffineTransform(1, 0, 3, 0, 1, -2), 30, 20, WarpBorder.Constant(132, 133, 135));
        for (int y = 0; y < 20; y++)
        {
            for (int x = 0; x < 30; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    int sx = x - 3, sy = y + 2;
                    float expected = sx >= 0 && sy < 20 ? RgbImages.At(src, sx, sy, c) : (c == 0 ? 132f : c == 1 ? 133f : 135f);
                    Assert.Equal(expected, RgbImages.At(warped, x, y, c));
                }
            }
        }
    }

    [Fact]
    public void QuarterTurnAboutTheCentreMovesADrawnPointWhereExpected()
    {
        var src = RgbImages.Filled(65, 65, 0, 0, 0);
        RgbImages.Set(src, 40, 20, 255, 128, 7);
        // dst = R(p − c) + c with c = (32, 32) and a 90° counter-clockwise turn in image axes (x → −y, y → x).
        var turn = new AffineTransform(0, -1, 64, 1, 0, 0);
        var warped = AffineWarper.Warp(src, turn, 65, 65, WarpBorder.Zero);
        // (40, 20) − c = (8, −12) → (12, 8) + c = (44, 40).
        Assert.Equal(255f, RgbImages.At(warped, 44, 40, 0));
        Assert.Equal(128f, RgbImages.At(warped, 44, 40, 1));
        Assert.Equal(7f, RgbImages.At(warped, 44, 40, 2));
        Assert.Equal(255f, warped.Pixels.Where((_, i) => i % 3 == 0).Sum());
    }

    [Fact]
    public void ArbitraryRotationAboutTheCentreMovesABlobCentroidWhereExpected()
    {
        const int size = 129;
        var src = RgbImages.Filled(size, size, 0, 0, 0);
        (double X, double Y) blob = (90.3, 41.7);
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                double d2 = (x - blob.X) * (x - blob.X) + (y - blob.Y) * (y - blob.Y);
                float v = (float)(255 * Math.Exp(-d2 / (2 * 3.0 * 3.0)));
                RgbImages.Set(src, x, y, v, v, v);
            }
        }
        double angle = 30 * Math.PI / 180, cos = Math.Cos(angle), sin = Math.Sin(angle), centre = 64;
        var rotation = new AffineTransform(cos, -sin, centre - cos * centre + sin * centre, sin, cos, centre - sin * centre - cos * centre);
        var warped = AffineWarper.Warp(src, rotation, size, size, WarpBorder.Zero);

        double mass = 0, mx = 0, my = 0;
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                double v = RgbImages.At(warped, x, y, 0);
                mass += v;
                mx += v * x;
                my += v * y;
            }
        }
        var (ex, ey) = rotation.Apply(blob.X, blob.Y);
        Assert.Equal(ex, mx / mass, 1);
        Assert.Equal(ey, my / mass, 1);
        Assert.True(Math.Abs(mx / mass - ex) < 0.03 && Math.Abs(my / mass - ey) < 0.03, $"centroid ({mx / mass}, {my / mass}) vs ({ex}, {ey})");
    }

    [Fact]
    public void ConstantBorderColourAppearsOutsideTheSource()
    {
        var src = RgbImages.Noise(20, 20, 3);
        var warped = AffineWarper.Warp(src, new AffineTransform(0.5, 0, 40, 0, 0.5, 40), 100, 100, WarpBorder.Constant(132, 133, 135));
        foreach (var (x, y) in new[] { (0, 0), (99, 99), (45, 20), (20, 45), (38, 38), (51, 51) })
        {
            Assert.Equal([132f, 133f, 135f], [RgbImages.At(warped, x, y, 0), RgbImages.At(warped, x, y, 1), RgbImages.At(warped, x, y, 2)]);
        }
        Assert.NotEqual(132f, RgbImages.At(warped, 45, 45, 0));
    }

    [Fact]
    public void HalfPixelShiftAveragesNeighbours()
    {
        var src = RgbImages.Noise(10, 4, 4);
        var warped = AffineWarper.Warp(src, new AffineTransform(1, 0, -0.5, 0, 1, 0), 9, 4, WarpBorder.Zero);
        for (int x = 0; x < 9; x++)
        {
            Assert.Equal((RgbImages.At(src, x, 2, 1) + RgbImages.At(src, x + 1, 2, 1)) / 2, RgbImages.At(warped, x, 2, 1), 4);
        }
    }

    [Fact]
    public void SourcePositionsAreQuantisedToOneThirtySecondLikeOpenCv()
    {
        var src = RgbImages.Noise(12, 5, 5);
        // 0.01 px is below half a 1/32 step: OpenCV (and this warp) samples the pixel itself.
        var tiny = AffineWarper.Warp(src, new AffineTransform(1, 0, -0.01, 0, 1, 0), 12, 5, WarpBorder.Zero);
        Assert.Equal(RgbImages.At(src, 4, 2, 0), RgbImages.At(tiny, 4, 2, 0));
        // One step: 31/32 of this pixel and 1/32 of the next.
        var step = AffineWarper.Warp(src, new AffineTransform(1, 0, -1.0 / 32, 0, 1, 0), 12, 5, WarpBorder.Zero);
        float expected = RgbImages.At(src, 4, 2, 0) * (31f / 32) + RgbImages.At(src, 5, 2, 0) * (1f / 32);
        Assert.Equal(expected, RgbImages.At(step, 4, 2, 0), 3);
    }

    [Fact]
    public void RegionWarpEqualsTheSameBlockOfAFullWarp()
    {
        var src = RgbImages.Noise(40, 30, 6);
        var m = new AffineTransform(1.7, 0.4, -12.25, -0.4, 1.7, 9.5);
        var full = AffineWarper.Warp(src, m, 90, 80, WarpBorder.Zero);
        var region = new PixelRegion(13, 21, 50, 33);
        var block = new float[region.Width * region.Height * 3];
        AffineWarper.WarpInto(src.Pixels, src.Width, src.Height, 3, m, region, block, WarpBorder.Zero);
        for (int y = 0; y < region.Height; y++)
        {
            for (int x = 0; x < region.Width; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    Assert.Equal(RgbImages.At(full, region.X + x, region.Y + y, c), block[(y * region.Width + x) * 3 + c]);
                }
            }
        }
    }

    [Fact]
    public void NothingIsDrawnOutsideTheFootprint()
    {
        var ones = FloatPlane.Filled(50, 40, 1f);
        var m = new AffineTransform(0.8, -0.6, 70, 0.6, 0.8, 5);
        var warped = AffineWarper.Warp(ones, m, 160, 140, WarpBorder.Zero);
        var footprint = AffineWarper.FootprintOf(50, 40, m);
        for (int y = 0; y < 140; y++)
        {
            for (int x = 0; x < 160; x++)
            {
                bool inside = x >= footprint.X && x < footprint.Right && y >= footprint.Y && y < footprint.Bottom;
                if (!inside)
                {
                    Assert.Equal(0f, warped[x, y]);
                }
            }
        }
        Assert.Equal(1f, warped[footprint.X + footprint.Width / 2, footprint.Y + footprint.Height / 2]);
    }

    [Fact]
    public void PlaneWarpMatchesEachChannelOfTheColourWarp()
    {
        var src = RgbImages.Noise(25, 19, 7);
        var m = new AffineTransform(0.9, 0.2, 3.3, -0.2, 0.9, 4.1);
        var colour = AffineWarper.Warp(src, m, 30, 30, WarpBorder.Constant(9, 9, 9));
        var green = new FloatPlane(25, 19, src.Pixels.Where((_, i) => i % 3 == 1).ToArray());
        var plane = AffineWarper.Warp(green, m, 30, 30, WarpBorder.Constant(9));
        Assert.Equal(colour.Pixels.Where((_, i) => i % 3 == 1).ToArray(), plane.Values);
    }

    [Fact]
    public void ReplicateBorderWarpEqualsTheInterLinearResizeForADoubling()
    {
        // cv2.resize's grid is dst = 2·src + 0.5; its phases (¼, ¾) are exact in 1/32 steps, so the warp matches it.
        var src = RgbImages.Noise(21, 17, 8);
        var warped = AffineWarper.Warp(src, new AffineTransform(2, 0, 0.5, 0, 2, 0.5), 42, 34, WarpBorder.Replicate);
        var resized = ImageResizer.ResizeBilinear(src, 42, 34);
        for (int i = 0; i < warped.Pixels.Length; i++)
        {
            Assert.True(Math.Abs(resized.Pixels[i] - warped.Pixels[i]) <= 1e-3f, $"value {i}: resize {resized.Pixels[i]}, warp {warped.Pixels[i]}");
        }
    }

    [Fact]
    public void SingularTransformsAndMismatchedBuffersAreRejected()
    {
        var src = RgbImages.Noise(5, 5, 9);
        Assert.Contains("singular", Assert.Throws<ArgumentException>(() => AffineWarper.Warp(src, new AffineTransform(1, 2, 0, 2, 4, 0), 5, 5, WarpBorder.Zero)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => AffineWarper.Warp(src, AffineTransform.Identity, 0, 5, WarpBorder.Zero));
        Assert.Contains("does not match", Assert.Throws<ArgumentException>(() =>
            AffineWarper.WarpInto(src.Pixels, 5, 5, 3, AffineTransform.Identity, new PixelRegion(0, 0, 4, 4), new float[10], WarpBorder.Zero)).Message);
    }
}
