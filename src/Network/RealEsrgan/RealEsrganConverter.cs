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
    /// <param name="architecture">The expected network; null reads it from the checkpoint's names and shapes (<see cref="InferArchitecture(IReadOnlyList{ValueTuple{string, int[]}})"/>) before any tensor is read.</param>
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
        // Names and shapes are checked before any tensor is read; without an architecture it is first read off them.
        var weights = Load(checkpointPath, architecture, out var used);
        architecture = used;
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
        return Load(checkpointPath, architecture, out _);
    }

    /// <summary>
    /// Reads the state dict with names and shapes checked first, from the pickle alone: no tensor is inflated from a
    /// checkpoint that does not fit. With no <paramref name="architecture"/>, it is read off those names and shapes
    /// (<see cref="InferArchitecture(IReadOnlyList{ValueTuple{string, int[]}})"/>) before anything is inflated, so unknown
    /// or mis-shaped keys are refused without reading their data (before: every tensor was read to learn the size).
    /// </summary>
    private static WeightSet Load(string checkpointPath, RrdbNetArchitecture? architecture, out RrdbNetArchitecture used)
    {
        RrdbNetArchitecture? resolved = architecture;
        var weights = TorchCheckpointReader.ReadStateDict(checkpointPath, null, shapes =>
        {
            resolved ??= InferArchitecture(shapes);
            var problems = WeightSet.FindProblems(shapes, new RrdbNetParameterLayout(resolved).Parameters);
            if (problems.Count > 0)
            {
                throw new InvalidWeightsException(problems, NetworkName);
            }
        });
        // The reader calls the check before it reads any tensor, so the architecture is known here.
        used = resolved ?? throw new InvalidOperationException("The checkpoint reader did not report the names and shapes before reading the tensors.");
        return weights;
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
        return InferArchitecture(weights.Names.Select(n => (n, weights[n].Shape)).ToList());
    }

    /// <summary>
    /// Most residual blocks a checkpoint may name. Released models have 23 (x2plus, x4plus) or 6 (anime); the bound keeps
    /// a pickle of millions of distinct 'body.N' keys from making a name layout of 30 entries per key before the check.
    /// </summary>
    public const int MaxBlocks = 1000;

    /// <summary>As <see cref="InferArchitecture(WeightSet)"/>, from names and shapes alone (read off the pickle before any data).</summary>
    public static RrdbNetArchitecture InferArchitecture(IReadOnlyList<(string Name, int[] Shape)> shapes)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        var byName = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var (name, shape) in shapes)
        {
            byName.TryAdd(name, shape);
        }
        int[] first = ShapeOf(byName, shapes, "conv_first.weight", 4);
        int[] growth = ShapeOf(byName, shapes, "body.0.rdb1.conv1.weight", 4);
        int[] last = ShapeOf(byName, shapes, "conv_last.weight", 4);
        if (first[0] < 1 || growth[0] < 1 || last[0] < 1)
        {
            throw new InvalidWeightsException(
                [$"conv_first, body.0.rdb1.conv1 and conv_last have {first[0]}, {growth[0]} and {last[0]} output channels; each needs at least 1"], NetworkName);
        }
        const int inChannels = 3;
        int scale = first[1] switch
        {
            inChannels * 16 => 1,
            inChannels * 4 => 2,
            inChannels => 4,
            _ => throw new InvalidWeightsException(
                [$"conv_first.weight takes {first[1]} input channels; an RGB RRDBNet takes 3 (x4), 12 (x2) or 48 (x1)"], NetworkName),
        };
        int blocks = byName.Keys
            .Where(n => n.StartsWith("body.", StringComparison.Ordinal))
            .Select(n => n.Split('.')[1])
            .Distinct()
            .Count();
        if (blocks > MaxBlocks)
        {
            throw new InvalidWeightsException(
                [$"the checkpoint names {blocks} residual blocks ('body.N'); at most {MaxBlocks} are accepted (released Real-ESRGAN models have 23)"], NetworkName);
        }
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

    private static int[] ShapeOf(Dictionary<string, int[]> byName, IReadOnlyList<(string Name, int[] Shape)> inFileOrder, string name, int rank)
    {
        if (!byName.TryGetValue(name, out var shape))
        {
            throw new InvalidWeightsException([$"missing key '{name}': this is not an RRDBNet (Real-ESRGAN) state dict; its first keys are {string.Join(", ", inFileOrder.Take(5).Select(t => $"'{t.Name}'"))}"], NetworkName);
        }
        if (shape.Length != rank)
        {
            throw new InvalidWeightsException([$"key '{name}' has shape ({string.Join(", ", shape)}), expected a {rank}-D convolution weight"], NetworkName);
        }
        return shape;
    }
}
