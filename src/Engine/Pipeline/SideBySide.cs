using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Pipeline;

/// <summary>A before/after image: the input enlarged to the output's height on the left, the output on the right.</summary>
public static class SideBySide
{
    public static RgbImage Compose(RgbImage before, RgbImage after)
    {
        var left = before.Height == after.Height
            ? before
            : ImageResizer.ResizeBilinear(before, Math.Max(1, (int)Math.Round((double)before.Width * after.Height / before.Height)), after.Height);
        var combined = new RgbImage(left.Width + after.Width, after.Height);
        for (int y = 0; y < after.Height; y++)
        {
            Array.Copy(left.Pixels, y * left.Stride, combined.Pixels, y * combined.Stride, left.Stride);
            Array.Copy(after.Pixels, y * after.Stride, combined.Pixels, y * combined.Stride + left.Stride, after.Stride);
        }
        return combined;
    }
}
