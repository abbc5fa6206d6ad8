using System.Buffers;
using System.Globalization;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CodeFormer.Engine.Upsampling;

/// <summary>
/// The background upsampler of the reference pipeline (B.8: Real-ESRGAN x2plus through <c>RealESRGANer</c>).
/// Model contract: one input float32 [1,3,H,W] RGB in [0,1], first output [1,3,H·s,W·s]. H and W are normally free;
/// models exported with a fixed size are accepted and tiled with whole windows of that size (<see cref="FixedInputSize"/>).
/// The scale s comes from metadata <c>scale</c>, else from a zero probe run (16×16, or the fixed size).
/// <para>
/// Tiling follows <c>RealESRGANer.tile_process</c> exactly: the image is first reflect-padded on the bottom/right to a
/// multiple of 2 (x2 models) or 4 (x1 models), pre_pad 0; it is cut into tile×tile cores, each run with up to
/// tile_pad context pixels on every side (clipped at the image edge); only each output core is kept (no blending),
/// and the mod padding is cropped off at the end. Tile size 0 runs the whole image at once.
/// </para>
/// <para>
/// Alpha, when present, is upsampled by the same network as a grey RGB image and converted back with
/// 0.299/0.587/0.114, as the reference's <c>alpha_upsampler='realesrgan'</c> path does. Results are clamped to
/// [0, 1] and scaled to [0, 255]; unlike the reference they are not rounded to uint8 here, because the pipeline
/// keeps floats until encoding.
/// </para>
/// Memory: tile cores are written straight into the interleaved result, so a call holds the planar input, its padded
/// copy, one tile's buffers and the result — never a second full-size planar copy of the s²-times larger output.
/// Thread safety: <see cref="Upscale"/> keeps all buffers per call and may be called concurrently.
/// </summary>
public sealed class RealEsrganUpsampler : IDisposable
{
    public const int DefaultTileSize = 400;
    public const int DefaultTilePad = 40;
    public const string ScaleMetadataKey = "scale";
    private const int ProbeSize = 16;

    private readonly InferenceSession _session;
    private bool _disposed;

    private RealEsrganUpsampler(InferenceSession session, string source, int tileSize, int tilePad)
    {
        _session = session;
        Source = source;
        TileSize = tileSize;
        TilePad = tilePad;
        (InputName, OutputName, FixedInputSize) = ReadContract(session, source);
        Scale = ReadScale(session, source);
    }

    /// <summary>Where the model came from (its path, or "(in-memory model)").</summary>
    public string Source { get; }
    public string InputName { get; }
    public string OutputName { get; }
    /// <summary>Integer upscaling factor of the network (2 for RealESRGAN_x2plus).</summary>
    public int Scale { get; }
    public int TileSize { get; }
    public int TilePad { get; }
    /// <summary>
    /// The input size of models exported without dynamic axes (Real-ESRGAN's own pytorch2onnx script gives 64×64), or
    /// null. Such models are tiled with whole fixed windows (<see cref="TilePlan.Fixed"/>) instead of <see cref="TileSize"/>.
    /// </summary>
    public (int Width, int Height)? FixedInputSize { get; }

    internal static RealEsrganUpsampler Open(string modelPath, SessionOptions options, int tileSize = DefaultTileSize, int tilePad = DefaultTilePad)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckTiling(tileSize, tilePad);
        if (!File.Exists(modelPath))
        {
            throw new FileNotFoundException($"Real-ESRGAN model '{modelPath}' does not exist.", modelPath);
        }
        OnnxExternalDataCheck.Check(modelPath);
        return Create(new InferenceSession(modelPath, options), modelPath, tileSize, tilePad);
    }

    /// <summary>Loads a model from memory (tests and embedded models).</summary>
    internal static RealEsrganUpsampler FromBytes(byte[] model, SessionOptions options, int tileSize = DefaultTileSize, int tilePad = DefaultTilePad)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        CheckTiling(tileSize, tilePad);
        return Create(new InferenceSession(model, options), "(in-memory model)", tileSize, tilePad);
    }

    private static RealEsrganUpsampler Create(InferenceSession session, string source, int tileSize, int tilePad)
    {
        try
        {
            return new RealEsrganUpsampler(session, source, tileSize, tilePad);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Upsamples by the model scale, then resizes with Lanczos-4 to ⌊W·outscale⌋×⌊H·outscale⌋ when outscale differs
    /// from the model scale (reference B.8: <c>int(w_input * outscale)</c>).
    /// </summary>
    public RgbImage Upscale(RgbImage image, double outscale, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(image);
        if (!double.IsFinite(outscale) || outscale <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(outscale), outscale, "The output scale must be a positive finite number.");
        }
        int targetWidth = (int)(image.Width * outscale);
        int targetHeight = (int)(image.Height * outscale);
        if (targetWidth < 1 || targetHeight < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(outscale), outscale, $"Scaling {image.Width}×{image.Height} by {outscale} leaves no pixels.");
        }

        int w = image.Width, h = image.Height, plane = w * h;
        var planar = new float[3L * plane];
        for (int i = 0; i < plane; i++)
        {
            for (int c = 0; c < 3; c++)
            {
                planar[c * plane + i] = image.Pixels[i * 3 + c] / 255f;
            }
        }
        int outW = w * Scale, outH = h * Scale;
        var pixels = new float[3L * outW * outH];
        // Tile cores go straight into the interleaved result: no full-size planar copy of an image that grew by s².
        Upsample(planar, w, h, (red, green, blue, x, y) =>
        {
            var row = pixels.AsSpan((y * outW + x) * 3, red.Length * 3);
            for (int i = 0; i < red.Length; i++)
            {
                row[i * 3] = Math.Clamp(red[i], 0f, 1f) * 255f;
                row[i * 3 + 1] = Math.Clamp(green[i], 0f, 1f) * 255f;
                row[i * 3 + 2] = Math.Clamp(blue[i], 0f, 1f) * 255f;
            }
        }, cancellationToken);

        float[]? alpha = null;
        if (image.Alpha is { } sourceAlpha)
        {
            for (int i = 0; i < plane; i++)
            {
                float a = sourceAlpha[i] / 255f;
                planar[i] = planar[plane + i] = planar[2 * plane + i] = a;
            }
            var grey = alpha = new float[outW * outH];
            Upsample(planar, w, h, (red, green, blue, x, y) =>
            {
                var row = grey.AsSpan(y * outW + x, red.Length);
                for (int i = 0; i < red.Length; i++)
                {
                    // cv2.COLOR_BGR2GRAY of the clamped network output (the reference clamps before converting).
                    row[i] = (0.299f * Math.Clamp(red[i], 0f, 1f) + 0.587f * Math.Clamp(green[i], 0f, 1f) + 0.114f * Math.Clamp(blue[i], 0f, 1f)) * 255f;
                }
            }, cancellationToken);
        }

        var result = new RgbImage(outW, outH, pixels) { Alpha = alpha };
        return outscale == Scale ? result : LanczosResizer.Resize(result, targetWidth, targetHeight);
    }

    /// <summary>Receives one row of a tile core of the result (R, G and B runs, unclamped) at (x, y) of the H·s × W·s image.</summary>
    internal delegate void CoreRowWriter(ReadOnlySpan<float> red, ReadOnlySpan<float> green, ReadOnlySpan<float> blue, int x, int y);

    /// <summary>
    /// The network over a planar [3,H,W] image in [0,1] with tiling and mod padding; returns [3,H·s,W·s], unclamped.
    /// </summary>
    internal float[] UpsamplePlanar(float[] planar, int width, int height, CancellationToken cancellationToken)
    {
        int outW = width * Scale, outPlane = outW * height * Scale;
        var output = new float[3L * outPlane];
        Upsample(planar, width, height, (red, green, blue, x, y) =>
        {
            red.CopyTo(output.AsSpan(y * outW + x));
            green.CopyTo(output.AsSpan(outPlane + y * outW + x));
            blue.CopyTo(output.AsSpan(2 * outPlane + y * outW + x));
        }, cancellationToken);
        return output;
    }

    /// <summary>
    /// Runs the tiles and hands every row of every core, cut to the unpadded H·s × W·s image, to <paramref name="write"/>.
    /// </summary>
    private void Upsample(float[] planar, int width, int height, CoreRowWriter write, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (planar.Length != 3L * width * height)
        {
            throw new ArgumentException($"A 3×{height}×{width} image needs {3L * width * height} values, got {planar.Length}.", nameof(planar));
        }
        int mod = Scale switch { 2 => 2, 1 => 4, _ => 1 };
        int paddedW = width + (mod - width % mod) % mod;
        int paddedH = height + (mod - height % mod) % mod;
        if (FixedInputSize is { } window)
        {
            // A fixed-size model needs whole windows even from images smaller than one window.
            paddedW = Math.Max(paddedW, window.Width);
            paddedH = Math.Max(paddedH, window.Height);
        }
        float[] padded = paddedW == width && paddedH == height ? planar : ReflectPad(planar, width, height, paddedW, paddedH);

        int s = Scale;
        int outW = width * s, outH = height * s;
        var (columns, rows) = FixedInputSize is { } fixedSize
            ? (TilePlan.Fixed(paddedW, fixedSize.Width, TilePad), TilePlan.Fixed(paddedH, fixedSize.Height, TilePad))
            : (TilePlan.Reference(paddedW, TileSize, TilePad), TilePlan.Reference(paddedH, TileSize, TilePad));

        using var runOptions = new RunOptions();
        using var registration = cancellationToken.Register(() => runOptions.Terminate = true);
        foreach (var row in rows)
        {
            foreach (var column in columns)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    RunTile(padded, paddedW, paddedH, column, row, write, outW, outH, runOptions);
                }
                catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException("Background upsampling was cancelled.", cancellationToken);
                }
            }
        }
    }

    /// <summary>Runs one padded tile and writes the rows of its core that fall inside the outW × outH result.</summary>
    private unsafe void RunTile(float[] image, int imageW, int imageH, TileSpan column, TileSpan row, CoreRowWriter write, int outW, int outH, RunOptions runOptions)
    {
        int s = Scale;
        int tileX = column.Window0, tileY = row.Window0;
        int tileW = column.Window1 - column.Window0, tileH = row.Window1 - row.Window0;
        int coreX = column.Core0 - column.Window0, coreY = row.Core0 - row.Window0;
        int coreW = column.Core1 - column.Core0, coreH = row.Core1 - row.Core0;
        int x0 = column.Core0, y0 = row.Core0;
        // Cores in the mod/window padding fall partly or wholly outside the result (the reference crops them at the end).
        int runLength = Math.Min(coreW * s, outW - x0 * s);
        int rowCount = Math.Min(coreH * s, outH - y0 * s);
        if (runLength <= 0 || rowCount <= 0)
        {
            return;
        }
        int tileOutW = tileW * s, tileOutH = tileH * s;
        int inLength = 3 * tileW * tileH, outLength = 3 * tileOutW * tileOutH;
        float[] tileIn = ArrayPool<float>.Shared.Rent(inLength);
        float[] tileOut = ArrayPool<float>.Shared.Rent(outLength);
        try
        {
            int imagePlane = imageW * imageH;
            for (int c = 0; c < 3; c++)
            {
                for (int y = 0; y < tileH; y++)
                {
                    image.AsSpan(c * imagePlane + (tileY + y) * imageW + tileX, tileW).CopyTo(tileIn.AsSpan((c * tileH + y) * tileW, tileW));
                }
            }
            fixed (float* inPtr = tileIn)
            fixed (float* outPtr = tileOut)
            {
                var memory = OrtMemoryInfo.DefaultInstance;
                using var inValue = OrtValue.CreateTensorValueWithData(memory, TensorElementType.Float, [1, 3, tileH, tileW], (IntPtr)inPtr, inLength * sizeof(float));
                using var outValue = OrtValue.CreateTensorValueWithData(memory, TensorElementType.Float, [1, 3, tileOutH, tileOutW], (IntPtr)outPtr, outLength * sizeof(float));
                _session.Run(runOptions, [InputName], [inValue], [OutputName], [outValue]);
            }
            int tilePlane = tileOutW * tileOutH;
            for (int y = 0; y < rowCount; y++)
            {
                int start = (coreY * s + y) * tileOutW + coreX * s;
                write(tileOut.AsSpan(start, runLength), tileOut.AsSpan(tilePlane + start, runLength), tileOut.AsSpan(2 * tilePlane + start, runLength), x0 * s, y0 * s + y);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(tileIn);
            ArrayPool<float>.Shared.Return(tileOut);
        }
    }

    /// <summary>
    /// torch's 'reflect' padding on the bottom and right (edge pixel not repeated). Beyond what one reflection reaches
    /// (a 1-pixel axis, where torch raises, or a small image grown to a fixed model window) the first pixel is repeated;
    /// that region is cropped off the result, so it only has to be finite and plausible.
    /// </summary>
    internal static float[] ReflectPad(float[] planar, int width, int height, int paddedW, int paddedH)
    {
        var result = new float[3L * paddedW * paddedH];
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < paddedH; y++)
            {
                int sy = Reflect(y, height);
                for (int x = 0; x < paddedW; x++)
                {
                    result[(c * paddedH + y) * paddedW + x] = planar[(c * height + sy) * width + Reflect(x, width)];
                }
            }
        }
        return result;
    }

    private static int Reflect(int i, int n) => i < n ? i : Math.Max(2 * (n - 1) - i, 0);

    private static (string Input, string Output, (int Width, int Height)? FixedSize) ReadContract(InferenceSession session, string source)
    {
        if (session.InputMetadata.Count != 1)
        {
            throw new ModelContractException($"Cannot use '{source}' as a Real-ESRGAN upsampler: it has {session.InputMetadata.Count} inputs ({string.Join(", ", session.InputMetadata.Keys.Select(k => $"'{k}'"))}), expected one image input [1,3,H,W].");
        }
        var (inputName, input) = session.InputMetadata.First();
        var (outputName, output) = session.OutputMetadata.First();
        CheckImage(source, "input", inputName, input);
        CheckImage(source, "output", outputName, output);
        var dims = input.Dimensions;
        if ((dims[2] > 0) != (dims[3] > 0))
        {
            throw new ModelContractException($"Cannot use '{source}' as a Real-ESRGAN upsampler: input '{inputName}' {Shape.Describe(input)} fixes only one of height and width; expected both free or both fixed.");
        }
        if (dims[0] > 1)
        {
            throw new ModelContractException($"Cannot use '{source}' as a Real-ESRGAN upsampler: input '{inputName}' has fixed batch {dims[0]}, expected 1 or dynamic.");
        }
        return (inputName, outputName, dims[2] > 0 ? (dims[3], dims[2]) : null);
    }

    private static void CheckImage(string source, string role, string name, NodeMetadata meta)
    {
        if (!meta.IsTensor || meta.ElementDataType != TensorElementType.Float || meta.Dimensions.Length != 4 || (meta.Dimensions[1] > 0 && meta.Dimensions[1] != 3))
        {
            throw new ModelContractException($"Cannot use '{source}' as a Real-ESRGAN upsampler: {role} '{name}' is {Shape.DescribeType(meta)} {Shape.Describe(meta)}, expected float [1,3,H,W].");
        }
    }

    private int ReadScale(InferenceSession session, string source)
    {
        if (session.ModelMetadata.CustomMetadataMap.TryGetValue(ScaleMetadataKey, out string? text))
        {
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int declared) || declared < 1)
            {
                throw new ModelContractException($"Model '{source}' declares metadata scale '{text}', expected a positive integer.");
            }
            return declared;
        }
        // No declared scale: run a zero probe (16×16, or the fixed input size) and measure what comes out.
        var (probeW, probeH) = FixedInputSize ?? (ProbeSize, ProbeSize);
        var probe = new float[3 * probeW * probeH];
        using var inValue = OrtValue.CreateTensorValueFromMemory(probe, [1, 3, probeH, probeW]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [InputName], [inValue], [OutputName]);
        long[] shape = results[0].GetTensorTypeAndShape().Shape;
        if (shape.Length != 4 || shape[2] % probeH != 0 || shape[3] % probeW != 0 || shape[2] < probeH || shape[2] / probeH != shape[3] / probeW)
        {
            throw new ModelContractException($"Model '{source}' turned a {probeW}×{probeH} probe into [{string.Join(",", shape)}], expected [1,3,{probeH}·s,{probeW}·s] for an integer scale s.");
        }
        return (int)(shape[2] / probeH);
    }

    private static void CheckTiling(int tileSize, int tilePad)
    {
        if (tileSize < 0 || tilePad < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(tileSize), $"Tile size and tile pad must not be negative (got {tileSize} and {tilePad}; tile 0 means no tiling).");
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _session.Dispose();
        }
    }
}
