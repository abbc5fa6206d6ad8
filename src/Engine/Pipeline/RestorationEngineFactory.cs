using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Models;
using CodeFormer.Engine.Restoration;
using CodeFormer.Engine.Runtime;
using CodeFormer.Engine.Upsampling;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Network.RealEsrgan;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Pipeline;

/// <summary>
/// Builds a <see cref="RestorationEngine"/> from settings: picks the execution provider, resolves every model
/// (explicit paths first, then the verified cache, downloading unless offline), converts the official
/// CodeFormer and Real-ESRGAN checkpoints to ONNX on first use (once: the cache keeps the result), and opens the sessions.
/// </summary>
public static class RestorationEngineFactory
{
    public static async Task<RestorationEngine> CreateAsync(EngineSettings settings, Action<string>? notice = null, HttpClient? http = null, CancellationToken cancellationToken = default)
    {
        notice ??= _ => { };
        var sessionOptions = SessionOptionsFactory.Create(settings.Device, settings.IntraOpThreads, out var provider);
        bool gpu = provider == SessionOptionsFactory.CudaProvider;
        // Fix the batch size for the device now, so the session's batch limit and the engine's batches agree.
        settings = settings with { BatchSize = settings.BatchSizeFor(gpu) };
        notice($"execution provider: {provider}; {settings.BatchSize} face(s) per network call");
        var disposables = new List<IDisposable> { sessionOptions };
        try
        {
            var cache = new ModelCache(settings.ModelsDirectory, settings.Offline ? null : new ModelDownloader(http ?? new HttpClient(), notice));
            var restorer = await OpenRestorerAsync(settings, cache, sessionOptions, notice, cancellationToken);
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
            return new RestorationEngine(restorer, detector, upsampler, settings, ownedResources: [sessionOptions])
            {
                // What the process holds once the models are open (runtime, weights, ONNX Runtime's prepacked copies):
                // measured rather than guessed from file sizes, and the base of every photo's memory estimate.
                BaselineResidentBytes = Environment.WorkingSet,
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

    private static async Task<IFaceRestorer> OpenRestorerAsync(EngineSettings settings, ModelCache cache, SessionOptions sessionOptions, Action<string> notice, CancellationToken cancellationToken)
    {
        var onnxPath = await ResolveOnnxAsync(settings.ModelPath, ModelRegistry.CodeFormer, "CodeFormer", cache, notice,
            (checkpoint, onnx) => CheckpointConverter.Convert(checkpoint, onnx, CodeFormerArchitecture.Full, fp16: false, new Progress<string>(notice)),
            cancellationToken);
        var session = CodeFormerSession.Open(onnxPath, sessionOptions, maxBatch: settings.BatchSize!.Value);
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
        Action<string> notice, Action<string, string> convert, CancellationToken cancellationToken)
    {
        if (explicitPath is not null && !IsCheckpoint(explicitPath))
        {
            return File.Exists(explicitPath)
                ? explicitPath
                : throw new FileNotFoundException($"{what} model '{Path.GetFullPath(explicitPath)}' does not exist.");
        }
        var checkpoint = await cache.ResolveAsync(model, explicitPath, DownloadProgress(model.Name, notice), cancellationToken);
        var onnxPath = Path.Combine(cache.Directory, Path.GetFileNameWithoutExtension(checkpoint) + ".onnx");
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
