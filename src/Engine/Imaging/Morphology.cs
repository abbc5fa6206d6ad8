namespace CodeFormer.Engine.Imaging;

/// <summary>
/// <c>cv2.erode</c> with a square all-ones kernel on float planes, as a separable min filter (rows, then columns).
/// OpenCV conventions kept: the anchor sits at kernelSide/2 (so an even kernel reaches one pixel further back
/// than forward), pixels outside the image never erode (OpenCV's default border value for erosion is +max),
/// and an empty kernel (side 0, as <c>np.ones((0, 0))</c> gives) means the default 3×3 rectangle.
/// Each 1-D pass is the van Herk / Gil–Werman algorithm: three comparisons per pixel whatever the kernel size,
/// which matters because the feather erosion for a large face is ~200 pixels wide.
/// </summary>
public static class Morphology
{
    public static FloatPlane Erode(FloatPlane src, int kernelSide)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (kernelSide < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(kernelSide), $"Kernel side {kernelSide} is negative.");
        }
        int side = kernelSide == 0 ? 3 : kernelSide;
        return side == 1
            ? new FloatPlane(src.Width, src.Height, (float[])src.Values.Clone())
            : PlaneTranspose.FilterRowsThenColumns(src, (data, width, height) => MinFilterRows(data, width, height, side));
    }

    /// <summary>In place: out[x] = min(in[x − side/2 .. x − side/2 + side − 1]), positions outside the row ignored.</summary>
    private static void MinFilterRows(float[] data, int width, int height, int side)
    {
        int anchor = side / 2;
        int padded = width + side - 1;
        if ((long)width * height < PlaneTranspose.ParallelThreshold)
        {
            // A small plane (paste-back's feather): one thread, one set of line buffers.
            var single = (Line: new float[padded], Forward: new float[padded], Backward: new float[padded]);
            for (int y = 0; y < height; y++)
            {
                FilterRow(y, single);
            }
            return;
        }
        Parallel.For(0, height,
            () => (Line: new float[padded], Forward: new float[padded], Backward: new float[padded]),
            (y, _, buffers) => FilterRow(y, buffers),
            _ => { });

        (float[] Line, float[] Forward, float[] Backward) FilterRow(int y, (float[] Line, float[] Forward, float[] Backward) buffers)
        {
            var (line, forward, backward) = buffers;
            var row = data.AsSpan(y * width, width);
            line.AsSpan().Fill(float.PositiveInfinity);
            row.CopyTo(line.AsSpan(anchor));
            // Running minima restarting at every multiple of side: forward and backward within each block.
            for (int start = 0; start < padded; start += side)
            {
                int end = Math.Min(start + side, padded);
                float run = line[start];
                forward[start] = run;
                for (int i = start + 1; i < end; i++)
                {
                    float v = line[i];
                    run = v < run ? v : run;
                    forward[i] = run;
                }
                run = line[end - 1];
                backward[end - 1] = run;
                for (int i = end - 2; i >= start; i--)
                {
                    float v = line[i];
                    run = v < run ? v : run;
                    backward[i] = run;
                }
            }
            for (int x = 0; x < width; x++)
            {
                // The window [x, x + side − 1] spans at most two blocks: the tail of one and the head of the next.
                float tail = backward[x], head = forward[x + side - 1];
                row[x] = tail < head ? tail : head;
            }
            return buffers;
        }
    }
}
