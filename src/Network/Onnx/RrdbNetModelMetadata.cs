using System.Globalization;
using System.Text.Json;
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

    /// <summary>The six settable hyper-parameters only; derived values (unshuffle factor, …) are recomputed on read.</summary>
    public static string SerializeArchitecture(RrdbNetArchitecture architecture)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        return JsonSerializer.Serialize(new ArchitectureJson(architecture.InChannels, architecture.OutChannels,
            architecture.NumFeat, architecture.NumBlock, architecture.NumGrowCh, architecture.Scale));
    }

    public static RrdbNetArchitecture DeserializeArchitecture(string json)
    {
        var read = JsonSerializer.Deserialize<ArchitectureJson>(json)
            ?? throw new FormatException($"'{ArchitectureKey}' metadata is empty: '{json}'.");
        var architecture = new RrdbNetArchitecture
        {
            InChannels = read.InChannels,
            OutChannels = read.OutChannels,
            NumFeat = read.NumFeat,
            NumBlock = read.NumBlock,
            NumGrowCh = read.NumGrowCh,
            Scale = read.Scale,
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

    private sealed record ArchitectureJson(int InChannels, int OutChannels, int NumFeat, int NumBlock, int NumGrowCh, int Scale);
}
