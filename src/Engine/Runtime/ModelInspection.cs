using System.Text;
using CodeFormer.Engine.Restoration;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Runtime;

/// <summary>One graph input or output: name, element type and shape with symbolic dimensions kept (e.g. N,3,512,512).</summary>
public sealed record TensorDescription(string Name, string ElementType, IReadOnlyList<string> Shape)
{
    public override string ToString() => $"{Name}: {ElementType} [{string.Join(",", Shape)}]";
}

/// <summary>
/// What an ONNX file contains and whether this engine can drive it as CodeFormer (for <c>models inspect</c>).
/// Exactly one of <see cref="Contract"/> and <see cref="NotDrivableReason"/> is set.
/// </summary>
public sealed record ModelInspection(
    string Path,
    IReadOnlyList<TensorDescription> Inputs,
    IReadOnlyList<TensorDescription> Outputs,
    IReadOnlyDictionary<string, string> Metadata,
    CodeFormerModelContract? Contract,
    string? NotDrivableReason,
    string? CodeOnlySibling)
{
    /// <summary>Loads the model on the CPU with default options, describes it and reads its CodeFormer contract.</summary>
    public static ModelInspection Inspect(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Model '{path}' does not exist.", path);
        }
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        OnnxExternalDataCheck.Check(path);
        using var session = new InferenceSession(path, options);
        bool drivable = CodeFormerModelContract.TryRead(session, path, out var contract, out string? reason);
        string sibling = CodeFormerSession.CodeOnlyPathFor(path);
        return new ModelInspection(
            path,
            Describe(session.InputMetadata),
            Describe(session.OutputMetadata),
            new SortedDictionary<string, string>(session.ModelMetadata.CustomMetadataMap, StringComparer.Ordinal),
            drivable ? contract : null,
            drivable ? null : reason,
            File.Exists(sibling) ? sibling : null);
    }

    public string ToText()
    {
        var text = new StringBuilder();
        text.AppendLine($"Model: {Path}");
        text.AppendLine("Inputs:");
        foreach (var input in Inputs)
        {
            text.AppendLine($"  {input}");
        }
        text.AppendLine("Outputs:");
        foreach (var output in Outputs)
        {
            text.AppendLine($"  {output}");
        }
        text.AppendLine(Metadata.Count == 0 ? "Metadata: (none)" : "Metadata:");
        foreach (var (key, value) in Metadata)
        {
            text.AppendLine($"  {key} = {value}");
        }
        if (Contract is { } c)
        {
            text.AppendLine("CodeFormer contract: drivable");
            text.AppendLine($"  image input: {c.ImageInputName}, face size {c.FaceSize}, batch {(c.FixedBatch is { } b ? $"fixed {b}" : "dynamic")}");
            text.AppendLine(c.FidelityInputName is { } w
                ? $"  fidelity input: {w} ({c.FidelityElementType.ToString()!.ToLowerInvariant()} {(c.FidelityIsScalar ? "scalar" : "[1]")})"
                : "  fidelity input: none (fidelity is ignored)");
            text.AppendLine($"  output: {c.OutputName}");
            text.AppendLine($"  fuse blocks: {c.FuseBlocks ?? "(not recorded)"}; precision: {c.Precision ?? "(not recorded)"}");
            text.AppendLine($"  license: {c.License ?? "(not recorded)"}");
            text.AppendLine($"  code-only (w = 0) sibling: {CodeOnlySibling ?? "none"}");
        }
        else
        {
            text.AppendLine($"CodeFormer contract: not drivable: {NotDrivableReason}");
        }
        return text.ToString();
    }

    private static List<TensorDescription> Describe(IReadOnlyDictionary<string, NodeMetadata> nodes)
        => nodes.Select(n => new TensorDescription(n.Key, Runtime.Shape.DescribeType(n.Value), Runtime.Shape.Labels(n.Value))).ToList();
}
