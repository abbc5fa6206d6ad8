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
    /// <param name="alignment">
    /// Tiles start at multiples of this (the network's largest stride, 32): the network then sees each tile on
    /// the same cell grid as the whole image, so a face inside a tile gets the same prediction as in one big run.
    /// The last tile may reach past the image; that part of the canvas is padding, as for a dynamic model.
    /// </param>
    public static IReadOnlyList<DetectorTile> Cover(int width, int height, int tileWidth, int tileHeight, int minOverlap, int alignment)
    {
        if (alignment < 1 || tileWidth - minOverlap < alignment || tileHeight - minOverlap < alignment || minOverlap < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(minOverlap),
                $"Tile overlap {minOverlap} with alignment {alignment} leaves no step in a {tileWidth}×{tileHeight} tile.");
        }
        var columns = Axis(width, tileWidth, minOverlap, alignment);
        var rows = Axis(height, tileHeight, minOverlap, alignment);
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

    /// <summary>How many tiles <see cref="Cover"/> would make, without making them.</summary>
    public static long Count(int width, int height, int tileWidth, int tileHeight, int minOverlap, int alignment) =>
        (long)AxisCount(width, tileWidth, minOverlap, alignment) * AxisCount(height, tileHeight, minOverlap, alignment);

    private static int Step(int tile, int minOverlap, int alignment) => (tile - minOverlap) / alignment * alignment;

    private static int AxisCount(int size, int tile, int minOverlap, int alignment) =>
        size <= tile ? 1 : 1 + (int)Math.Ceiling((double)(size - tile) / Step(tile, minOverlap, alignment));

    private static List<(int Start, int Length, float Core1, float Core2)> Axis(int size, int tile, int minOverlap, int alignment)
    {
        if (size <= tile)
        {
            return [(0, size, float.NegativeInfinity, float.PositiveInfinity)];
        }
        int step = Step(tile, minOverlap, alignment);
        int count = AxisCount(size, tile, minOverlap, alignment);
        var axis = new List<(int, int, float, float)>(count);
        for (int i = 0; i < count; i++)
        {
            int start = i * step;
            // Each overlap is split at its middle (overlaps lie inside the image: only the last tile reaches past it).
            float core1 = i == 0 ? float.NegativeInfinity : (start + (start - step) + tile) / 2f;
            float core2 = i == count - 1 ? float.PositiveInfinity : (start + step + start + tile) / 2f;
            axis.Add((start, Math.Min(tile, size - start), core1, core2));
        }
        return axis;
    }
}
