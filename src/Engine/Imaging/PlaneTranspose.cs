using System.Buffers;

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
        FilterRowsThenColumnsInPlace(result, filterRows);
        return result;
    }

    /// <summary>
    /// <see cref="FilterRowsThenColumns"/> over the plane's own values. The transposed copy is a pooled scratch array
    /// (paste-back filters three planes per face; each fresh copy was a large-object allocation).
    /// </summary>
    public static void FilterRowsThenColumnsInPlace(FloatPlane plane, Action<float[], int, int> filterRows)
    {
        filterRows(plane.Values, plane.Width, plane.Height);
        // Rented arrays may be longer: the filters and the transpose only touch the first width × height values.
        var transposed = ArrayPool<float>.Shared.Rent(plane.Values.Length);
        try
        {
            Transpose(plane.Values, plane.Width, plane.Height, transposed);
            filterRows(transposed, plane.Height, plane.Width);
            Transpose(transposed, plane.Height, plane.Width, plane.Values);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(transposed);
        }
    }

    /// <summary>
    /// Values from which a plane's rows are spread over the cores. Below it (a paste-back region of a few hundred pixels
    /// a side) the rows run on the calling thread: handing them out cost more CPU than the rows (and on a service's busy
    /// cores the pool's workers spin while they wait for work).
    /// </summary>
    public const int ParallelThreshold = 256 * 1024;

    /// <summary>Runs <paramref name="body"/> for rows [0, rows), in parallel only for planes of at least <see cref="ParallelThreshold"/> values.</summary>
    public static void ForRows(int rows, long planeValues, Action<int> body)
    {
        if (planeValues >= ParallelThreshold)
        {
            Parallel.For(0, rows, body);
            return;
        }
        for (int row = 0; row < rows; row++)
        {
            body(row);
        }
    }

    /// <summary>Transposes a <paramref name="width"/>×<paramref name="height"/> plane into <paramref name="dst"/> (height×width).</summary>
    public static void Transpose(float[] src, int width, int height, float[] dst)
    {
        int blockRows = (height + Block - 1) / Block;
        ForRows(blockRows, (long)width * height, blockRow =>
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
