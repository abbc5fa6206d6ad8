using System.Buffers;
using CodeFormer.Engine.Runtime;
using CodeFormer.Network.Onnx;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CodeFormer.Engine.Restoration;

/// <summary>
/// A CodeFormer ONNX model (and optionally its code-only w=0 sibling) behind <see cref="IFaceRestorer"/>.
/// <para>
/// Fidelity: the model multiplies the CFT residual by w (reference A.5). Training used w = 0, 1 and 1.3, so
/// values above 1 are meaningful extrapolation; [0, 2] is accepted, anything else (or NaN) is refused.
/// At w = 0 the code-only graph is used when one exists: it skips the fuse blocks entirely (same result as
/// a zero multiplier, reference A.5) and is opened lazily, so its memory is spent only when w = 0 is asked for.
/// </para>
/// <para>
/// Memory: image input and output tensors are views (<see cref="OrtValue.CreateTensorValueWithData"/>) over the
/// caller's spans and the weight over a stack slot, so a call allocates no tensor data and copies nothing;
/// only fixed-batch models with a partial last chunk go through a pooled padded buffer. On CUDA with IO binding the
/// batches are staged in CUDA-pinned host memory instead (<see cref="PinnedBatchStaging"/>): one CPU copy in and out
/// buys a DMA transfer to and from the device.
/// </para>
/// <para>
/// Thread safety: <see cref="Restore"/> may be called concurrently. ONNX Runtime's Run is thread-safe and
/// this class keeps no per-call state of its own (every view and RunOptions lives in the call); the lazy
/// code-only open is locked. Dispose only when no call is running. Concurrent calls compete for the same
/// cores or GPU, so hosts that want predictable latency should still serialise them.
/// </para>
/// The caller owns the <see cref="SessionOptions"/> and must keep them alive as long as this object, because the
/// code-only session is created from them on first use.
/// </summary>
internal sealed class CodeFormerSession : IFaceRestorer
{
    public const double MinFidelity = 0.0;
    public const double MaxFidelity = 2.0;
    /// <summary>Faces per Run for models with a dynamic batch axis unless the caller sets another limit (GPU memory decides).</summary>
    public const int DefaultDynamicBatch = 4;

    private readonly LoadedModel _main;
    private readonly SessionOptions _options;
    private readonly int _dynamicBatch;
    private readonly bool _ioBinding;
    private readonly IReadOnlyDictionary<string, string> _runConfig;
    private readonly PinnedBatchStaging? _pinned;
    // Opened on the first fidelity-0 call under _codeOnlyLock. Not a Lazy<T>: that would cache a failed open
    // (e.g. a transient out-of-memory on the GPU) forever.
    private readonly Lock _codeOnlyLock = new();
    private volatile LoadedModel? _codeOnly;
    private bool _disposed;

    /// <summary>A session with the contract read from it.</summary>
    private sealed record LoadedModel(InferenceSession Session, CodeFormerModelContract Contract);

    private CodeFormerSession(LoadedModel main, string? codeOnlyPath, SessionOptions options, int dynamicBatch, bool ioBinding, IReadOnlyDictionary<string, string>? runConfig,
        PinnedBatchStaging? pinned)
    {
        _pinned = pinned;
        _ioBinding = ioBinding;
        _runConfig = runConfig ?? new Dictionary<string, string>();
        _main = main;
        _options = options;
        CodeOnlyModelPath = codeOnlyPath;
        _dynamicBatch = dynamicBatch;
    }

    /// <summary>The main model's contract.</summary>
    public CodeFormerModelContract Contract => _main.Contract;
    /// <summary>The code-only (w = 0) model used for fidelity 0, or null when there is none.</summary>
    public string? CodeOnlyModelPath { get; }
    /// <summary>Whether the code-only session has been opened (it is opened on the first fidelity-0 call).</summary>
    public bool IsCodeOnlyLoaded => _codeOnly is not null;
    public int FaceSize => Contract.FaceSize;
    /// <summary>Faces per Run on the main model: its fixed batch, or the dynamic batch limit.</summary>
    public int MaxBatch => BatchOf(Contract);
    /// <summary>Whether batches are staged in CUDA-pinned host memory.</summary>
    public bool UsesPinnedHostMemory => _pinned is not null;

    /// <summary>
    /// Opens <paramref name="modelPath"/>. When <paramref name="codeOnlyModelPath"/> is null the sibling
    /// <c>&lt;name&gt;.w0.onnx</c> (see <see cref="CodeOnlyPathFor"/>) is used if it exists; an explicit path must exist.
    /// </summary>
    /// <param name="maxBatch">Faces per Run for dynamic-batch models; default <see cref="DefaultDynamicBatch"/>.</param>
    /// <param name="ioBinding">Run each batch through an <see cref="OrtIoBinding"/> (inputs and the output bound to the caller's buffers) instead of Run.</param>
    /// <param name="runConfig">RunOptions config entries for every Run (e.g. CUDA arena shrinkage after each batch).</param>
    /// <param name="cudaPinnedDevice">Stage the IO-bound batches in pinned host memory of this CUDA device; needs
    /// <paramref name="ioBinding"/> and options with the CUDA provider (else <see cref="GpuUnavailableException"/>).</param>
    public static CodeFormerSession Open(string modelPath, SessionOptions options, string? codeOnlyModelPath = null, int? maxBatch = null,
        bool ioBinding = false, IReadOnlyDictionary<string, string>? runConfig = null, int? cudaPinnedDevice = null)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        ArgumentNullException.ThrowIfNull(options);
        if (maxBatch is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxBatch), $"The batch limit must be at least 1, got {maxBatch}.");
        }
        if (cudaPinnedDevice is not null && !ioBinding)
        {
            throw new ArgumentException("Pinned host memory stages IO-bound batches: it needs ioBinding.", nameof(cudaPinnedDevice));
        }
        if (!File.Exists(modelPath))
        {
            throw new FileNotFoundException($"CodeFormer model '{modelPath}' does not exist.", modelPath);
        }
        if (codeOnlyModelPath is not null && !File.Exists(codeOnlyModelPath))
        {
            throw new FileNotFoundException($"Code-only (w = 0) model '{codeOnlyModelPath}' does not exist.", codeOnlyModelPath);
        }
        string sibling = CodeOnlyPathFor(modelPath);
        string? codeOnly = codeOnlyModelPath ?? (File.Exists(sibling) ? sibling : null);

        OnnxExternalDataCheck.Check(modelPath);
        var session = new InferenceSession(modelPath, options);
        PinnedBatchStaging? pinned = null;
        try
        {
            var contract = CodeFormerModelContract.Read(session, modelPath);
            pinned = cudaPinnedDevice is { } device ? PinnedBatchStaging.Create(session, device) : null;
            return new CodeFormerSession(new LoadedModel(session, contract), codeOnly, options, maxBatch ?? DefaultDynamicBatch, ioBinding, runConfig, pinned);
        }
        catch
        {
            pinned?.Dispose();
            session.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The code-only sibling of a model: <c>dir/codeformer.onnx</c> → <c>dir/codeformer.w0.onnx</c>. Delegates to the
    /// exporter so that the files it writes are the files found here.
    /// </summary>
    public static string CodeOnlyPathFor(string modelPath) => CodeFormerOnnxExporter.CodeOnlyPathFor(modelPath);

    public void Restore(ReadOnlySpan<float> input, int count, double fidelity, Span<float> output, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        long faceLength = 3L * FaceSize * FaceSize;
        long expected = count * faceLength;
        if (input.Length != expected)
        {
            throw new ArgumentException($"Input holds {input.Length} values, expected {count} faces × 3 × {FaceSize}² = {expected}.", nameof(input));
        }
        if (output.Length != expected)
        {
            throw new ArgumentException($"Output holds {output.Length} values, expected {count} faces × 3 × {FaceSize}² = {expected}.", nameof(output));
        }
        if (!double.IsFinite(fidelity) || fidelity < MinFidelity || fidelity > MaxFidelity)
        {
            throw new ArgumentOutOfRangeException(nameof(fidelity), fidelity, $"Fidelity must be a finite number in [{MinFidelity}, {MaxFidelity}].");
        }
        cancellationToken.ThrowIfCancellationRequested();
        if (count == 0)
        {
            return;
        }

        var (session, contract) = fidelity == 0 && CodeOnlyModelPath is not null ? CodeOnly() : _main;
        int batch = BatchOf(contract);
        using var runOptions = new RunOptions();
        foreach (var (key, value) in _runConfig)
        {
            runOptions.AddRunConfigEntry(key, value);
        }
        // Terminate stops a long Run at its next node (one 512² face took about 20 s on 2 CPU threads here) instead of
        // finishing work nobody will read.
        using var registration = cancellationToken.Register(() => runOptions.Terminate = true);
        unsafe
        {
            fixed (float* inputStart = input)
            fixed (float* outputStart = output)
            {
                for (int done = 0; done < count; done += batch)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int n = Math.Min(batch, count - done);
                    float* chunkIn = inputStart + done * faceLength;
                    float* chunkOut = outputStart + done * faceLength;
                    try
                    {
                        if (_pinned is not null)
                        {
                            RunPinned(_pinned, session, contract, runOptions, chunkIn, chunkOut, n, faceLength, fidelity);
                        }
                        else if (contract.FixedBatch is { } fixedBatch && n < fixedBatch)
                        {
                            RunPadded(session, contract, runOptions, chunkIn, chunkOut, n, fixedBatch, faceLength, fidelity, _ioBinding);
                        }
                        else
                        {
                            RunChunk(session, contract, runOptions, chunkIn, chunkOut, n, fidelity, _ioBinding, OrtMemoryInfo.DefaultInstance);
                        }
                    }
                    catch (OnnxRuntimeException) when (cancellationToken.IsCancellationRequested)
                    {
                        throw new OperationCanceledException("Face restoration was cancelled.", cancellationToken);
                    }
                }
            }
        }
    }

    /// <summary>A fixed-batch model's last partial chunk: zero-padded to the model's batch in a pooled buffer.</summary>
    private static unsafe void RunPadded(InferenceSession session, CodeFormerModelContract contract, RunOptions runOptions,
        float* chunkIn, float* chunkOut, int n, int fixedBatch, long faceLength, double fidelity, bool ioBinding)
    {
        int used = checked((int)(n * faceLength));
        int total = checked((int)(fixedBatch * faceLength));
        float[] inBuffer = ArrayPool<float>.Shared.Rent(total);
        float[] outBuffer = ArrayPool<float>.Shared.Rent(total);
        try
        {
            new ReadOnlySpan<float>(chunkIn, used).CopyTo(inBuffer);
            Array.Clear(inBuffer, used, total - used);
            fixed (float* padIn = inBuffer)
            fixed (float* padOut = outBuffer)
            {
                RunChunk(session, contract, runOptions, padIn, padOut, fixedBatch, fidelity, ioBinding, OrtMemoryInfo.DefaultInstance);
            }
            outBuffer.AsSpan(0, used).CopyTo(new Span<float>(chunkOut, used));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(inBuffer);
            ArrayPool<float>.Shared.Return(outBuffer);
        }
    }

    /// <summary>
    /// One chunk through pinned staging: copied into the pinned input (zero-padded to a fixed batch), run with both
    /// buffers bound, and the chunk's faces copied back out. The two copies are CPU memcpy of what the device transfer
    /// then moves by DMA.
    /// </summary>
    private static unsafe void RunPinned(PinnedBatchStaging staging, InferenceSession session, CodeFormerModelContract contract, RunOptions runOptions,
        float* chunkIn, float* chunkOut, int n, long faceLength, double fidelity)
    {
        int runFaces = contract.FixedBatch is { } fixedBatch && n < fixedBatch ? fixedBatch : n;
        long used = n * faceLength;
        long total = runFaces * faceLength;
        var buffers = staging.Rent(total);
        try
        {
            float* pinnedIn = (float*)buffers.Input;
            float* pinnedOut = (float*)buffers.Output;
            Buffer.MemoryCopy(chunkIn, pinnedIn, total * sizeof(float), used * sizeof(float));
            if (total > used)
            {
                new Span<float>(pinnedIn + used, checked((int)(total - used))).Clear();
            }
            RunChunk(session, contract, runOptions, pinnedIn, pinnedOut, runFaces, fidelity, ioBinding: true, staging.Info);
            Buffer.MemoryCopy(pinnedOut, chunkOut, used * sizeof(float), used * sizeof(float));
        }
        finally
        {
            staging.Return(buffers);
        }
    }

    /// <param name="memory">Where the face and output buffers live: ordinary host memory, or CUDA-pinned host memory.</param>
    private static unsafe void RunChunk(InferenceSession session, CodeFormerModelContract contract, RunOptions runOptions,
        float* chunkIn, float* chunkOut, int n, double fidelity, bool ioBinding, OrtMemoryInfo memory)
    {
        int s = contract.FaceSize;
        long[] shape = [n, 3, s, s];
        long bytes = (long)n * 3 * s * s * sizeof(float);
        using var imageValue = OrtValue.CreateTensorValueWithData(memory, TensorElementType.Float, shape, (IntPtr)chunkIn, bytes);
        using var outputValue = OrtValue.CreateTensorValueWithData(memory, TensorElementType.Float, shape, (IntPtr)chunkOut, bytes);
        if (contract.FidelityInputName is not { } fidelityName)
        {
            if (ioBinding)
            {
                RunBound(session, runOptions, [(contract.ImageInputName, imageValue)], contract.OutputName, outputValue);
                return;
            }
            session.Run(runOptions, [contract.ImageInputName], [imageValue], [contract.OutputName], [outputValue]);
            return;
        }
        // The weight lives on this frame for the duration of the synchronous Run: no allocation, no shared state.
        double* weight = stackalloc double[1];
        long[] weightShape = contract.FidelityIsScalar ? [] : [1];
        OrtValue weightValue;
        if (contract.FidelityElementType == TensorElementType.Double)
        {
            weight[0] = fidelity;
            weightValue = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Double, weightShape, (IntPtr)weight, sizeof(double));
        }
        else
        {
            *(float*)weight = (float)fidelity;
            weightValue = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, weightShape, (IntPtr)weight, sizeof(float));
        }
        using (weightValue)
        {
            if (ioBinding)
            {
                RunBound(session, runOptions, [(contract.ImageInputName, imageValue), (fidelityName, weightValue)], contract.OutputName, outputValue);
                return;
            }
            session.Run(runOptions, [contract.ImageInputName, fidelityName], [imageValue, weightValue], [contract.OutputName], [outputValue]);
        }
    }

    /// <summary>
    /// One batch through IO binding: the face batch and the weight are bound as inputs and the caller's output buffer as
    /// the output, so on CUDA ONNX Runtime copies the batch to the device once and the result straight into that buffer.
    /// </summary>
    private static void RunBound(InferenceSession session, RunOptions runOptions, (string Name, OrtValue Value)[] inputs, string outputName, OrtValue output)
    {
        using var binding = session.CreateIoBinding();
        foreach (var (name, value) in inputs)
        {
            binding.BindInput(name, value);
        }
        binding.BindOutput(outputName, output);
        binding.SynchronizeBoundInputs();
        session.RunWithBinding(runOptions, binding);
        binding.SynchronizeBoundOutputs();
    }

    private int BatchOf(CodeFormerModelContract contract) => contract.FixedBatch ?? _dynamicBatch;

    private LoadedModel CodeOnly()
    {
        if (_codeOnly is { } loaded)
        {
            return loaded;
        }
        lock (_codeOnlyLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _codeOnly ??= OpenCodeOnly(CodeOnlyModelPath!, _options, FaceSize);
        }
    }

    private static LoadedModel OpenCodeOnly(string path, SessionOptions options, int faceSize)
    {
        OnnxExternalDataCheck.Check(path);
        var session = new InferenceSession(path, options);
        try
        {
            var contract = CodeFormerModelContract.Read(session, path);
            if (contract.FaceSize != faceSize)
            {
                throw new ModelContractException($"Code-only model '{path}' takes {contract.FaceSize}² faces but the main model takes {faceSize}².");
            }
            return new LoadedModel(session, contract);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        lock (_codeOnlyLock)
        {
            _disposed = true;
            _pinned?.Dispose();
            _main.Session.Dispose();
            _codeOnly?.Session.Dispose();
        }
    }
}
