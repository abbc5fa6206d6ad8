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
        var models = await SingleFaceModels.OpenAsync(profile, settings, withDetector, notice, http, cancellationToken).ConfigureAwait(false);
        return new FaceTaskEngine(task, models.Restorer, models.Detector, settings with { BatchSize = 1 }, ownedResources: [models.SessionOptions]);
    }
}
