using CodeFormer.Engine.Compositing;
using CodeFormer.Engine.Geometry;
using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Tests.Compositing;

public sealed class FeatherMaskTests
{
    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    [InlineData(3, 6)]
    [InlineData(4, 8)]
    public void TheFirstErosionIsTwiceTheUpscale(int upscale, int side) => Assert.Equal(side, FeatherMask.BorderErosionSide(upscale));

    [Theory]
    [InlineData(511.0 * 511, 25)]
    [InlineData(512.0 * 512, 25)]
    [InlineData(399, 0)]
    [InlineData(400, 1)]
    [InlineData(1024.0 * 1024, 51)]
    public void EdgeWidthIsTheIntegerRootOverTwenty(double area, int expected) => Assert.Equal(expected, FeatherMask.EdgeWidth(area));

    [Fact]
    public void A512FaceAtScaleOneHasTheDocumentedFeather()
    {
        // ones(512²) placed at an integer offset: the 2×2 erosion (anchor 1) eats the first row and column,
        // leaving 511² = 261,121 px, so w_edge = 511 // 20 = 25 (the reference's derived example).
        var square = AffineWarper.Warp(FloatPlane.Filled(512, 512, 1f), new AffineTransform(1, 0, 100, 0, 1, 80), 720, 680, WarpBorder.Zero);
        var mask = FeatherMask.Build(square, upscale: 1);

        Assert.Equal(511.0 * 511, mask.Area);
        Assert.Equal(25, mask.EdgeWidth);
        Assert.Equal(0f, mask.Eroded[100, 300]);
        Assert.Equal(1f, mask.Eroded[101, 300]);
        Assert.Equal(1f, mask.Eroded[611, 591]);

        float tail = GaussianBlur.Kernel(51, 0)[0] * 1.0001f;
        for (int y = 0; y < 680; y++)
        {
            for (int x = 0; x < 720; x++)
            {
                float soft = mask.Soft[x, y];
                Assert.InRange(soft, 0f, 1.000001f);
                // Zero outside the eroded square, except that the even 50-px erosion (anchor 25) sits one pixel
                // off centre, so the blur's last tap reaches one pixel past the right/bottom edge (as in OpenCV).
                bool outside = x < 101 || x > 611 || y < 81 || y > 591;
                if (outside)
                {
                    Assert.True(x <= 612 && y <= 592 ? soft <= tail : soft == 0f, $"soft mask {soft} at ({x}, {y})");
                }
                // Deep inside: beyond the second erosion (25 px) plus the blur radius (25 px).
                bool deep = x >= 101 + 51 && x <= 611 - 51 && y >= 81 + 51 && y <= 591 - 51;
                if (deep)
                {
                    Assert.Equal(1f, soft, 5);
                }
            }
        }
        // The feather ramps across the band: half-way values exist near the eroded edge.
        Assert.InRange(mask.Soft[101 + 25, 336], 0.3f, 0.7f);
    }

    [Fact]
    public void TinyFacesUseTheThreeByThreeFallbackAndNoBlur()
    {
        var square = AffineWarper.Warp(FloatPlane.Filled(12, 12, 1f), new AffineTransform(1, 0, 5, 0, 1, 5), 30, 30, WarpBorder.Zero);
        var mask = FeatherMask.Build(square, upscale: 1);
        Assert.Equal(121.0, mask.Area);
        Assert.Equal(0, mask.EdgeWidth);
        Assert.Equal(Morphology.Erode(mask.Eroded, 3).Values, mask.Soft.Values);
        Assert.Throws<ArgumentOutOfRangeException>(() => FeatherMask.Build(square, 0));
    }
}
