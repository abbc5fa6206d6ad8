using CodeFormer.Engine.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CodeFormer.Engine.Restoration;

/// <summary>
/// How to drive one CodeFormer-like ONNX model, read from its session metadata: which input takes the
/// NCHW face batch, which (if any) takes the fidelity weight and in which element type, whether the batch
/// axis is free, the face size and the output to read. Covers this project's exports and the community
/// variants of reference D.1 (facefusion <c>input</c>/<c>weight</c> double [1], <c>x</c>/<c>w</c>, positional
/// exports, weight-less "naive" exports).
/// </summary>
public sealed record CodeFormerModelContract
{
    public const string FuseBlocksMetadataKey = "codeformer.fuse_blocks";
    public const string LicenseMetadataKey = "license";
    public const string PrecisionMetadataKey = "codeformer.precision";

    public required string ModelPath { get; init; }
    public required string ImageInputName { get; init; }
    /// <summary>The fidelity input (w), or null for models that have none (e.g. code-only graphs).</summary>
    public string? FidelityInputName { get; init; }
    /// <summary><see cref="TensorElementType.Double"/> or <see cref="TensorElementType.Float"/> when a fidelity input exists.</summary>
    internal TensorElementType? FidelityElementType { get; init; }
    /// <summary>True for a rank-0 fidelity input, false for shape [1].</summary>
    public bool FidelityIsScalar { get; init; }
    /// <summary>The batch size the model was exported with, or null when the batch axis is dynamic.</summary>
    public int? FixedBatch { get; init; }
    public required int FaceSize { get; init; }
    public required string OutputName { get; init; }
    /// <summary>Metadata <c>codeformer.fuse_blocks</c> (which CFT scales the export contains), when present.</summary>
    public string? FuseBlocks { get; init; }
    /// <summary>Metadata <c>license</c>, when present.</summary>
    public string? License { get; init; }
    /// <summary>Metadata <c>codeformer.precision</c> ("float32" or "float16" compute; I/O is float32 either way), when present.</summary>
    public string? Precision { get; init; }

    public bool HasFidelityInput => FidelityInputName is not null;
    public bool HasDynamicBatch => FixedBatch is null;

    /// <summary>Reads the contract or throws <see cref="ModelContractException"/> naming the model and the problem.</summary>
    internal static CodeFormerModelContract Read(InferenceSession session, string modelPath)
        => TryRead(session, modelPath, out var contract, out string? reason)
            ? contract
            : throw new ModelContractException($"Cannot drive '{modelPath}' as a CodeFormer model: {reason}.");

    internal static bool TryRead(InferenceSession session, string modelPath, out CodeFormerModelContract contract, out string? reason)
    {
        contract = null!;
        reason = Check(session, modelPath, out var read);
        if (reason is null)
        {
            contract = read!;
            return true;
        }
        return false;
    }

    private static string? Check(InferenceSession session, string modelPath, out CodeFormerModelContract? contract)
    {
        contract = null;
        var inputs = session.InputMetadata.ToList();
        if (inputs.Count is 0 or > 2)
        {
            return $"it has {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => $"'{i.Key}'"))}), expected an image input and at most one fidelity input";
        }

        var image = inputs.FirstOrDefault(i => i.Key is "input" or "x");
        if (image.Key is null)
        {
            image = inputs.FirstOrDefault(i => i.Value.IsTensor && i.Value.Dimensions.Length == 4 && i.Value.ElementDataType == TensorElementType.Float);
        }
        if (image.Key is null)
        {
            // Name the first input so the message says what the model has instead.
            image = inputs[0];
        }
        string imageProblem = CheckImageTensor("input", image.Key, image.Value);
        if (imageProblem.Length > 0)
        {
            return imageProblem;
        }
        var dims = image.Value.Dimensions;
        if (dims[2] <= 0 || dims[3] <= 0)
        {
            return $"input '{image.Key}' has symbolic height/width {Shape.Describe(image.Value)}; the face size must be fixed in the model";
        }
        if (dims[2] != dims[3])
        {
            return $"input '{image.Key}' is {dims[2]}×{dims[3]}, expected a square face crop [N,3,S,S]";
        }
        int faceSize = dims[2];
        int? fixedBatch = dims[0] > 0 ? dims[0] : null;

        string? fidelityName = null;
        TensorElementType? fidelityType = null;
        bool fidelityScalar = false;
        if (inputs.Count == 2)
        {
            var other = inputs.First(i => i.Key != image.Key);
            var meta = other.Value;
            if (!meta.IsTensor || meta.ElementDataType is not (TensorElementType.Double or TensorElementType.Float))
            {
                return $"second input '{other.Key}' is {Shape.DescribeType(meta)}, expected the fidelity weight as double or float";
            }
            if (meta.Dimensions.Length > 1 || (meta.Dimensions.Length == 1 && meta.Dimensions[0] != 1))
            {
                return $"second input '{other.Key}' has shape {Shape.Describe(meta)}, expected the fidelity weight as [1] or a scalar";
            }
            // Names other than weight/w are accepted on purpose: hpc203's export addresses the weight by position (reference D.1).
            fidelityName = other.Key;
            fidelityType = meta.ElementDataType;
            fidelityScalar = meta.Dimensions.Length == 0;
        }

        var (outputName, outputMeta) = session.OutputMetadata.First();
        string outputProblem = CheckImageTensor("output", outputName, outputMeta);
        if (outputProblem.Length > 0)
        {
            return outputProblem;
        }
        var outDims = outputMeta.Dimensions;
        if ((outDims[2] > 0 && outDims[2] != faceSize) || (outDims[3] > 0 && outDims[3] != faceSize))
        {
            return $"output '{outputName}' has shape {Shape.Describe(outputMeta)}, expected [N,3,{faceSize},{faceSize}] like the input";
        }
        if (fixedBatch is { } batch && outDims[0] > 0 && outDims[0] != batch)
        {
            return $"output '{outputName}' has batch {outDims[0]} but input '{image.Key}' has batch {batch}";
        }

        var metadata = session.ModelMetadata.CustomMetadataMap;
        contract = new CodeFormerModelContract
        {
            ModelPath = modelPath,
            ImageInputName = image.Key,
            FidelityInputName = fidelityName,
            FidelityElementType = fidelityType,
            FidelityIsScalar = fidelityScalar,
            FixedBatch = fixedBatch,
            FaceSize = faceSize,
            OutputName = outputName,
            FuseBlocks = metadata.GetValueOrDefault(FuseBlocksMetadataKey),
            License = metadata.GetValueOrDefault(LicenseMetadataKey),
            Precision = metadata.GetValueOrDefault(PrecisionMetadataKey),
        };
        return null;
    }

    /// <summary>Checks a float32 [N,3,S,S]-shaped tensor; returns "" when it fits.</summary>
    private static string CheckImageTensor(string role, string name, NodeMetadata meta)
    {
        if (!meta.IsTensor)
        {
            return $"{role} '{name}' is a {meta.OnnxValueType}, expected a float tensor [N,3,S,S]";
        }
        if (meta.ElementDataType != TensorElementType.Float)
        {
            return $"{role} '{name}' is {Shape.DescribeType(meta)}, expected float [N,3,S,S]";
        }
        if (meta.Dimensions.Length != 4)
        {
            return $"{role} '{name}' has {meta.Dimensions.Length} dimensions {Shape.Describe(meta)}, expected [N,3,S,S]";
        }
        if (meta.Dimensions[1] > 0 && meta.Dimensions[1] != 3)
        {
            return $"{role} '{name}' has {meta.Dimensions[1]} channels {Shape.Describe(meta)}, expected 3 (RGB)";
        }
        return "";
    }
}
