using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Runtime;

namespace CodeFormer.Engine.Pipeline;

/// <summary>
/// How a host sets up a <see cref="RestorationEngine"/>: device, models (explicit paths override the cache),
/// decode limits and batching. Bound from the configuration section <see cref="SectionName"/> by hosts
/// (<c>Engine__device=cuda</c>, <c>Engine__precision=fp16</c>, <c>Engine__requireGpu=true</c>, …), filled from flags by
/// the CLI. Plain <c>{ get; set; }</c> properties because configuration binding and the options pattern need setters.
/// </summary>
public sealed record EngineSettings
{
    public const string SectionName = "Engine";

    public ExecutionDevice Device { get; set; } = ExecutionDevice.Auto;

    /// <summary>
    /// Refuse to start without CUDA (with <see cref="GpuUnavailableException"/> naming the reason) instead of falling back
    /// to the CPU with a warning. Off by default for the CLI; the GPU container sets <c>Engine__requireGpu=true</c>.
    /// </summary>
    public bool RequireGpu { get; set; }

    /// <summary>Network precision: FP16 halves GPU memory and uses tensor cores; I/O stays float32 either way.</summary>
    public ModelPrecision Precision { get; set; } = ModelPrecision.Fp32;

    public int? IntraOpThreads { get; set; }
    public DetectorKind Detector { get; set; } = DetectorKind.YuNet;

    /// <summary>A CodeFormer-contract ONNX model; null resolves CodeFormer through the model cache.</summary>
    public string? ModelPath { get; set; }
    public string? DetectorModelPath { get; set; }
    public string? BackgroundModelPath { get; set; }

    /// <summary>Model cache directory; null uses $CODEFORMER_MODELS or ~/.cache/codeformer-cloud.</summary>
    public string? ModelsDirectory { get; set; }

    /// <summary>Never download; a missing model fails with instructions naming file, URL and destination.</summary>
    public bool Offline { get; set; }

    public bool NeedsDetector { get; set; } = true;
    public bool NeedsBackgroundModel { get; set; }

    /// <summary>
    /// Most faces per network call; the face batcher fills batches up to this size with faces of every photo in flight.
    /// Null picks by device: 1 on CPU, where batching measured no faster per face and multiplies the activation memory
    /// ONNX Runtime keeps (24 MP Solvay: 2.97 GB peak at batch 1, 5.85 GB at batch 4), and 8 on CUDA.
    /// </summary>
    public int? BatchSize { get; set; }

    public const int CpuBatchSize = 1;
    public const int GpuBatchSize = 8;
    public const int MaxBatchSize = 64;

    /// <summary>The batch size to use on a device: the configured one, or the device's default.</summary>
    public int BatchSizeFor(bool gpu) => BatchSize ?? (gpu ? GpuBatchSize : CpuBatchSize);

    /// <summary>
    /// Bind face batches to the session with ONNX Runtime IO binding (inputs and outputs bound once per batch, outputs
    /// written straight into the batcher's buffer). Null: on for CUDA, off for CPU, where plain Run is already copy-free.
    /// </summary>
    public bool? IoBinding { get; set; }

    /// <summary>CUDA execution provider options; read only when CUDA is used.</summary>
    public CudaSettings Cuda { get; set; } = new();

    public ImageLimits Limits { get; set; } = new();

    /// <summary>Every setting out of range, each named; empty when the settings are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (BatchSize is < 1 or > MaxBatchSize)
        {
            problems.Add($"BatchSize (faces per network call) must be 1–{MaxBatchSize}, got {BatchSize}.");
        }
        if (IntraOpThreads is < 1)
        {
            problems.Add($"IntraOpThreads must be at least 1, got {IntraOpThreads}.");
        }
        if (!Enum.IsDefined(Device))
        {
            problems.Add($"Device '{Device}' is not one of auto, cpu, cuda.");
        }
        if (!Enum.IsDefined(Precision))
        {
            problems.Add($"Precision '{Precision}' is not one of fp32, fp16.");
        }
        if (RequireGpu && Device == ExecutionDevice.Cpu)
        {
            problems.Add("RequireGpu is set but Device is cpu: ask for device auto or cuda, or drop requireGpu.");
        }
        if (MemoryBudgetBytes <= 0)
        {
            problems.Add($"MemoryBudgetBytes (a photo's peak memory, models included) must be positive, got {MemoryBudgetBytes}.");
        }
        problems.AddRange(Cuda.Problems());
        try
        {
            Limits.Validate();
        }
        catch (ArgumentException ex)
        {
            problems.Add(ex.Message);
        }
        return problems;
    }

    /// <summary>
    /// Most memory one photo may make the process use at its peak, models included, as estimated from the photo's header
    /// and the options before decoding (<see cref="PhotoMemoryEstimator"/>); a photo over it is refused with the numbers.
    /// Default <see cref="DefaultMemoryBudgetBytes"/>.
    /// </summary>
    public long MemoryBudgetBytes { get; set; } = DefaultMemoryBudgetBytes;

    /// <summary>
    /// 3.5 GiB: the 4 GB machines the service runs on, less room for the host, and above every photo the product
    /// promises (24 MP at s = 2 measured and estimated under 3 GB), so only what would not fit in 4 GB is refused.
    /// </summary>
    public const long DefaultMemoryBudgetBytes = 3584L << 20;

    /// <summary>Throws naming the first setting out of range, before any model is opened.</summary>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Engine settings: " + string.Join(" ", problems));
        }
    }
}

/// <summary>The precision of the CodeFormer network.</summary>
public enum ModelPrecision
{
    Fp32,
    /// <summary>FP16 compute with float32 I/O (<c>models convert --fp16</c>); meant for CUDA, where it halves memory and time.</summary>
    Fp16,
}

/// <summary>
/// Options of ONNX Runtime's CUDA execution provider, named as hosts set them (<c>Engine__cuda__deviceId=1</c>).
/// Defaults are ONNX Runtime's except the conv search: exhaustive benchmarking picks the fastest cuDNN kernel
/// per shape once, which pays off for a long-running worker that sees the same 512² shapes all day.
/// </summary>
public sealed class CudaSettings
{
    public int DeviceId { get; set; }

    /// <summary>Use ONNX Runtime's BFC arena for device memory (fast reuse). False returns memory after each run.</summary>
    public bool UseArena { get; set; } = true;

    /// <summary>kNextPowerOfTwo (default) or kSameAsRequested, which grows the arena only by what is asked for.</summary>
    public CudaArenaExtendStrategy ArenaExtendStrategy { get; set; } = CudaArenaExtendStrategy.NextPowerOfTwo;

    /// <summary>Upper bound of the arena in bytes; null leaves ONNX Runtime's default (the whole device).</summary>
    public long? GpuMemoryLimitBytes { get; set; }

    public CudnnConvAlgorithmSearch CudnnConvAlgoSearch { get; set; } = CudnnConvAlgorithmSearch.Exhaustive;

    /// <summary>Copies on the default stream (ONNX Runtime's default, safe); false lets copies overlap compute.</summary>
    public bool CopyInDefaultStream { get; set; } = true;

    /// <summary>
    /// Stage IO-bound face batches in CUDA-pinned (page-locked) host memory, so the host↔device copies are DMA at full
    /// bus speed instead of going through the driver's own pageable bounce buffer. Read only with IO binding on CUDA.
    /// </summary>
    public bool PinnedHostMemory { get; set; } = true;

    public IEnumerable<string> Problems()
    {
        if (DeviceId < 0)
        {
            yield return $"Cuda.DeviceId must be 0 or more, got {DeviceId}.";
        }
        if (GpuMemoryLimitBytes is <= 0)
        {
            yield return $"Cuda.GpuMemoryLimitBytes must be positive, got {GpuMemoryLimitBytes}.";
        }
        if (!Enum.IsDefined(ArenaExtendStrategy))
        {
            yield return $"Cuda.ArenaExtendStrategy '{ArenaExtendStrategy}' is not one of NextPowerOfTwo, SameAsRequested.";
        }
        if (!Enum.IsDefined(CudnnConvAlgoSearch))
        {
            yield return $"Cuda.CudnnConvAlgoSearch '{CudnnConvAlgoSearch}' is not one of Exhaustive, Heuristic, Default.";
        }
    }
}

public enum CudaArenaExtendStrategy
{
    NextPowerOfTwo,
    SameAsRequested,
}

public enum CudnnConvAlgorithmSearch
{
    Exhaustive,
    Heuristic,
    Default,
}
