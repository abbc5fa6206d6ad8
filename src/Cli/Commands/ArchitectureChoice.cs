using CodeFormer.Network.Architecture;

namespace CodeFormer.Cli.Commands;

/// <summary>Named architecture presets the CLI accepts.</summary>
internal static class ArchitectureChoice
{
    public static readonly string[] Names = ["full", "tiny", "inpainting", "colorization", "tiny-inpainting", "tiny-colorization"];

    /// <summary>
    /// Whether a model of this configuration applies AdaIN: not the inpainting ones, as the reference inpainting script
    /// calls the network with adain=False (doc B.11); every other configuration does.
    /// </summary>
    public static bool AdaInFor(string name) => !name.Contains("inpainting", StringComparison.OrdinalIgnoreCase);

    public static CodeFormerArchitecture Parse(string name) => name.ToLowerInvariant() switch
    {
        "full" => CodeFormerArchitecture.Full,
        "tiny" => CodeFormerArchitecture.Tiny,
        "inpainting" => CodeFormerArchitecture.Inpainting,
        "colorization" => CodeFormerArchitecture.Colorization,
        // Tiny networks with the task layouts (fuse blocks only below the top level; half the codebook for inpainting), for tests.
        "tiny-colorization" => CodeFormerArchitecture.Tiny with { FuseResolutions = [16, 32] },
        "tiny-inpainting" => CodeFormerArchitecture.Tiny with { FuseResolutions = [16, 32], CodebookSize = 32 },
        _ => throw new ArgumentException($"Unknown configuration '{name}'; expected one of: {string.Join(", ", Names)}."),
    };
}
