using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Runtime;

namespace CodeFormer.Engine.Pipeline;

/// <summary>
/// How a host sets up a <see cref="RestorationEngine"/>: device, models (explicit paths override the cache),
/// decode limits and batching. Bound from configuration by hosts; filled from flags by the CLI.
/// </summary>
public sealed record EngineSettings
{
    public ExecutionDevice Device { get; init; } = ExecutionDevice.Auto;
    public int? IntraOpThreads { get; init; }
    public DetectorKind Detector { get; init; } = DetectorKind.YuNet;

    /// <summary>A CodeFormer-contract ONNX model; null resolves CodeFormer through the model cache.</summary>
    public string? ModelPath { get; init; }
    public string? DetectorModelPath { get; init; }
    public string? BackgroundModelPath { get; init; }

    /// <summary>Model cache directory; null uses $CODEFORMER_MODELS or ~/.cache/codeformer-cloud.</summary>
    public string? ModelsDirectory { get; init; }

    /// <summary>Never download; a missing model fails with instructions naming file, URL and destination.</summary>
    public bool Offline { get; init; }

    public bool NeedsDetector { get; init; } = true;
    public bool NeedsBackgroundModel { get; init; }

    /// <summary>
    /// Faces per network call; all faces of a photo go through in batches of this size. Null picks by device:
    /// 1 on CPU, where batching measured no faster per face and multiplies the activation memory ONNX Runtime
    /// keeps (24 MP Solvay: 2.97 GB peak at batch 1, 5.85 GB at batch 4), and 4 on CUDA, where it fills the GPU.
    /// </summary>
    public int? BatchSize { get; init; }

    public const int CpuBatchSize = 1;
    public const int GpuBatchSize = 4;

    /// <summary>The batch size to use on a device: the configured one, or the device's default.</summary>
    public int BatchSizeFor(bool gpu) => BatchSize ?? (gpu ? GpuBatchSize : CpuBatchSize);


    public ImageLimits Limits { get; init; } = new();

    /// <summary>
    /// Most memory one photo may make the process use at its peak, models included, as estimated from the photo's header
    /// and the options before decoding (<see cref="PhotoMemoryEstimator"/>); a photo over it is refused with the numbers.
    /// Default <see cref="DefaultMemoryBudgetBytes"/>.
    /// </summary>
    public long MemoryBudgetBytes { get; init; } = DefaultMemoryBudgetBytes;

    /// <summary>
    /// 3.5 GiB: the 4 GB machines the service runs on, less room for the host, and above every photo the product
    /// promises (24 MP at s = 2 measured and estimated under 3 GB), so only what would not fit in 4 GB is refused.
    /// </summary>
    public const long DefaultMemoryBudgetBytes = 3584L << 20;

    /// <summary>Throws naming the first setting out of range, before any model is opened.</summary>
    public void Validate()
    {
        if (BatchSize is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "Batch size (faces per network call) must be at least 1.");
        }
        if (IntraOpThreads is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), IntraOpThreads, "Thread count must be at least 1.");
        }
        if (MemoryBudgetBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MemoryBudgetBytes), MemoryBudgetBytes, "The memory budget must be a positive number of bytes.");
        }
        Limits.Validate();
    }
}
