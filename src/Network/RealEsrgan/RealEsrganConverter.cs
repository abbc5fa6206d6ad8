using System.Diagnostics;
using System.Globalization;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;

namespace CodeFormer.Network.RealEsrgan;

/// <summary>What a Real-ESRGAN conversion produced.</summary>
public sealed record RealEsrganConversionResult(string OnnxPath, int TensorCount, long ParameterCount, long OnnxBytes, TimeSpan Elapsed);

/// <summary>
/// Converts a Real-ESRGAN <c>.pth</c> (RealESRGAN_x2plus.pth keeps its weights under 'params_ema'; 'params' and a
/// plain state dict are accepted too) into the ONNX model the engine's background upsampler loads. All or nothing:
/// the checkpoint is validated strictly (every missing, mis-shaped or unexpected key is named) before any file is
/// touched, and the model is written under a temporary name and renamed into place only when complete.
/// </summary>
public static class RealEsrganConverter
{
    public static RealEsrganConversionResult Convert(string checkpointPath, string onnxPath, RrdbNetArchitecture architecture, IProgress<string>? progress = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(onnxPath);
        ArgumentNullException.ThrowIfNull(architecture);
        if (!File.Exists(checkpointPath))
        {
            throw new FileNotFoundException($"Real-ESRGAN checkpoint '{checkpointPath}' does not exist.", checkpointPath);
        }
        var clock = Stopwatch.StartNew();
        string target = Path.GetFullPath(onnxPath);
        if (string.Equals(target, Path.GetFullPath(checkpointPath), StringComparison.Ordinal))
        {
            throw new ArgumentException($"The output '{onnxPath}' would overwrite the checkpoint itself.", nameof(onnxPath));
        }

        progress?.Report($"Reading {checkpointPath}");
        var weights = Load(checkpointPath, architecture);
        progress?.Report(string.Create(CultureInfo.InvariantCulture,
            $"Checkpoint matches RRDBNet ({architecture.NumBlock} blocks, {architecture.NumFeat} features, grow {architecture.NumGrowCh}, x{architecture.Scale}): {weights.Count} tensors, {weights.TotalElements:N0} parameters"));

        string directory = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(directory);
        string temporary = Path.Combine(directory, $".{Path.GetFileName(target)}.{Guid.NewGuid().ToString("N")[..12]}.partial");
        try
        {
            progress?.Report($"Writing {target}");
            RrdbNetOnnxExporter.WriteFile(architecture, weights, temporary);
            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
        var result = new RealEsrganConversionResult(target, weights.Count, weights.TotalElements, new FileInfo(target).Length, clock.Elapsed);
        progress?.Report(string.Create(CultureInfo.InvariantCulture, $"Done in {result.Elapsed.TotalSeconds:F1} s: {result.OnnxBytes:N0} bytes"));
        return result;
    }

    /// <summary>Reads the state dict ('params_ema', else 'params', else the top level) and checks it strictly against the architecture.</summary>
    public static WeightSet Load(string checkpointPath, RrdbNetArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        var weights = TorchCheckpointReader.ReadStateDict(checkpointPath);
        weights.ValidateAgainst(new RrdbNetParameterLayout(architecture).Parameters, "RRDBNet (Real-ESRGAN)");
        return weights;
    }
}
