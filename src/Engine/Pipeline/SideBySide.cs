using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Pipeline;

/// <summary>A before/after image: the input enlarged to the output's height on the left, the output on the right.</summary>
public static class SideBySide
{
    /// <summary>
    /// The same image as <see cref="Compose"/>, encoded as PNG band by band: the enlarged "before" and the combined image
    /// are never held whole (at s = 2 on 24 MP they were 1.15 GB and 2.3 GB of float beside the result).
    /// </summary>
    public static byte[] EncodePng(RgbImage before, RgbImage after, ImageEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        ArgumentNullException.ThrowIfNull(encoder);
        bool resize = before.Height != after.Height;
        int leftWidth = resize ? LeftWidth(before, after) : before.Width;
        int width = leftWidth + after.Width;
        float[] left = [];
        return encoder.EncodePngRows(width, after.Height, (firstRow, rowCount, rgb) =>
        {
            if (resize && left.Length < rowCount * leftWidth * 3)
            {
                left = new float[rowCount * leftWidth * 3];
            }
            if (resize)
            {
                ImageResizer.ResizeBilinearRows(before, leftWidth, after.Height, firstRow, rowCount, left.AsSpan(0, rowCount * leftWidth * 3));
            }
            for (int r = 0; r < rowCount; r++)
            {
                var row = rgb.Slice(r * width * 3, width * 3);
                var leftRow = resize
                    ? left.AsSpan(r * leftWidth * 3, leftWidth * 3)
                    : before.Pixels.AsSpan((firstRow + r) * before.Stride, before.Stride);
                leftRow.CopyTo(row);
                after.Pixels.AsSpan((firstRow + r) * after.Stride, after.Stride).CopyTo(row[(leftWidth * 3)..]);
            }
        });
    }

    private static int LeftWidth(RgbImage before, RgbImage after) =>
        Math.Max(1, (int)Math.Round((double)before.Width * after.Height / before.Height));

    public static RgbImage Compose(RgbImage before, RgbImage after)
    {
        var left = before.Height == after.Height
            ? before
            : ImageResizer.ResizeBilinear(before, LeftWidth(before, after), after.Height);
        var combined = new RgbImage(left.Width + after.Width, after.Height);
        for (int y = 0; y < after.Height; y++)
        {
            Array.Copy(left.Pixels, y * left.Stride, combined.Pixels, y * combined.Stride, left.Stride);
            Array.Copy(after.Pixels, y * after.Stride, combined.Pixels, y * combined.Stride + left.Stride, after.Stride);
        }
        return combined;
    }
}
