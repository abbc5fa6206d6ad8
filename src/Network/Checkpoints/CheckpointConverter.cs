using System.Diagnostics;
using System.Globalization;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;

namespace CodeFormer.Network.Checkpoints;

/// <summary>What a conversion produced: the two model files and what went into them.</summary>
public sealed record ConversionResult(
    string OnnxPath,
    string CodeOnlyOnnxPath,
    int TensorCount,
    long ParameterCount,
    OnnxPrecision Precision,
    long OnnxBytes,
    long CodeOnlyOnnxBytes,
    TimeSpan Elapsed);

/// <summary>
/// Converts a CodeFormer <c>.pth</c> into the ONNX pair the engine loads: the full model (fidelity input
/// w) and its w = 0 sibling (<see cref="CodeFormerOnnxExporter.CodeOnlyPathFor"/>). All or nothing: the
/// checkpoint is validated before any file is touched, both models are written under temporary names
/// and only renamed into place once both exist, so a failure never leaves a partial or mismatched pair
/// and never damages files that were there before.
/// </summary>
public static class CheckpointConverter
{
    public static ConversionResult Convert(string checkpointPath, string onnxPath, CodeFormerArchitecture architecture, bool fp16, IProgress<string>? progress = null, bool adaIn = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(onnxPath);
        ArgumentNullException.ThrowIfNull(architecture);
        if (!File.Exists(checkpointPath))
        {
            throw new FileNotFoundException($"Checkpoint '{checkpointPath}' does not exist.", checkpointPath);
        }
        var clock = Stopwatch.StartNew();
        string target = Path.GetFullPath(onnxPath);
        string codeOnlyTarget = CodeFormerOnnxExporter.CodeOnlyPathFor(target);
        if (string.Equals(target, Path.GetFullPath(checkpointPath), StringComparison.Ordinal))
        {
            throw new ArgumentException($"The output '{onnxPath}' would overwrite the checkpoint itself.", nameof(onnxPath));
        }
        var precision = fp16 ? OnnxPrecision.Float16 : OnnxPrecision.Float32;

        progress?.Report($"Reading {checkpointPath}");
        var weights = CodeFormerCheckpoint.Load(checkpointPath, architecture);
        progress?.Report(string.Create(CultureInfo.InvariantCulture,
            $"Checkpoint matches the architecture: {weights.Count} tensors, {weights.TotalElements:N0} parameters"));

        string directory = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(directory);
        string stamp = Guid.NewGuid().ToString("N")[..12];
        string temporary = Path.Combine(directory, $".{Path.GetFileName(target)}.{stamp}.partial");
        string codeOnlyTemporary = Path.Combine(directory, $".{Path.GetFileName(codeOnlyTarget)}.{stamp}.partial");
        try
        {
            progress?.Report($"Writing {target} ({CodeFormerModelMetadata.PrecisionText(precision)}, with fuse blocks)");
            CodeFormerOnnxExporter.WriteFile(architecture, weights, temporary,
                new CodeFormerExportOptions { IncludeFuseBlocks = true, Precision = precision, AdaIn = adaIn });
            progress?.Report($"Writing {codeOnlyTarget} (w = 0, no fuse blocks)");
            CodeFormerOnnxExporter.WriteFile(architecture, weights, codeOnlyTemporary,
                new CodeFormerExportOptions { IncludeFuseBlocks = false, Precision = precision, AdaIn = adaIn });
            // The sibling goes first: once the main file is in place, its pair is complete.
            File.Move(codeOnlyTemporary, codeOnlyTarget, overwrite: true);
            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
            File.Delete(codeOnlyTemporary);
        }
        var result = new ConversionResult(target, codeOnlyTarget, weights.Count, weights.TotalElements, precision,
            new FileInfo(target).Length, new FileInfo(codeOnlyTarget).Length, clock.Elapsed);
        progress?.Report(string.Create(CultureInfo.InvariantCulture,
            $"Done in {result.Elapsed.TotalSeconds:F1} s: {result.OnnxBytes:N0} + {result.CodeOnlyOnnxBytes:N0} bytes"));
        return result;
    }
}
