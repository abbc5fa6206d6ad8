using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using CodeFormer.Network.Architecture;

namespace CodeFormer.Network.Onnx;

/// <summary>
/// The metadata keys an exported CodeFormer graph carries, so a loader can tell which network, which
/// precision and which licence a file holds without reading its weights.
/// </summary>
public static class CodeFormerModelMetadata
{
    public const string ArchitectureKey = "codeformer.architecture";
    public const string FuseBlocksKey = "codeformer.fuse_blocks";
    public const string PrecisionKey = "codeformer.precision";
    /// <summary>"true" or "false": whether the graph applies AdaIN to the codebook features (inpainting models do not).</summary>
    public const string AdaInKey = "codeformer.adain";
    public const string LicenseKey = "license";

    /// <summary>
    /// The released weights come from sczhou/CodeFormer, licensed under the S-Lab License 1.0, which
    /// allows non-commercial use only; a model file built from them carries that licence along.
    /// </summary>
    public const string LicenseText =
        "S-Lab License 1.0 (non-commercial use only). Weights converted from the official CodeFormer checkpoint " +
        "(sczhou/CodeFormer) carry this licence: redistribution and use are restricted to non-commercial purposes.";

    /// <summary>Only the settable hyper-parameters are written; derived values (LevelCount, HeadDim, …) are recomputed on read.</summary>
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { DropReadOnlyProperties } },
    };

    private static void DropReadOnlyProperties(JsonTypeInfo typeInfo)
    {
        foreach (var property in typeInfo.Properties.Where(p => p.Set is null).ToList())
        {
            typeInfo.Properties.Remove(property);
        }
    }

    public static string SerializeArchitecture(CodeFormerArchitecture architecture)
        => JsonSerializer.Serialize(architecture, JsonOptions);

    /// <summary>Reads back what <see cref="SerializeArchitecture"/> wrote (derived properties are ignored) and validates it.</summary>
    public static CodeFormerArchitecture DeserializeArchitecture(string json)
    {
        var architecture = JsonSerializer.Deserialize<CodeFormerArchitecture>(json, JsonOptions)
            ?? throw new FormatException($"'{ArchitectureKey}' metadata is empty: '{json}'.");
        architecture.Validate();
        return architecture;
    }

    public static string PrecisionText(OnnxPrecision precision) => precision switch
    {
        OnnxPrecision.Float32 => "float32",
        OnnxPrecision.Float16 => "float16",
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown precision."),
    };

    internal static void Write(OnnxGraph graph, CodeFormerArchitecture architecture, CodeFormerExportOptions options)
    {
        graph.Metadata[ArchitectureKey] = SerializeArchitecture(architecture);
        graph.Metadata[FuseBlocksKey] = options.IncludeFuseBlocks ? "true" : "false";
        graph.Metadata[PrecisionKey] = PrecisionText(options.Precision);
        graph.Metadata[AdaInKey] = options.AdaIn ? "true" : "false";
        graph.Metadata[LicenseKey] = options.WeightsLicense ?? LicenseText;
    }
}
