using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Models;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Restoration;
using CodeFormer.Engine.Runtime;
using CodeFormer.Network.Checkpoints;

namespace CodeFormer.Engine.Tasks;

/// <summary>
/// Builds a <see cref="FaceTaskEngine"/> for colorization or inpainting: the task's official checkpoint from the
/// verified cache (downloaded unless offline), converted once to ONNX with the task's layout and AdaIN setting, or
/// an explicit model (.onnx as is, .pth converted); a detector only when faces must be aligned first.
/// </summary>
public static class FaceTaskEngineFactory
{
    /// <param name="settings">Device, models and limits as for restoration; <see cref="EngineSettings.ModelPath"/> is the task's model.</param>
    /// <param name="withDetector">Open a face detector, for <see cref="FaceTaskOptions.AlignFirst"/>.</param>
    public static async Task<FaceTaskEngine> CreateAsync(FaceTask task, EngineSettings settings, bool withDetector, Action<string>? notice = null,
        HttpClient? http = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        notice ??= _ => { };
        var profile = task == FaceTask.Restore
            ? throw new ArgumentException("Restoration engines come from RestorationEngineFactory.", nameof(task))
            : FaceTaskProfile.For(task);
        settings.Validate();
        var sessionOptions = SessionOptionsFactory.Create(settings.Device, settings.IntraOpThreads, out var provider);
        notice($"execution provider: {provider}");
        IFaceRestorer? restorer = null;
        IFaceDetector? detector = null;
        try
        {
            var cache = new ModelCache(settings.ModelsDirectory, settings.Offline ? null : new ModelDownloader(http ?? new HttpClient(), notice));
            var onnxPath = await TaskModelResolver.ResolveOnnxAsync(profile, settings.ModelPath, cache, notice, cancellationToken).ConfigureAwait(false);
            var session = CodeFormerSession.Open(onnxPath, sessionOptions, maxBatch: 1);
            restorer = session;
            if (session.Contract.License is { } licence && licence.Contains("non-commercial", StringComparison.OrdinalIgnoreCase))
            {
                notice($"model licence: {licence}");
            }
            if (withDetector)
            {
                var model = settings.Detector == DetectorKind.RetinaFace ? ModelRegistry.RetinaFaceMobile : ModelRegistry.YuNet;
                var path = await cache.ResolveAsync(model, settings.DetectorModelPath, null, cancellationToken).ConfigureAwait(false);
                detector = FaceDetectorFactory.Create(settings.Detector, path, sessionOptions, new FaceDetectionOptions());
            }
            return new FaceTaskEngine(task, restorer, detector, settings with { BatchSize = 1 }, ownedResources: [sessionOptions]);
        }
        catch
        {
            detector?.Dispose();
            restorer?.Dispose();
            sessionOptions.Dispose();
            throw;
        }
    }
}
