using System.Numerics;
using CodeFormer.Engine.Detection;

namespace CodeFormer.Engine.Tests.Detection;

public sealed class DetectorTilingTests
{
    [Fact]
    public void ImageThatFitsIsOneTile()
    {
        var tile = Assert.Single(DetectorTiling.Cover(640, 463, 640, 640, 160, 32));
        Assert.Equal((0, 0, 640, 463), (tile.X, tile.Y, tile.Width, tile.Height));
    }

    [Fact]
    public void WideImageIsCoveredByOverlappingTilesSplitAtTheOverlapMiddle()
    {
        // Solvay at short side 640 is 884×640: 640-wide tiles every 480 px (a multiple of 32), overlapping by 160;
        // the second holds the last 404 columns and the rest of its canvas is padding.
        var tiles = DetectorTiling.Cover(884, 640, 640, 640, 160, 32);
        Assert.Equal(2, tiles.Count);
        Assert.Equal((0, 480), (tiles[0].X, tiles[1].X));
        Assert.Equal((640, 404), (tiles[0].Width, tiles[1].Width));
        Assert.All(tiles, t => Assert.Equal((0, 640), (t.Y, t.Height)));
        Assert.Equal(560f, tiles[0].CoreX2);
        Assert.Equal(560f, tiles[1].CoreX1);
    }

    [Theory]
    [InlineData(1920, 640)]
    [InlineData(641, 2000)]
    [InlineData(3000, 3000)]
    public void TilesCoverEveryPixelWithAtLeastTheMinimumOverlap(int width, int height)
    {
        var tiles = DetectorTiling.Cover(width, height, 640, 640, 160, 32);
        Assert.Equal(DetectorTiling.Count(width, height, 640, 640, 160, 32), tiles.Count);
        Assert.All(tiles, t => Assert.True(t.X >= 0 && t.Y >= 0 && t.X + t.Width <= width && t.Y + t.Height <= height));
        Assert.All(tiles, t => Assert.True(t.X % 32 == 0 && t.Y % 32 == 0, $"tile at ({t.X}, {t.Y}) is off the 32-px grid"));
        foreach (var starts in new[] { tiles.Select(t => t.X).Distinct().Order().ToArray(), tiles.Select(t => t.Y).Distinct().Order().ToArray() })
        {
            for (int i = 1; i < starts.Length; i++)
            {
                Assert.True(starts[i - 1] + 640 - starts[i] >= 160, $"overlap {starts[i - 1] + 640 - starts[i]} < 160");
            }
        }
        Assert.Equal(width, tiles.Max(t => t.X + t.Width));
        Assert.Equal(height, tiles.Max(t => t.Y + t.Height));
        // Cores partition the plane: every point belongs to exactly one tile.
        var random = new Random(1);
        for (int i = 0; i < 200; i++)
        {
            float x = random.NextSingle() * width, y = random.NextSingle() * height;
            Assert.Single(tiles, t => x >= t.CoreX1 && x < t.CoreX2 && y >= t.CoreY1 && y < t.CoreY2);
        }
    }

    [Fact]
    public void TileOwnsOnlyWholeFacesCentredInItsCore()
    {
        var tiles = DetectorTiling.Cover(884, 640, 640, 640, 160, 32);
        var (left, right) = (tiles[0], tiles[1]);
        static DetectedFace Face(float x1, float x2) => new(x1, 100, x2, 140, 0.9f, Enumerable.Repeat(new Vector2((x1 + x2) / 2, 120), 5).ToArray());

        var nearSeam = Face(540, 578);            // centre 559 < 560: the left tile's, and whole in it
        Assert.True(left.Owns(nearSeam, 884, 640));
        Assert.False(right.Owns(nearSeam, 884, 640));
        var cutByLeftTile = Face(620, 660);       // the left tile cuts it at x = 640; the right tile sees it whole
        Assert.True(left.Owns(Face(500, 540), 884, 640));
        Assert.False(left.Owns(cutByLeftTile, 884, 640));
        Assert.True(right.Owns(cutByLeftTile, 884, 640));
        var atImageEdge = Face(0, 30);            // touching the image border is not a cut
        Assert.True(left.Owns(atImageEdge, 884, 640));
    }

    [Fact]
    public void OverlapMustBeSmallerThanATile()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => DetectorTiling.Cover(1000, 1000, 640, 640, 620, 32));
        Assert.Contains("620", error.Message);
    }
}
