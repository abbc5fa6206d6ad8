using CodeFormer.Engine.Models;
using CodeFormer.Network.Checkpoints;

namespace CodeFormer.Engine.Tasks;

/// <summary>Resolves the ONNX model of a task (restore, colorize, inpaint) for the engines built outside RestorationEngineFactory.</summary>
internal static class TaskModelResolver
{
    /// <summary>
    /// An explicit ONNX is used as is (its graph decides AdaIN); a checkpoint — explicit, or the registry's — is converted
    /// once to "&lt;cache&gt;/&lt;stem&gt;.onnx" with the task's architecture and AdaIN setting, and reused while its stamp
    /// says it came from that very file.
    /// </summary>
    /// <param name="fp16">Convert to float16 (<see cref="ModelPrecision.Fp16"/>), kept beside the FP32 file as "&lt;stem&gt;.fp16.onnx" as the photo engine does.</param>
    public static async Task<string> ResolveOnnxAsync(FaceTaskProfile profile, string? explicitPath, ModelCache cache, Action<string> notice, CancellationToken cancellationToken, bool fp16 = false)
    {
        if (explicitPath is not null && Path.GetExtension(explicitPath).ToLowerInvariant() is not (".pth" or ".pt" or ".ckpt"))
        {
            return File.Exists(explicitPath)
                ? explicitPath
                : throw new FileNotFoundException($"{profile.Task} model '{Path.GetFullPath(explicitPath)}' does not exist.");
        }
        if (explicitPath is null && profile.Model.LicenceNotice is { } licenceNotice)
        {
            notice(licenceNotice);
        }
        var checkpoint = await cache.ResolveAsync(profile.Model, explicitPath, null, cancellationToken).ConfigureAwait(false);
        var onnxPath = Path.Combine(cache.Directory, Path.GetFileNameWithoutExtension(checkpoint) + (fp16 ? ".fp16" : "") + ".onnx");
        if (!ConvertedModelStamp.Matches(onnxPath, checkpoint))
        {
            notice($"converting {checkpoint} to ONNX (once, AdaIN {(profile.AdaIn ? "on" : "off")}{(fp16 ? ", float16" : "")}): {onnxPath}");
            CheckpointConverter.Convert(checkpoint, onnxPath, profile.Architecture, fp16, new Progress<string>(notice), profile.AdaIn);
            ConvertedModelStamp.Write(onnxPath, checkpoint);
        }
        return onnxPath;
    }
}
