namespace CodeFormer.Engine.Imaging;

/// <summary>
/// Blocked transpose, so that separable filters can run their vertical pass as a cache-friendly row pass.
/// </summary>
internal static class PlaneTranspose
{
    private const int Block = 32;

    /// <summary>
    /// A separable filter's two passes: <paramref name="filterRows"/> (in place on data, width, height) over the rows,
    /// then over the columns by transposing, filtering rows, and transposing back. Returns a new plane.
    /// </summary>
    public static FloatPlane FilterRowsThenColumns(FloatPlane src, Action<float[], int, int> filterRows)
    {
        var result = new FloatPlane(src.Width, src.Height, (float[])src.Values.Clone());
        filterRows(result.Values, src.Width, src.Height);
        var transposed = new float[result.Values.Length];
        Transpose(result.Values, src.Width, src.Height, transposed);
        filterRows(transposed, src.Height, src.Width);
        Transpose(transposed, src.Height, src.Width, result.Values);
        return result;
    }

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
