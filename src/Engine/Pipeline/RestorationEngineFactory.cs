using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Models;
using CodeFormer.Engine.Restoration;
using CodeFormer.Engine.Runtime;
using CodeFormer.Engine.Upsampling;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Network.RealEsrgan;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Pipeline;

/// <summary>
/// Builds a <see cref="RestorationEngine"/> from settings: picks the execution provider, resolves every model
/// (explicit paths first, then the verified cache, downloading unless offline), converts the official
/// CodeFormer and Real-ESRGAN checkpoints to ONNX on first use (once: the cache keeps the result), and opens the sessions.
/// Hosts get it from DI (<see cref="Hosting.EngineServiceCollectionExtensions.AddRestorationEngine"/>) with their
/// <see cref="ILogger"/> and an <see cref="HttpClient"/> from the client factory; the CLI builds one with its own.
/// </summary>
public sealed class RestorationEngineFactory(ILogger<RestorationEngineFactory> logger, HttpClient http)
{
    /// <summary>A factory that logs nowhere, with its own HttpClient (tests, scripts).</summary>
    public static RestorationEngineFactory WithoutLogging() => new(NullLogger<RestorationEngineFactory>.Instance, new HttpClient());

    /// <exception cref="GpuUnavailableException">CUDA was required (device cuda or requireGpu) and cannot be used; the reason is in the message.</exception>
    public async Task<RestorationEngine> CreateAsync(EngineSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        Action<string> notice = message => logger.LogInformation("{Notice}", message);
        var sessionOptions = SessionOptionsFactory.Create(settings, out var provider);
        if (provider.FallbackReason is { } reason)
        {
            logger.LogWarning("CUDA is not usable ({Reason}); running on the CPU, which takes seconds to minutes per photo", reason);
        }
        // Fix the batch size for the device now, so the session's batch limit and the engine's batches agree.
        settings = settings with { BatchSize = settings.BatchSizeFor(provider.IsGpu) };
        notice($"execution provider: {provider.Description}; up to {settings.BatchSize} face(s) per network call");
        var disposables = new List<IDisposable> { sessionOptions };
        try
        {
            var cache = new ModelCache(settings.ModelsDirectory, settings.Offline ? null : new ModelDownloader(http, notice));
            var restorer = await OpenRestorerAsync(settings, provider, cache, sessionOptions, notice, cancellationToken);
            disposables.Insert(0, restorer);
            IFaceDetector? detector = null;
            if (settings.NeedsDetector)
            {
                var model = settings.Detector == DetectorKind.RetinaFace ? ModelRegistry.RetinaFaceMobile : ModelRegistry.YuNet;
                var path = await cache.ResolveAsync(model, settings.DetectorModelPath, DownloadProgress(model.Name, notice), cancellationToken);
                detector = FaceDetectorFactory.Create(settings.Detector, path, sessionOptions, new FaceDetectionOptions());
                disposables.Insert(0, detector);
            }
            RealEsrganUpsampler? upsampler = null;
            if (settings.NeedsBackgroundModel)
            {
                upsampler = await OpenUpsamplerAsync(settings, cache, sessionOptions, notice, cancellationToken);
                disposables.Insert(0, upsampler);
            }
            ReleaseModelLoadingMemory();
            return new RestorationEngine(restorer, detector, upsampler, settings, ownedResources: [sessionOptions], logger: logger)
            {
                // What the process holds once the models are open (runtime, weights, ONNX Runtime's prepacked copies):
                // measured rather than guessed from file sizes, and the base of every photo's memory estimate.
                BaselineResidentBytes = Environment.WorkingSet,
                NetworkBytesPerFace = provider.IsGpu
                    ? EngineMemoryProfile.HostTensorBytesPerFace(restorer.FaceSize)
                    : EngineMemoryProfile.CodeFormerBytesPerFace,
                NetworkUsesHostHeap = !provider.IsGpu,
            };
        }
        catch
        {
            foreach (var disposable in disposables)
            {
                disposable.Dispose();
            }
            throw;
        }
    }

    /// <summary>
    /// Opening the models leaves their file bytes, the parsed protobuf and ONNX Runtime's pre-packing scratch freed but
    /// still resident (managed garbage, and glibc heap under its mmap threshold): with the full-size CodeFormer and YuNet
    /// the resident set right after loading was 841–857 MiB, and 437 MiB once this is handed back (bench memory, 24 MP,
    /// 2026-12-01 22:43 and 23:01 UTC; the photo's peak itself did not change: 1,468 and 1,493 MiB). A
    /// long-running worker would otherwise carry the difference forever, and the memory budget would count it in every
    /// photo's estimate. Once per engine, so its cost (tens of ms) does not matter.
    /// </summary>
    private static void ReleaseModelLoadingMemory()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        NativeHeap.Trim();
    }

    /// <summary>
    /// The CUDA device whose pinned host memory stages the face batches, or null for ordinary memory: only IO-bound
    /// batches on CUDA are staged; the CPU path keeps binding (or running on) the batcher's own buffers.
    /// </summary>
    internal static int? PinnedDeviceFor(EngineSettings settings, ExecutionProviderChoice provider, bool ioBinding)
        => ioBinding && provider.IsGpu && settings.Cuda.PinnedHostMemory ? settings.Cuda.DeviceId : null;

    private async Task<IFaceRestorer> OpenRestorerAsync(EngineSettings settings, ExecutionProviderChoice provider, ModelCache cache, SessionOptions sessionOptions,
        Action<string> notice, CancellationToken cancellationToken)
    {
        bool fp16 = settings.Precision == ModelPrecision.Fp16;
        // The FP16 conversion of a checkpoint lives beside the FP32 one ("codeformer.fp16.onnx"), stamped the same way.
        var onnxPath = await ResolveOnnxAsync(settings.ModelPath, ModelRegistry.CodeFormer, "CodeFormer", cache, notice,
            (checkpoint, onnx) => CheckpointConverter.Convert(checkpoint, onnx, CodeFormerArchitecture.Full, fp16, new Progress<string>(notice)),
            cancellationToken, fp16 ? ".fp16" : "");
        var runConfig = SessionOptionsFactory.CodeFormerRunConfig(settings, provider);
        bool ioBinding = settings.IoBinding ?? provider.IsGpu;
        var session = CodeFormerSession.Open(onnxPath, sessionOptions, maxBatch: settings.BatchSize!.Value,
            ioBinding: ioBinding, runConfig: runConfig, cudaPinnedDevice: PinnedDeviceFor(settings, provider, ioBinding));
        string precision = session.Contract.Precision ?? "float32";
        if (fp16 != (precision == "float16"))
        {
            logger.LogWarning("Precision {Wanted} was asked for but '{Model}' computes in {Actual}", settings.Precision, onnxPath, precision);
        }
        if (fp16 && !provider.IsGpu)
        {
            logger.LogWarning("An FP16 model on the CPU runs slower than FP32 (ONNX Runtime's CPU kernels cast to float32 around each node)");
        }
        if (session.Contract.License is { } licence && licence.Contains("non-commercial", StringComparison.OrdinalIgnoreCase))
        {
            notice($"model licence: {licence}");
        }
        return session;
    }

    private static async Task<RealEsrganUpsampler> OpenUpsamplerAsync(EngineSettings settings, ModelCache cache, SessionOptions sessionOptions, Action<string> notice, CancellationToken cancellationToken)
    {
        // The architecture is read off the checkpoint: the official file gives RRDBNet x2plus, and a fine-tuned or
        // smaller RRDBNet given explicitly converts as what it is (still checked strictly, key by key).
        var onnxPath = await ResolveOnnxAsync(settings.BackgroundModelPath, ModelRegistry.RealEsrganX2, "Real-ESRGAN", cache, notice,
            (checkpoint, onnx) => RealEsrganConverter.Convert(checkpoint, onnx, architecture: null, new Progress<string>(notice)),
            cancellationToken);
        return RealEsrganUpsampler.Open(onnxPath, sessionOptions);
    }

    /// <summary>
    /// An explicit ONNX is used as is; otherwise the checkpoint (explicit .pth, else the registry's verified file,
    /// downloaded unless offline) is converted once to "&lt;cache&gt;/&lt;stem&gt;.onnx" and reused while its
    /// <see cref="ConvertedModelStamp"/> says it came from that very checkpoint (official and fine-tuned files share
    /// the stem, and so the name).
    /// </summary>
    private static async Task<string> ResolveOnnxAsync(string? explicitPath, KnownModel model, string what, ModelCache cache,
        Action<string> notice, Action<string, string> convert, CancellationToken cancellationToken, string variant = "")
    {
        if (explicitPath is not null && !IsCheckpoint(explicitPath))
        {
            return File.Exists(explicitPath)
                ? explicitPath
                : throw new FileNotFoundException($"{what} model '{Path.GetFullPath(explicitPath)}' does not exist.");
        }
        var checkpoint = await cache.ResolveAsync(model, explicitPath, DownloadProgress(model.Name, notice), cancellationToken);
        var onnxPath = Path.Combine(cache.Directory, Path.GetFileNameWithoutExtension(checkpoint) + variant + ".onnx");
        if (!ConvertedModelStamp.Matches(onnxPath, checkpoint))
        {
            notice($"converting {checkpoint} to ONNX (once): {onnxPath}");
            convert(checkpoint, onnxPath);
            ConvertedModelStamp.Write(onnxPath, checkpoint);
        }
        return onnxPath;
    }

    /// <summary>Download progress as a notice every 10 %, so a 376 MB first download is not a silent wait.</summary>
    private static IProgress<(long Received, long? Total)> DownloadProgress(string name, Action<string> notice)
    {
        int lastDecile = -1;
        return new Progress<(long Received, long? Total)>(p =>
        {
            if (p.Total is not > 0)
            {
                return;
            }
            int decile = (int)(10 * p.Received / p.Total.Value);
            if (decile != lastDecile)
            {
                lastDecile = decile;
                notice($"downloading {name}: {p.Received / (1 << 20):N0} of {p.Total.Value / (1 << 20):N0} MiB");
            }
        });
    }

    private static bool IsCheckpoint(string path) => Path.GetExtension(path).ToLowerInvariant() is ".pth" or ".pt" or ".ckpt";
}
