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
    /// <param name="architecture">The expected network; null reads it from the checkpoint's shapes (<see cref="InferArchitecture"/>).</param>
    public static RealEsrganConversionResult Convert(string checkpointPath, string onnxPath, RrdbNetArchitecture? architecture, IProgress<string>? progress = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(checkpointPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(onnxPath);
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
        // With a known architecture, names and shapes are checked before any tensor is read (Load).
        var weights = architecture is null ? TorchCheckpointReader.ReadStateDict(checkpointPath) : Load(checkpointPath, architecture);
        architecture ??= InferArchitecture(weights);
        Validate(weights, architecture);
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
        // Names and shapes first: no tensor is read from a checkpoint that does not fit.
        var parameters = new RrdbNetParameterLayout(architecture).Parameters;
        return TorchCheckpointReader.ReadStateDict(checkpointPath, null, shapes =>
        {
            var problems = WeightSet.FindProblems(shapes, parameters);
            if (problems.Count > 0)
            {
                throw new InvalidWeightsException(problems, NetworkName);
            }
        });
    }

    /// <summary>Strict check of a state dict against an RRDBNet: every missing, mis-shaped or unexpected key is named.</summary>
    public static void Validate(WeightSet weights, RrdbNetArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(architecture);
        weights.ValidateAgainst(new RrdbNetParameterLayout(architecture).Parameters, NetworkName);
    }

    /// <summary>
    /// Reads the hyper-parameters off the tensor shapes, so fine-tuned or smaller RRDBNets convert without the user naming
    /// them: features = conv_first out, growth = body.0.rdb1.conv1 out, blocks = number of distinct body.{i} prefixes,
    /// out channels = conv_last out, scale from conv_first's input channels (3·f², f the unshuffle factor), assuming RGB
    /// input as every released Real-ESRGAN model has. The caller still checks the result strictly (<see cref="Validate"/>).
    /// </summary>
    public static RrdbNetArchitecture InferArchitecture(WeightSet weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        int[] first = ShapeOf(weights, "conv_first.weight", 4);
        int[] growth = ShapeOf(weights, "body.0.rdb1.conv1.weight", 4);
        int[] last = ShapeOf(weights, "conv_last.weight", 4);
        const int inChannels = 3;
        int scale = first[1] switch
        {
            inChannels * 16 => 1,
            inChannels * 4 => 2,
            inChannels => 4,
            _ => throw new InvalidWeightsException(
                [$"conv_first.weight takes {first[1]} input channels; an RGB RRDBNet takes 3 (x4), 12 (x2) or 48 (x1)"], NetworkName),
        };
        int blocks = weights.Names
            .Where(n => n.StartsWith("body.", StringComparison.Ordinal))
            .Select(n => n.Split('.')[1])
            .Distinct()
            .Count();
        return new RrdbNetArchitecture
        {
            InChannels = inChannels,
            OutChannels = last[0],
            NumFeat = first[0],
            NumBlock = blocks,
            NumGrowCh = growth[0],
            Scale = scale,
        };
    }

    private const string NetworkName = "RRDBNet (Real-ESRGAN)";

    private static int[] ShapeOf(WeightSet weights, string name, int rank)
    {
        if (!weights.Contains(name))
        {
            throw new InvalidWeightsException([$"missing key '{name}': this is not an RRDBNet (Real-ESRGAN) state dict; its first keys are {string.Join(", ", weights.Names.Take(5).Select(n => $"'{n}'"))}"], NetworkName);
        }
        var shape = weights[name].Shape;
        if (shape.Length != rank)
        {
            throw new InvalidWeightsException([$"key '{name}' has shape ({string.Join(", ", shape)}), expected a {rank}-D convolution weight"], NetworkName);
        }
        return shape;
    }
}
