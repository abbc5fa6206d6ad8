namespace CodeFormer.Engine.Imaging;

/// <summary>
/// OpenCV's INTER_LANCZOS4 resize on float planes: an 8×8 Lanczos (a = 4) kernel, half-pixel-centre mapping
/// <c>src = (dst + 0.5)·scale − 0.5</c>, taps normalised to sum 1, edge pixels replicated outside the image, and —
/// like OpenCV — no widening of the kernel when shrinking (so strong downscales alias, as in the reference).
/// The reference applies it to the upsampler's output when outscale ≠ the model scale (reference B.8).
/// Deviation: OpenCV resizes the already-quantised uint8 image and saturates; this works on floats and leaves
/// clamping to the caller (<see cref="Resize(RgbImage, int, int)"/> clamps to [0, 255]).
/// </summary>
public static class LanczosResizer
{
    public const int Taps = 8;

    /// <summary>Output rows resized per band (see <see cref="ResizePlane"/>).</summary>
    private const int BandRows = 64;

    /// <summary>Resizes RGB and (when present) alpha; results are clamped to [0, 255] as OpenCV's uint8 output is.</summary>
    public static RgbImage Resize(RgbImage image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Target size {width}×{height} is not positive (source {image.Width}×{image.Height}).");
        }
        var pixels = new float[checked(width * height * 3)];
        ResizePlane(image.Pixels, image.Width, image.Height, 3, pixels, width, height);
        Clamp(pixels);
        float[]? alpha = null;
        if (image.Alpha is { } sourceAlpha)
        {
            alpha = new float[checked(width * height)];
            ResizePlane(sourceAlpha, image.Width, image.Height, 1, alpha, width, height);
            Clamp(alpha);
        }
        return new RgbImage(width, height, pixels) { Alpha = alpha };
    }

    /// <summary>Resizes an interleaved (HWC) float image with <paramref name="channels"/> channels. No clamping.</summary>
    public static void ResizePlane(ReadOnlySpan<float> source, int width, int height, int channels, Span<float> destination, int newWidth, int newHeight)
    {
        if (width <= 0 || height <= 0 || newWidth <= 0 || newHeight <= 0 || channels <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Sizes must be positive: {width}×{height}×{channels} → {newWidth}×{newHeight}.");
        }
        if (source.Length != (long)width * height * channels || destination.Length != (long)newWidth * newHeight * channels)
        {
            throw new ArgumentException($"Buffers hold {source.Length} and {destination.Length} values, expected {(long)width * height * channels} and {(long)newWidth * newHeight * channels}.");
        }
        var (xIndex, xWeight) = Plan(width, newWidth);
        var (yIndex, yWeight) = Plan(height, newHeight);

        // Horizontal pass, then vertical, as OpenCV's separable resize does, in bands of output rows: each band resizes
        // horizontally only the source rows its 8 taps read. The whole horizontal pass (source height × new width) was
        // 2.3 GB for a 24 MP photo taken to s = 4; a band is a few MB. Same sums in the same order: bit-identical.
        int rowLength = newWidth * channels;
        float[] rows = [];
        for (int firstRow = 0; firstRow < newHeight; firstRow += BandRows)
        {
            int endRow = Math.Min(newHeight, firstRow + BandRows);
            int low = int.MaxValue, high = int.MinValue;
            for (int k = firstRow * Taps; k < endRow * Taps; k++)
            {
                low = Math.Min(low, yIndex[k]);
                high = Math.Max(high, yIndex[k]);
            }
            long needed = (long)(high - low + 1) * rowLength;
            if (rows.Length < needed)
            {
                rows = new float[needed];
            }
            for (int y = low; y <= high; y++)
            {
                var sourceRow = source.Slice(y * width * channels, width * channels);
                var rowOut = rows.AsSpan((y - low) * rowLength, rowLength);
                for (int x = 0; x < newWidth; x++)
                {
                    for (int c = 0; c < channels; c++)
                    {
                        float sum = 0;
                        for (int k = 0; k < Taps; k++)
                        {
                            sum += sourceRow[xIndex[x * Taps + k] * channels + c] * xWeight[x * Taps + k];
                        }
                        rowOut[x * channels + c] = sum;
                    }
                }
            }
            for (int y = firstRow; y < endRow; y++)
            {
                var outRow = destination.Slice((int)((long)y * rowLength), rowLength);
                outRow.Clear();
                for (int k = 0; k < Taps; k++)
                {
                    float w = yWeight[y * Taps + k];
                    var sourceRow = rows.AsSpan((yIndex[y * Taps + k] - low) * rowLength, rowLength);
                    for (int i = 0; i < rowLength; i++)
                    {
                        outRow[i] += sourceRow[i] * w;
                    }
                }
            }
        }
    }

    /// <summary>For each destination position along one axis, the 8 clamped source indices and their weights.</summary>
    private static (int[] Index, float[] Weight) Plan(int sourceSize, int destinationSize)
    {
        double scale = (double)sourceSize / destinationSize;
        var index = new int[destinationSize * Taps];
        var weight = new float[destinationSize * Taps];
        Span<float> coefficients = stackalloc float[Taps];
        for (int d = 0; d < destinationSize; d++)
        {
            // OpenCV computes the source coordinate in float precision.
            float fx = (float)((d + 0.5) * scale - 0.5);
            int sx = (int)MathF.Floor(fx);
            fx -= sx;
            Coefficients(fx, coefficients);
            for (int k = 0; k < Taps; k++)
            {
                index[d * Taps + k] = Math.Clamp(sx - 3 + k, 0, sourceSize - 1);
                weight[d * Taps + k] = coefficients[k];
            }
        }
        return (index, weight);
    }

    /// <summary>
    /// OpenCV's <c>interpolateLanczos4</c>: tap i sits at distance d = x + 3 − i and gets sinc(d)·sinc(d/4), normalised;
    /// at x = 0 the kernel is exactly the centre tap, so resampling at integer positions copies pixels.
    /// </summary>
    internal static void Coefficients(float x, Span<float> coefficients)
    {
        if (x < float.Epsilon)
        {
            coefficients.Clear();
            coefficients[3] = 1;
            return;
        }
        const double s45 = 0.70710678118654752440084436210485;
        ReadOnlySpan<double> cs =
        [
            1, 0, -s45, -s45, 0, 1, s45, -s45, -1, 0, s45, s45, 0, -1, -s45, s45,
        ];
        double y0 = -(x + 3) * Math.PI * 0.25;
        double s0 = Math.Sin(y0), c0 = Math.Cos(y0);
        float sum = 0;
        for (int i = 0; i < Taps; i++)
        {
            double y = -(x + 3 - i) * Math.PI * 0.25;
            coefficients[i] = (float)((cs[i * 2] * s0 + cs[i * 2 + 1] * c0) / (y * y));
            sum += coefficients[i];
        }
        float inverse = 1f / sum;
        for (int i = 0; i < Taps; i++)
        {
            coefficients[i] *= inverse;
        }
    }

    private static void Clamp(Span<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Math.Clamp(values[i], 0f, 255f);
        }
    }
}
