namespace CodeFormer.Engine.Detection;

/// <summary>
/// One tile of an image too large for a fixed-size detector input, in the coordinates of the resized image.
/// A face found in the tile is kept only when the tile owns it: its centre lies in the tile's core (the overlap
/// with each neighbour is split at its middle) and its box does not reach a side where the tile cuts the image
/// (a face cut by the tile edge is seen whole by the neighbour).
/// </summary>
internal sealed record DetectorTile(int X, int Y, int Width, int Height, float CoreX1, float CoreY1, float CoreX2, float CoreY2)
{
    /// <summary>How close (in detector pixels) a box may come to a cut side before it counts as cut.</summary>
    private const float CutMargin = 2;

    public bool Owns(DetectedFace faceInResizedImage, int imageWidth, int imageHeight)
    {
        var center = faceInResizedImage.Center;
        if (center.X < CoreX1 || center.X >= CoreX2 || center.Y < CoreY1 || center.Y >= CoreY2)
        {
            return false;
        }
        bool cutLeft = X > 0, cutTop = Y > 0, cutRight = X + Width < imageWidth, cutBottom = Y + Height < imageHeight;
        return !(cutLeft && faceInResizedImage.X1 < X + CutMargin)
            && !(cutTop && faceInResizedImage.Y1 < Y + CutMargin)
            && !(cutRight && faceInResizedImage.X2 > X + Width - CutMargin)
            && !(cutBottom && faceInResizedImage.Y2 > Y + Height - CutMargin);
    }
}

/// <summary>Covers an image with overlapping tiles of at most a fixed size.</summary>
internal static class DetectorTiling
{
    /// <param name="minOverlap">The least overlap between neighbouring tiles; faces up to about this size are always whole in their owner.</param>
    public static IReadOnlyList<DetectorTile> Cover(int width, int height, int tileWidth, int tileHeight, int minOverlap)
    {
        if (minOverlap < 0 || minOverlap >= Math.Min(tileWidth, tileHeight))
        {
            throw new ArgumentOutOfRangeException(nameof(minOverlap), $"Tile overlap {minOverlap} must be in [0, {Math.Min(tileWidth, tileHeight)}).");
        }
        var columns = Axis(width, tileWidth, minOverlap);
        var rows = Axis(height, tileHeight, minOverlap);
        var tiles = new List<DetectorTile>(columns.Count * rows.Count);
        foreach (var (y, h, coreY1, coreY2) in rows)
        {
            foreach (var (x, w, coreX1, coreX2) in columns)
            {
                tiles.Add(new DetectorTile(x, y, w, h, coreX1, coreY1, coreX2, coreY2));
            }
        }
        return tiles;
    }

    private static List<(int Start, int Length, float Core1, float Core2)> Axis(int size, int tile, int minOverlap)
    {
        if (size <= tile)
        {
            return [(0, size, float.NegativeInfinity, float.PositiveInfinity)];
        }
        int count = (int)Math.Ceiling((double)(size - minOverlap) / (tile - minOverlap));
        var starts = Enumerable.Range(0, count).Select(i => (int)Math.Round((double)i * (size - tile) / (count - 1))).ToArray();
        var axis = new List<(int, int, float, float)>(count);
        for (int i = 0; i < count; i++)
        {
            float core1 = i == 0 ? float.NegativeInfinity : (starts[i] + starts[i - 1] + tile) / 2f;
            float core2 = i == count - 1 ? float.PositiveInfinity : (starts[i + 1] + starts[i] + tile) / 2f;
            axis.Add((starts[i], tile, core1, core2));
        }
        return axis;
    }
}
