using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CodeFormer.Engine.Geometry;

namespace CodeFormer.Engine.Imaging;

/// <summary>
/// <c>cv2.warpAffine</c> with INTER_LINEAR on float images, reproduced including OpenCV's sampling grid:
/// each destination pixel centre (integer x, y) is mapped back through the inverse matrix, and the source
/// position is quantised to 1/32 pixel exactly as OpenCV does (fixed point with 10 fractional bits, rounded,
/// then shifted to 5 bits: imgwarp.cpp, WarpAffineInvoker). The four taps are then weighted by the float
/// bilinear table OpenCV uses for float images. So for float input the result matches OpenCV's float path to
/// float rounding; against OpenCV on uint8 images (the reference's restored face is uint8) the only difference
/// is that OpenCV rounds its output to integers and uses 15-bit integer weights: at most 0.5 level apart.
/// </summary>
public static class AffineWarper
{
    private const int InterBits = 5;
    private const int InterTabSize = 1 << InterBits;
    private const int AbBits = 10;
    private const int AbScale = 1 << AbBits;
    private const int RoundDelta = AbScale / InterTabSize / 2;

    /// <summary>Bilinear weights for each 1/32 sub-pixel phase (fy·32 + fx)·4 + {TL, TR, BL, BR}, in float as OpenCV builds them.</summary>
    private static readonly float[] BilinearTable = BuildBilinearTable();

    /// <summary>Warps the colour planes; alpha is not carried (the reference drops alpha before aligning faces).</summary>
    public static RgbImage Warp(RgbImage src, AffineTransform srcToDst, int dstWidth, int dstHeight, WarpBorder border)
    {
        ArgumentNullException.ThrowIfNull(src);
        var dst = new RgbImage(dstWidth, dstHeight);
        WarpInto(src.Pixels, src.Width, src.Height, 3, srcToDst, PixelRegion.Whole(dstWidth, dstHeight), dst.Pixels, border);
        return dst;
    }

    /// <summary>Warps a single-channel plane (a mask); a constant border uses <see cref="WarpBorder.Red"/>.</summary>
    public static FloatPlane Warp(FloatPlane src, AffineTransform srcToDst, int dstWidth, int dstHeight, WarpBorder border)
    {
        ArgumentNullException.ThrowIfNull(src);
        var dst = new FloatPlane(dstWidth, dstHeight);
        WarpInto(src.Values, src.Width, src.Height, 1, srcToDst, PixelRegion.Whole(dstWidth, dstHeight), dst.Values, border);
        return dst;
    }

    /// <summary>
    /// Computes only <paramref name="region"/> of the full warped destination (pixels keep their full-image
    /// coordinates, so results are identical to cropping a full warp) into <paramref name="dst"/>, laid out as a
    /// region.Width × region.Height image with <paramref name="channels"/> interleaved channels.
    /// Paste-back uses this to touch only the face's bounding box of a large canvas.
    /// </summary>
    public static void WarpInto(
        float[] src, int srcWidth, int srcHeight, int channels, AffineTransform srcToDst, PixelRegion region, float[] dst, WarpBorder border)
    {
        ArgumentNullException.ThrowIfNull(src);
        ArgumentNullException.ThrowIfNull(dst);
        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), $"Only 1 or 3 interleaved channels are supported, got {channels}.");
        }
        if (srcWidth <= 0 || srcHeight <= 0 || src.Length != (long)srcWidth * srcHeight * channels)
        {
            throw new ArgumentException($"Source of {srcWidth}×{srcHeight}×{channels} does not match its {src.Length} values.", nameof(src));
        }
        if (region.IsEmpty || dst.Length != (long)region.Width * region.Height * channels)
        {
            throw new ArgumentException(
                $"Destination region {region.Width}×{region.Height}×{channels} does not match the {dst.Length} values given.", nameof(dst));
        }
        WarpCore(src, srcWidth, srcHeight, channels, srcToDst, region, border, new InterleavedSink(dst, region.Width, channels));
    }

    /// <summary>
    /// The alignment warp written straight into the network's layout: one face of <paramref name="dst"/>
    /// (NCHW planes of size², RGB, value/127.5 − 1), so the aligned face is made once, already normalised, instead of as an
    /// interleaved crop that is then packed. The warped values are the same floats <see cref="WarpInto"/> computes, and
    /// the normalisation the same expression <see cref="Pipeline.FaceTensorLayout.Pack"/> applies: bit-identical to warp + pack.
    /// </summary>
    public static void WarpToNetworkLayout(RgbImage src, AffineTransform srcToDst, int size, WarpBorder border, Span<float> dst)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (size <= 0 || dst.Length != 3L * size * size)
        {
            throw new ArgumentException($"A {size}² face in the network's layout holds {3L * size * size} values, the destination {dst.Length}.", nameof(dst));
        }
        unsafe
        {
            fixed (float* start = dst)
            {
                WarpCore(src.Pixels, src.Width, src.Height, 3, srcToDst, PixelRegion.Whole(size, size), border, new NetworkLayoutSink(start, size));
            }
        }
    }

    /// <summary>Where a warped sample goes: the destination layout is a type parameter so the inner loop is specialised for it.</summary>
    private interface IWarpSink
    {
        void Store(int row, int column, int channel, float value);
    }

    /// <summary>A region.Width-wide image with interleaved channels.</summary>
    private readonly struct InterleavedSink(float[] dst, int width, int channels) : IWarpSink
    {
        public void Store(int row, int column, int channel, float value) =>
            Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(dst), (row * width + column) * channels + channel) = value;
    }

    /// <summary>One face of the network's NCHW batch, normalised to [-1, 1] as FaceTensorLayout.Pack does. Pinned by the caller.</summary>
    private readonly unsafe struct NetworkLayoutSink(float* dst, int size) : IWarpSink
    {
        public void Store(int row, int column, int channel, float value) =>
            dst[channel * size * size + row * size + column] = value / 127.5f - 1f;
    }

    private static void WarpCore<TSink>(
        float[] src, int srcWidth, int srcHeight, int channels, AffineTransform srcToDst, PixelRegion region, WarpBorder border, TSink sink)
        where TSink : struct, IWarpSink
    {
        var inverse = InvertLikeOpenCv(srcToDst);

        // Per-column fixed-point increments, shared by every row (OpenCV's adelta/bdelta).
        var xStep = new int[region.Width];
        var yStep = new int[region.Width];
        for (int i = 0; i < region.Width; i++)
        {
            int x = region.X + i;
            xStep[i] = SaturateToInt(inverse.A * x * AbScale);
            yStep[i] = SaturateToInt(inverse.D * x * AbScale);
        }
        float b0 = border.Red, b1 = border.Green, b2 = border.Blue;
        bool constant = border.Mode == WarpBorderMode.Constant;

        // Rows in parallel only where a row is long enough to pay for a hand-off between threads: paste-back warps
        // regions of a few hundred pixels a side, where the parallel loop's scheduling cost more than the rows.
        void WarpRow(int row)
        {
            int y = region.Y + row;
            int x0 = SaturateToInt((inverse.B * y + inverse.C) * AbScale) + RoundDelta;
            int y0 = SaturateToInt((inverse.E * y + inverse.F) * AbScale) + RoundDelta;
            ref float table = ref MemoryMarshal.GetArrayDataReference(BilinearTable);
            ref float source = ref MemoryMarshal.GetArrayDataReference(src);
            for (int i = 0; i < region.Width; i++)
            {
                int fixedX = (x0 + xStep[i]) >> (AbBits - InterBits);
                int fixedY = (y0 + yStep[i]) >> (AbBits - InterBits);
                int sx = ClampToShort(fixedX >> InterBits);
                int sy = ClampToShort(fixedY >> InterBits);
                int w = (((fixedY & (InterTabSize - 1)) << InterBits) + (fixedX & (InterTabSize - 1))) * 4;
                float w0 = Unsafe.Add(ref table, w), w1 = Unsafe.Add(ref table, w + 1);
                float w2 = Unsafe.Add(ref table, w + 2), w3 = Unsafe.Add(ref table, w + 3);

                if (sx >= 0 && sy >= 0 && sx + 1 < srcWidth && sy + 1 < srcHeight)
                {
                    // Inside: all four taps exist (checked just above), so they are read without bounds checks.
                    int p = (sy * srcWidth + sx) * channels;
                    int below = p + srcWidth * channels;
                    for (int c = 0; c < channels; c++)
                    {
                        sink.Store(row, i, c, Unsafe.Add(ref source, p + c) * w0 + Unsafe.Add(ref source, p + channels + c) * w1
                            + Unsafe.Add(ref source, below + c) * w2 + Unsafe.Add(ref source, below + channels + c) * w3);
                    }
                    continue;
                }
                if (constant && (sx >= srcWidth || sx + 1 < 0 || sy >= srcHeight || sy + 1 < 0))
                {
                    sink.Store(row, i, 0, b0);
                    if (channels == 3)
                    {
                        sink.Store(row, i, 1, b1);
                        sink.Store(row, i, 2, b2);
                    }
                    continue;
                }
                // Partly outside: each tap reads the source, the border colour, or (replicate) the nearest edge.
                int cx0 = sx, cx1 = sx + 1, cy0 = sy, cy1 = sy + 1;
                if (!constant)
                {
                    cx0 = Math.Clamp(cx0, 0, srcWidth - 1);
                    cx1 = Math.Clamp(cx1, 0, srcWidth - 1);
                    cy0 = Math.Clamp(cy0, 0, srcHeight - 1);
                    cy1 = Math.Clamp(cy1, 0, srcHeight - 1);
                }
                for (int c = 0; c < channels; c++)
                {
                    float fallback = c == 0 ? b0 : c == 1 ? b1 : b2;
                    float v0 = Tap(src, srcWidth, srcHeight, channels, cx0, cy0, c, fallback);
                    float v1 = Tap(src, srcWidth, srcHeight, channels, cx1, cy0, c, fallback);
                    float v2 = Tap(src, srcWidth, srcHeight, channels, cx0, cy1, c, fallback);
                    float v3 = Tap(src, srcWidth, srcHeight, channels, cx1, cy1, c, fallback);
                    sink.Store(row, i, c, v0 * w0 + v1 * w1 + v2 * w2 + v3 * w3);
                }
            }
        }
        if ((long)region.Width * region.Height * channels >= ParallelThreshold)
        {
            Parallel.For(0, region.Height, WarpRow);
            return;
        }
        for (int row = 0; row < region.Height; row++)
        {
            WarpRow(row);
        }
    }

    /// <summary>Destination values from which a warp's rows are spread over the cores (a 512² face has 786,432).</summary>
    private const long ParallelThreshold = 256 * 1024;

    /// <summary>
    /// The destination pixels that can receive any part of a <paramref name="srcWidth"/>×<paramref name="srcHeight"/>
    /// source: the forward image of the source square grown by one pixel (bilinear taps reach one pixel out),
    /// plus a safety pixel for the 1/32 quantisation; not clipped to any canvas.
    /// </summary>
    public static PixelRegion FootprintOf(int srcWidth, int srcHeight, AffineTransform srcToDst)
    {
        double minX = double.PositiveInfinity, minY = double.PositiveInfinity;
        double maxX = double.NegativeInfinity, maxY = double.NegativeInfinity;
        foreach (var (cx, cy) in new[] { (-1.0, -1.0), (srcWidth, -1.0), (-1.0, srcHeight), ((double)srcWidth, (double)srcHeight) })
        {
            var (x, y) = srcToDst.Apply(cx, cy);
            minX = Math.Min(minX, x);
            minY = Math.Min(minY, y);
            maxX = Math.Max(maxX, x);
            maxY = Math.Max(maxY, y);
        }
        if (!double.IsFinite(minX) || !double.IsFinite(minY) || !double.IsFinite(maxX) || !double.IsFinite(maxY)
            || Math.Max(Math.Abs(minX), Math.Abs(maxX)) > 1e8 || Math.Max(Math.Abs(minY), Math.Abs(maxY)) > 1e8)
        {
            throw new ArgumentException($"The transform {srcToDst} maps the source outside any usable coordinate range.", nameof(srcToDst));
        }
        int x0 = (int)Math.Floor(minX) - 1, y0 = (int)Math.Floor(minY) - 1;
        int x1 = (int)Math.Ceiling(maxX) + 2, y1 = (int)Math.Ceiling(maxY) + 2;
        return new PixelRegion(x0, y0, x1 - x0, y1 - y0);
    }

    private static float Tap(float[] src, int width, int height, int channels, int x, int y, int c, float fallback) =>
        x >= 0 && y >= 0 && x < width && y < height ? src[(y * width + x) * channels + c] : fallback;

    /// <summary>The inverse exactly as warpAffine computes it (reciprocal of the determinant, then products).</summary>
    private static AffineTransform InvertLikeOpenCv(AffineTransform m)
    {
        double det = m.A * m.E - m.B * m.D;
        if (det == 0 || !double.IsFinite(det))
        {
            throw new ArgumentException($"The warp transform {m} is singular (determinant {det}); nothing can be sampled.", nameof(m));
        }
        double d = 1.0 / det;
        double a = m.E * d, e = m.A * d, b = -m.B * d, dd = -m.D * d;
        return new AffineTransform(a, b, -a * m.C - b * m.F, dd, e, -dd * m.C - e * m.F);
    }

    /// <summary>OpenCV's saturate_cast&lt;int&gt;(double): round half to even, clamp to the int range.</summary>
    private static int SaturateToInt(double v)
    {
        double r = Math.Round(v, MidpointRounding.ToEven);
        return r >= int.MaxValue ? int.MaxValue : r <= int.MinValue ? int.MinValue : (int)r;
    }

    private static int ClampToShort(int v) => Math.Clamp(v, short.MinValue, short.MaxValue);

    private static float[] BuildBilinearTable()
    {
        var table = new float[InterTabSize * InterTabSize * 4];
        for (int fy = 0; fy < InterTabSize; fy++)
        {
            float y = fy * (1f / InterTabSize);
            float wy0 = 1f - y, wy1 = y;
            for (int fx = 0; fx < InterTabSize; fx++)
            {
                float x = fx * (1f / InterTabSize);
                float wx0 = 1f - x, wx1 = x;
                int t = (fy * InterTabSize + fx) * 4;
                table[t] = wy0 * wx0;
                table[t + 1] = wy0 * wx1;
                table[t + 2] = wy1 * wx0;
                table[t + 3] = wy1 * wx1;
            }
        }
        return table;
    }
}
