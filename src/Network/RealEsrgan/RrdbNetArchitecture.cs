namespace CodeFormer.Network.RealEsrgan;

/// <summary>
/// Hyper-parameters of basicsr's RRDBNet (the Real-ESRGAN generator). <see cref="X2Plus"/> is RealESRGAN_x2plus
/// (reference B.8: in 3, out 3, 64 features, 23 blocks, grow 32, scale 2); <see cref="Tiny"/> keeps every kind of
/// layer at a size that runs in milliseconds, for tests.
/// </summary>
public sealed record RrdbNetArchitecture
{
    public int InChannels { get; init; } = 3;
    public int OutChannels { get; init; } = 3;
    public int NumFeat { get; init; } = 64;
    public int NumBlock { get; init; } = 23;
    public int NumGrowCh { get; init; } = 32;
    public int Scale { get; init; } = 2;

    public static RrdbNetArchitecture X2Plus { get; } = new();

    public static RrdbNetArchitecture Tiny { get; } = new() { NumFeat = 16, NumBlock = 1, NumGrowCh = 8 };

    /// <summary>
    /// basicsr keeps the body at a quarter of the output resolution: x2 models first pixel-unshuffle by 2,
    /// x1 models by 4, x4 models not at all (factor 1).
    /// </summary>
    public int UnshuffleFactor => Scale switch
    {
        1 => 4,
        2 => 2,
        4 => 1,
        _ => throw new InvalidOperationException($"RRDBNet supports scale 1, 2 or 4, not {Scale}."),
    };

    /// <summary>Input channels of conv_first: InChannels·factor² (12 for x2plus).</summary>
    public int FirstConvInChannels => InChannels * UnshuffleFactor * UnshuffleFactor;

    /// <summary>Input height and width must be multiples of this (the pixel-unshuffle factor).</summary>
    public int SizeMultiple => UnshuffleFactor;

    public void Validate()
    {
        if (Scale is not (1 or 2 or 4))
        {
            throw new ArgumentOutOfRangeException(nameof(Scale), Scale, "RRDBNet supports scale 1, 2 or 4 (basicsr's pixel-unshuffle path).");
        }
        foreach (var (name, value) in new[] { (nameof(InChannels), InChannels), (nameof(OutChannels), OutChannels), (nameof(NumFeat), NumFeat), (nameof(NumBlock), NumBlock), (nameof(NumGrowCh), NumGrowCh) })
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(name, value, $"RRDBNet {name} must be at least 1.");
            }
        }
    }
}
