using CodeFormer.Network.Architecture;
using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Onnx;

/// <summary>
/// Turns a CodeFormer architecture plus state-dict weights into an ONNX model (opset 17).
/// Contract: input <c>input</c> float32 [N, 3, S, S] in [-1, 1] RGB; input <c>weight</c> float64 [1]
/// (the fidelity w, only when fuse blocks are included); output <c>output</c> float32 [N, 3, S, S],
/// unclamped. Weight initializers are named exactly as the state-dict keys.
/// </summary>
public static class CodeFormerOnnxExporter
{
    public const string InputName = CodeFormerGraphBuilder.InputName;
    public const string WeightInputName = CodeFormerGraphBuilder.WeightInputName;
    public const string OutputName = CodeFormerGraphBuilder.OutputName;

    /// <summary>Prefix of every initializer that is not a state-dict weight.</summary>
    public const string ConstantPrefix = GraphInitializers.ConstantPrefix;

    public static OnnxGraph BuildGraph(CodeFormerArchitecture architecture, WeightSet weights, CodeFormerExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        if (!Enum.IsDefined(options.Precision))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Precision, $"Unknown ONNX precision {(int)options.Precision}; expected Float32 or Float16.");
        }
        var layout = new NetworkLayout(architecture);
        ValidateWeights(layout, weights, options);
        return new CodeFormerGraphBuilder(layout, weights, options).Build();
    }

    /// <summary>Builds and writes the model; the file appears only once complete (temporary file + rename).</summary>
    public static void WriteFile(CodeFormerArchitecture architecture, WeightSet weights, string path, CodeFormerExportOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        OnnxModelWriter.WriteFile(BuildGraph(architecture, weights, options), path);
    }

    /// <summary>Where the w = 0 graph of a model lives: beside it, "x.onnx" → "x.w0.onnx".</summary>
    public static string CodeOnlyPathFor(string modelPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(modelPath);
        string extension = Path.GetExtension(modelPath);
        if (extension.Length == 0)
        {
            return modelPath + ".w0.onnx";
        }
        return modelPath[..^extension.Length] + ".w0" + extension;
    }

    /// <summary>
    /// The weights must be the full state dict of the architecture. A code-only graph also accepts a set
    /// without the fuse keys (e.g. one already stripped); the full set's fuse keys are then simply unused.
    /// </summary>
    private static void ValidateWeights(NetworkLayout layout, WeightSet weights, CodeFormerExportOptions options)
    {
        bool hasFuseKeys = weights.Names.Any(ParameterLayout.IsFuseParameter);
        bool requireFuse = options.IncludeFuseBlocks || hasFuseKeys;
        weights.ValidateAgainst(new ParameterLayout(layout, includeFuseBlocks: requireFuse));
    }
}
