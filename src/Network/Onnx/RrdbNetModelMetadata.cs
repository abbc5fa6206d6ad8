using System.Globalization;
using System.Text.Json.Nodes;
using CodeFormer.Network.RealEsrgan;

namespace CodeFormer.Network.Onnx;

/// <summary>
/// The metadata keys an exported RRDBNet carries: <c>scale</c> (read by the engine's upsampler instead of a probe run),
/// the licence of the weights, and the architecture as JSON.
/// </summary>
public static class RrdbNetModelMetadata
{
    public const string ScaleKey = "scale";
    public const string LicenseKey = "license";
    public const string ArchitectureKey = "realesrgan.architecture";

    /// <summary>Real-ESRGAN (xinntao/Real-ESRGAN) and its released weights are under the BSD 3-Clause licence.</summary>
    public const string LicenseText = "BSD-3-Clause (Real-ESRGAN weights, xinntao)";

    /// <summary>
    /// The six hyper-parameters as a flat JSON object. Built with JsonObject rather than reflection-based serialization,
    /// so it also works where reflection serialization is switched off (trimmed or AOT hosts, file-based apps).
    /// </summary>
    public static string SerializeArchitecture(RrdbNetArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        return new JsonObject
        {
            [nameof(RrdbNetArchitecture.InChannels)] = architecture.InChannels,
            [nameof(RrdbNetArchitecture.OutChannels)] = architecture.OutChannels,
            [nameof(RrdbNetArchitecture.NumFeat)] = architecture.NumFeat,
            [nameof(RrdbNetArchitecture.NumBlock)] = architecture.NumBlock,
            [nameof(RrdbNetArchitecture.NumGrowCh)] = architecture.NumGrowCh,
            [nameof(RrdbNetArchitecture.Scale)] = architecture.Scale,
        }.ToJsonString();
    }

    /// <summary>Reads back what <see cref="SerializeArchitecture"/> wrote; a missing or non-integer field is named.</summary>
    public static RrdbNetArchitecture DeserializeArchitecture(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (JsonNode.Parse(json) is not JsonObject read)
        {
            throw new FormatException($"'{ArchitectureKey}' metadata is not a JSON object: '{json}'.");
        }
        int Field(string name) => read[name] is JsonValue value && value.TryGetValue(out int number)
            ? number
            : throw new FormatException($"'{ArchitectureKey}' metadata lacks an integer '{name}': '{json}'.");
        var architecture = new RrdbNetArchitecture
        {
            InChannels = Field(nameof(RrdbNetArchitecture.InChannels)),
            OutChannels = Field(nameof(RrdbNetArchitecture.OutChannels)),
            NumFeat = Field(nameof(RrdbNetArchitecture.NumFeat)),
            NumBlock = Field(nameof(RrdbNetArchitecture.NumBlock)),
            NumGrowCh = Field(nameof(RrdbNetArchitecture.NumGrowCh)),
            Scale = Field(nameof(RrdbNetArchitecture.Scale)),
        };
        architecture.Validate();
        return architecture;
    }

    internal static void Write(OnnxGraph graph, RrdbNetArchitecture architecture, string? weightsLicense)
    {
        graph.Metadata[ScaleKey] = architecture.Scale.ToString(CultureInfo.InvariantCulture);
        graph.Metadata[LicenseKey] = weightsLicense ?? LicenseText;
        graph.Metadata[ArchitectureKey] = SerializeArchitecture(architecture);
    }
}
