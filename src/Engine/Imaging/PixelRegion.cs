namespace CodeFormer.Engine.Imaging;

/// <summary>An axis-aligned block of pixels [X, X+Width) × [Y, Y+Height) in some image's coordinates.</summary>
public readonly record struct PixelRegion(int X, int Y, int Width, int Height)
{
    public bool IsEmpty => Width <= 0 || Height <= 0;

    public int Right => X + Width;

    public int Bottom => Y + Height;

    public static PixelRegion Whole(int width, int height) => new(0, 0, width, height);

    /// <summary>The part of this region inside [0, width) × [0, height); empty when they do not overlap.</summary>
    public PixelRegion ClipTo(int width, int height)
    {
        int x0 = Math.Max(X, 0), y0 = Math.Max(Y, 0);
        int x1 = Math.Min(Right, width), y1 = Math.Min(Bottom, height);
        return x1 <= x0 || y1 <= y0 ? new PixelRegion(0, 0, 0, 0) : new PixelRegion(x0, y0, x1 - x0, y1 - y0);
    }

    public PixelRegion Inflate(int margin) => new(X - margin, Y - margin, Width + 2 * margin, Height + 2 * margin);
}
