using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Models;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Restoration;
using CodeFormer.Engine.Runtime;

namespace CodeFormer.Engine.Tasks;

/// <summary>
/// The sessions of an engine that runs one face per network call (colorize, inpaint, video): the task's model resolved
/// through the verified cache (converted once), an optional detector, and the session options they share. One place for
/// what <see cref="FaceTaskEngineFactory"/> and the video restorer both open, so they resolve, announce and clean up alike.
/// </summary>
internal sealed record SingleFaceModels(IFaceRestorer Restorer, IFaceDetector? Detector, IDisposable SessionOptions)
{
    /// <param name="detectorOptions">The detector's options when <paramref name="withDetector"/> (video reuses its buffers frame to frame).</param>
    public static async Task<SingleFaceModels> OpenAsync(FaceTaskProfile profile, EngineSettings settings, bool withDetector,
        Action<string> notice, HttpClient? http, CancellationToken cancellationToken, FaceDetectionOptions? detectorOptions = null)
    {
        settings.Validate();
        // The photo engine's path (RestorationEngineFactory): the whole settings decide the provider, so CUDA's options,
        // requireGpu (refused with the same GpuUnavailableException) and the precision reach these engines too.
        var sessionOptions = SessionOptionsFactory.Create(settings, out var provider);
        notice($"execution provider: {provider.Description}");
        IFaceRestorer? restorer = null;
        try
        {
            var cache = new ModelCache(settings.ModelsDirectory, settings.Offline ? null : new ModelDownloader(http ?? new HttpClient(), notice));
            bool fp16 = settings.Precision == ModelPrecision.Fp16;
            var onnxPath = await TaskModelResolver.ResolveOnnxAsync(profile, settings.ModelPath, cache, notice, cancellationToken, fp16).ConfigureAwait(false);
            var session = CodeFormerSession.Open(onnxPath, sessionOptions, maxBatch: 1,
                ioBinding: settings.IoBinding ?? provider.IsGpu, runConfig: SessionOptionsFactory.CodeFormerRunConfig(settings, provider));
            if (fp16 != (session.Contract.Precision == "float16"))
            {
                notice($"precision {settings.Precision} was asked for but '{onnxPath}' computes in {session.Contract.Precision ?? "float32"}");
            }
            restorer = session;
            if (session.Contract.License is { } licence && licence.Contains("non-commercial", StringComparison.OrdinalIgnoreCase))
            {
                notice($"model licence: {licence}");
            }
            IFaceDetector? detector = null;
            if (withDetector)
            {
                var model = settings.Detector == DetectorKind.RetinaFace ? ModelRegistry.RetinaFaceMobile : ModelRegistry.YuNet;
                var path = await cache.ResolveAsync(model, settings.DetectorModelPath, null, cancellationToken).ConfigureAwait(false);
                detector = FaceDetectorFactory.Create(settings.Detector, path, sessionOptions, detectorOptions ?? new FaceDetectionOptions());
            }
            return new SingleFaceModels(restorer, detector, sessionOptions);
        }
        catch
        {
            restorer?.Dispose();
            sessionOptions.Dispose();
            throw;
        }
    }
}
