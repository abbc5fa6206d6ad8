namespace CodeFormer.Engine.Imaging;

/// <summary>
/// Blocked transpose, so that separable filters can run their vertical pass as a cache-friendly row pass.
/// </summary>
internal static class PlaneTranspose
{
    private const int Block = 32;

    /// <summary>Transposes a <paramref name="width"/>×<paramref name="height"/> plane into <paramref name="dst"/> (height×width).</summary>
    public static void Transpose(float[] src, int width, int height, float[] dst)
    {
        int blockRows = (height + Block - 1) / Block;
        Parallel.For(0, blockRows, blockRow =>
        {
            int y0 = blockRow * Block, y1 = Math.Min(y0 + Block, height);
            for (int x0 = 0; x0 < width; x0 += Block)
            {
                int x1 = Math.Min(x0 + Block, width);
                for (int y = y0; y < y1; y++)
                {
                    int s = y * width;
                    for (int x = x0; x < x1; x++)
                    {
                        dst[x * height + y] = src[s + x];
                    }
                }
            }
        });
    }
}
