namespace CodeFormer.Network.Architecture;

/// <summary>
/// Hyper-parameters of a CodeFormer network. The defaults are the released restoration model
/// (reference doc A.0); <see cref="Tiny"/> keeps every block type at a size plain loops can check.
/// </summary>
public sealed record CodeFormerArchitecture
{
    public int ImageSize { get; init; } = 512;
    public int BaseChannels { get; init; } = 64;
    public IReadOnlyList<int> ChannelMultipliers { get; init; } = [1, 2, 2, 4, 4, 8];
    public int ResBlocksPerLevel { get; init; } = 2;
    public IReadOnlyList<int> AttentionResolutions { get; init; } = [16];
    public int CodebookSize { get; init; } = 1024;
    public int EmbeddingDim { get; init; } = 256;
    public int TransformerDim { get; init; } = 512;
    public int TransformerHeads { get; init; } = 8;
    public int TransformerLayers { get; init; } = 9;
    /// <summary>Hidden size of the transformer feed-forward block (2 × dim in the release).</summary>
    public int FeedForwardDim { get; init; } = 1024;
    /// <summary>Resolutions at which the controllable feature transformation (CFT) fuses encoder features.</summary>
    public IReadOnlyList<int> FuseResolutions { get; init; } = [32, 64, 128, 256];

    /// <summary>GroupNorm groups; fixed at 32 throughout the VQGAN in the reference.</summary>
    public const int NormGroups = 32;
    public const double GroupNormEpsilon = 1e-6;
    public const double LayerNormEpsilon = 1e-5;
    public const double AdaInEpsilon = 1e-5;

    public static CodeFormerArchitecture Full { get; } = new();

    /// <summary>The inpainting checkpoint: codebook 512, fuse at 32/64/128 (doc A.6, B.11).</summary>
    public static CodeFormerArchitecture Inpainting { get; } = new() { CodebookSize = 512, FuseResolutions = [32, 64, 128] };

    /// <summary>The colorization checkpoint: codebook 1024, fuse at 32/64/128 (doc A.6, B.11).</summary>
    public static CodeFormerArchitecture Colorization { get; } = new() { FuseResolutions = [32, 64, 128] };

    /// <summary>
    /// A reduced network for fast tests: 64×64 input, four levels, attention, conv_out skips,
    /// a two-layer transformer and three fuse blocks — every block type of the full model.
    /// </summary>
    public static CodeFormerArchitecture Tiny { get; } = new()
    {
        ImageSize = 64,
        BaseChannels = 32,
        ChannelMultipliers = [1, 2, 2, 4],
        ResBlocksPerLevel = 2,
        AttentionResolutions = [8],
        CodebookSize = 64,
        EmbeddingDim = 32,
        TransformerDim = 64,
        TransformerHeads = 4,
        TransformerLayers = 2,
        FeedForwardDim = 128,
        FuseResolutions = [16, 32, 64],
    };

    public int LevelCount => ChannelMultipliers.Count;
    public int LatentResolution => ImageSize >> (LevelCount - 1);
    public int LatentTokens => LatentResolution * LatentResolution;
    public int HeadDim => TransformerDim / TransformerHeads;

    /// <summary>Channels of the feature map at a given spatial resolution (level output channels).</summary>
    public int ChannelsAtResolution(int resolution)
    {
        for (int level = 0, res = ImageSize; level < LevelCount; level++, res /= 2)
        {
            if (res == resolution)
            {
                return BaseChannels * ChannelMultipliers[level];
            }
        }
        throw new ArgumentOutOfRangeException(nameof(resolution), resolution, $"No level of a {ImageSize}px network has resolution {resolution}.");
    }

    /// <summary>Throws with a message naming the first inconsistency, so a bad configuration never reaches a graph.</summary>
    public void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }

        Require(LevelCount >= 2, "At least two levels are needed.");
        Require(ImageSize % (1 << (LevelCount - 1)) == 0, $"Image size {ImageSize} must be divisible by 2^{LevelCount - 1}.");
        Require(BaseChannels % NormGroups == 0, $"Base channels {BaseChannels} must be a multiple of {NormGroups} (GroupNorm groups).");
        Require(TransformerDim % TransformerHeads == 0, $"Transformer dim {TransformerDim} must be divisible by {TransformerHeads} heads.");
        Require(ResBlocksPerLevel >= 1, "At least one ResBlock per level is needed.");
        foreach (var r in FuseResolutions)
        {
            Require(r > LatentResolution && r <= ImageSize && (ImageSize % r) == 0 && ((ImageSize / r) & (ImageSize / r - 1)) == 0,
                $"Fuse resolution {r} must be a level resolution above the latent ({LatentResolution}).");
        }
    }
}
