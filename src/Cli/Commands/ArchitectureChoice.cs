using CodeFormer.Network.Architecture;

namespace CodeFormer.Cli.Commands;

/// <summary>Named architecture presets the CLI accepts.</summary>
internal static class ArchitectureChoice
{
    public static readonly string[] Names = ["full", "tiny", "inpainting", "colorization"];

    public static CodeFormerArchitecture Parse(string name) => name.ToLowerInvariant() switch
    {
        "full" => CodeFormerArchitecture.Full,
        "tiny" => CodeFormerArchitecture.Tiny,
        "inpainting" => CodeFormerArchitecture.Inpainting,
        "colorization" => CodeFormerArchitecture.Colorization,
        _ => throw new ArgumentException($"Unknown configuration '{name}'; expected one of: {string.Join(", ", Names)}."),
    };
}
