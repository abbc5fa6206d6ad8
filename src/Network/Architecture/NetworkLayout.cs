namespace CodeFormer.Network.Architecture;

/// <summary>
/// The block lists of encoder and generator, and where CFT taps and fuses happen, derived from an
/// architecture exactly as the reference's <c>Encoder</c>/<c>Generator</c> constructors lay them out
/// (doc A.2, A.3). Graph builder, reference forward pass and parameter layout all read this one list.
/// </summary>
public sealed class NetworkLayout
{
    public CodeFormerArchitecture Architecture { get; }
    public IReadOnlyList<BlockSpec> EncoderBlocks { get; }
    public IReadOnlyList<BlockSpec> GeneratorBlocks { get; }

    /// <summary>Encoder block index after which the skip feature for a resolution is taken.</summary>
    public IReadOnlyDictionary<int, int> EncoderTapAfterBlock { get; }

    /// <summary>Generator block index after which the fuse block for a resolution runs.</summary>
    public IReadOnlyDictionary<int, int> GeneratorFuseAfterBlock { get; }

    public NetworkLayout(CodeFormerArchitecture architecture)
    {
        architecture.Validate();
        Architecture = architecture;
        (EncoderBlocks, EncoderTapAfterBlock) = BuildEncoder(architecture);
        (GeneratorBlocks, GeneratorFuseAfterBlock) = BuildGenerator(architecture);
    }

    private static (List<BlockSpec>, Dictionary<int, int>) BuildEncoder(CodeFormerArchitecture a)
    {
        var blocks = new List<BlockSpec>();
        var taps = new Dictionary<int, int>();
        int resolution = a.ImageSize;
        blocks.Add(new ConvSpec(blocks.Count, resolution, 3, a.BaseChannels));
        int channels = a.BaseChannels;
        for (int level = 0; level < a.LevelCount; level++)
        {
            int outChannels = a.BaseChannels * a.ChannelMultipliers[level];
            for (int r = 0; r < a.ResBlocksPerLevel; r++)
            {
                blocks.Add(new ResBlockSpec(blocks.Count, resolution, channels, outChannels));
                // The reference taps the output of the last ResBlock of each level (512:2, 256:5, ..., 16:18).
                taps[resolution] = blocks.Count - 1;
                channels = outChannels;
                if (a.AttentionResolutions.Contains(resolution))
                {
                    blocks.Add(new AttentionSpec(blocks.Count, resolution, channels));
                }
            }
            if (level != a.LevelCount - 1)
            {
                blocks.Add(new DownsampleSpec(blocks.Count, resolution, channels));
                resolution /= 2;
            }
        }
        blocks.Add(new ResBlockSpec(blocks.Count, resolution, channels, channels));
        blocks.Add(new AttentionSpec(blocks.Count, resolution, channels));
        blocks.Add(new ResBlockSpec(blocks.Count, resolution, channels, channels));
        blocks.Add(new GroupNormSpec(blocks.Count, resolution, channels));
        blocks.Add(new ConvSpec(blocks.Count, resolution, channels, a.EmbeddingDim));
        return (blocks, taps);
    }

    private static (List<BlockSpec>, Dictionary<int, int>) BuildGenerator(CodeFormerArchitecture a)
    {
        var blocks = new List<BlockSpec>();
        var fuses = new Dictionary<int, int>();
        int channels = a.BaseChannels * a.ChannelMultipliers[^1];
        int resolution = a.LatentResolution;
        blocks.Add(new ConvSpec(blocks.Count, resolution, a.EmbeddingDim, channels));
        blocks.Add(new ResBlockSpec(blocks.Count, resolution, channels, channels));
        blocks.Add(new AttentionSpec(blocks.Count, resolution, channels));
        blocks.Add(new ResBlockSpec(blocks.Count, resolution, channels, channels));
        for (int level = a.LevelCount - 1; level >= 0; level--)
        {
            int outChannels = a.BaseChannels * a.ChannelMultipliers[level];
            for (int r = 0; r < a.ResBlocksPerLevel; r++)
            {
                blocks.Add(new ResBlockSpec(blocks.Count, resolution, channels, outChannels));
                // The reference fuses after the first ResBlock of each upsampled level (32:9, 64:12, 128:15,
                // 256:18, 512:21) but after the last one of the latent level (16:6), which follows the mid blocks.
                bool latentLevel = level == a.LevelCount - 1;
                if (latentLevel ? r == a.ResBlocksPerLevel - 1 : r == 0)
                {
                    fuses[resolution] = blocks.Count - 1;
                }
                channels = outChannels;
                if (a.AttentionResolutions.Contains(resolution))
                {
                    blocks.Add(new AttentionSpec(blocks.Count, resolution, channels));
                }
            }
            if (level != 0)
            {
                blocks.Add(new UpsampleSpec(blocks.Count, resolution, channels));
                resolution *= 2;
            }
        }
        blocks.Add(new GroupNormSpec(blocks.Count, resolution, channels));
        blocks.Add(new ConvSpec(blocks.Count, resolution, channels, 3));
        return (blocks, fuses);
    }
}
