using System.Numerics;

namespace CodeFormer.Engine.Imaging;

/// <summary>
/// <c>cv2.GaussianBlur</c> on float planes: separable, rows then columns, BORDER_REFLECT_101 (OpenCV's default),
/// with OpenCV's kernel (<see cref="Kernel"/>).
/// </summary>
public static class GaussianBlur
{
    /// <summary>
    /// <c>cv2.getGaussianKernel(size, sigma, CV_32F)</c>. With sigma ≤ 0 it is "auto":
    /// σ = 0.3·((size − 1)·0.5 − 1) + 0.8, except that odd sizes up to 9 use OpenCV 4's fixed tables
    /// (1), (¼ ½ ¼), (1 4 6 4 1)/16, (1 7 14 18 14 7 1)/64, (4 13 30 51 60 51 30 13 4)/256 — paste-back hits these
    /// for faces 20–100 px wide (checked against cv2.getGaussianKernel of OpenCV 4.6).
    /// </summary>
    public static float[] Kernel(int size, double sigma)
    {
        if (size <= 0 || size % 2 == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"Gaussian kernel size must be odd and positive, got {size}.");
        }
        float[]? fixedKernel = sigma <= 0 && size <= 9
            ? size switch
            {
                1 => [1f],
                3 => [0.25f, 0.5f, 0.25f],
                5 => [0.0625f, 0.25f, 0.375f, 0.25f, 0.0625f],
                7 => [0.03125f, 0.109375f, 0.21875f, 0.28125f, 0.21875f, 0.109375f, 0.03125f],
                _ => [4f / 256, 13f / 256, 30f / 256, 51f / 256, 60f / 256, 51f / 256, 30f / 256, 13f / 256, 4f / 256],
            }
            : null;
        double s = sigma > 0 ? sigma : AutoSigma(size);
        double scale2 = -0.5 / (s * s);
        var kernel = new float[size];
        double sum = 0;
        for (int i = 0; i < size; i++)
        {
            double x = i - (size - 1) * 0.5;
            kernel[i] = fixedKernel is not null ? fixedKernel[i] : (float)Math.Exp(scale2 * x * x);
            sum += kernel[i];
        }
        sum = 1.0 / sum;
        for (int i = 0; i < size; i++)
        {
            kernel[i] = (float)(kernel[i] * sum);
        }
        return kernel;
    }

    /// <summary>OpenCV's σ for a given kernel size when σ is left at 0.</summary>
    public static double AutoSigma(int size) => 0.3 * ((size - 1) * 0.5 - 1) + 0.8;

    public static FloatPlane Apply(FloatPlane src, int kernelSize, double sigma = 0)
    {
        ArgumentNullException.ThrowIfNull(src);
        var kernel = Kernel(kernelSize, sigma);
        return kernelSize == 1
            ? new FloatPlane(src.Width, src.Height, (float[])src.Values.Clone())
            : PlaneTranspose.FilterRowsThenColumns(src, (data, width, height) => ConvolveRows(data, width, height, kernel));
    }

    /// <summary><see cref="Apply"/> over the plane's own values (for an intermediate plane nobody else reads): same values, no copy.</summary>
    public static void ApplyInPlace(FloatPlane plane, int kernelSize, double sigma = 0)
    {
        ArgumentNullException.ThrowIfNull(plane);
        var kernel = Kernel(kernelSize, sigma);
        if (kernelSize > 1)
        {
            PlaneTranspose.FilterRowsThenColumnsInPlace(plane, (data, width, height) => ConvolveRows(data, width, height, kernel));
        }
    }

    /// <summary>OpenCV's borderInterpolate for BORDER_REFLECT_101 (…2 1 | 0 1 2 … n−1 | n−2 …), iterated for long kernels.</summary>
    internal static int Reflect101(int p, int length)
    {
        if (length == 1)
        {
            return 0;
        }
        while ((uint)p >= (uint)length)
        {
            p = p < 0 ? -p : 2 * length - 2 - p;
        }
        return p;
    }

    private static void ConvolveRows(float[] data, int width, int height, float[] kernel)
    {
        int radius = kernel.Length / 2;
        int padded = width + 2 * radius;
        if ((long)width * height < PlaneTranspose.ParallelThreshold)
        {
            // A small plane (paste-back's feather): one thread, one set of line buffers.
            var single = (Line: new float[padded], Sum: new float[width]);
            for (int y = 0; y < height; y++)
            {
                ConvolveRow(y, single);
            }
            return;
        }
        Parallel.For(0, height,
            () => (Line: new float[padded], Sum: new float[width]),
            (y, _, buffers) => ConvolveRow(y, buffers),
            _ => { });

        (float[] Line, float[] Sum) ConvolveRow(int y, (float[] Line, float[] Sum) buffers)
        {
            var (line, sum) = buffers;
            var row = data.AsSpan(y * width, width);
            row.CopyTo(line.AsSpan(radius));
            for (int i = 0; i < radius; i++)
            {
                line[i] = row[Reflect101(i - radius, width)];
                line[radius + width + i] = row[Reflect101(width + i, width)];
            }
            // Symmetric kernel, as OpenCV's symmetric row filter: centre tap plus pairs k[j]·(x[+j] + x[−j]).
            // Vectorised across output pixels.
            var lineSpan = line.AsSpan();
            float centre = kernel[radius];
            int vw = Vector<float>.Count;
            int x = 0;
            for (; x + vw <= width; x += vw)
            {
                var acc = new Vector<float>(lineSpan.Slice(x + radius, vw)) * centre;
                for (int j = 1; j <= radius; j++)
                {
                    var pair = new Vector<float>(lineSpan.Slice(x + radius + j, vw)) + new Vector<float>(lineSpan.Slice(x + radius - j, vw));
                    acc += pair * kernel[radius + j];
                }
                acc.CopyTo(sum.AsSpan(x));
            }
            for (; x < width; x++)
            {
                float acc = line[x + radius] * centre;
                for (int j = 1; j <= radius; j++)
                {
                    acc += (line[x + radius + j] + line[x + radius - j]) * kernel[radius + j];
                }
                sum[x] = acc;
            }
            sum.AsSpan().CopyTo(row);
            return buffers;
        }
    }
}
