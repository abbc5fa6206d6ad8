using CodeFormer.Network.Architecture;

namespace CodeFormer.Network.Onnx;

/// <summary>
/// Arithmetic cost of one CodeFormer forward pass for one face, as the exported graph computes it.
/// Counts 2 FLOPs per multiply-add of every convolution (incl. 1×1 and the stride-2 downsampling convs),
/// every linear layer and the attention products (QKᵀ and attention·V in the VQGAN attention blocks and
/// the transformer). Not counted: normalisation, activations, softmax, residual adds, resize, AdaIN and
/// the codebook lookup (a gather here, not the reference's one-hot matmul) — together well under 1 %.
/// </summary>
public static class CodeFormerFlops
{
    public static long EstimateFlops(CodeFormerArchitecture architecture, bool includeFuseBlocks)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        var layout = new NetworkLayout(architecture);
        long flops = layout.EncoderBlocks.Sum(Block) + layout.GeneratorBlocks.Sum(Block) + Transformer(architecture);
        if (includeFuseBlocks)
        {
            foreach (int resolution in architecture.FuseResolutions)
            {
                int c = architecture.ChannelsAtResolution(resolution);
                // encode_enc ResBlock(2C→C) plus scale and shift branches of two 3×3 C→C convs each.
                flops += ResBlock(2 * c, c, resolution) + 4 * Conv(c, c, 3, resolution);
            }
        }
        return flops;
    }

    private static long Block(BlockSpec block) => block switch
    {
        ConvSpec c => Conv(c.InChannels, c.OutChannels, 3, c.Resolution),
        ResBlockSpec r => ResBlock(r.InChannels, r.OutChannels, r.Resolution),
        AttentionSpec a => Attention(a.Channels, a.Resolution),
        DownsampleSpec d => Conv(d.Channels, d.Channels, 3, d.Resolution / 2),
        UpsampleSpec u => Conv(u.Channels, u.Channels, 3, u.Resolution * 2),
        GroupNormSpec => 0,
        _ => throw new InvalidOperationException($"No FLOP count for block {block}."),
    };

    /// <summary>2 · Cin · Cout · k² per output position.</summary>
    private static long Conv(long inChannels, long outChannels, long kernel, long outputResolution)
        => 2 * inChannels * outChannels * kernel * kernel * outputResolution * outputResolution;

    private static long ResBlock(int inChannels, int outChannels, int resolution)
        => Conv(inChannels, outChannels, 3, resolution) + Conv(outChannels, outChannels, 3, resolution)
           + (inChannels != outChannels ? Conv(inChannels, outChannels, 1, resolution) : 0);

    /// <summary>Four 1×1 convs (q, k, v, proj_out) plus QKᵀ and attention·V over H·W positions.</summary>
    private static long Attention(int channels, int resolution)
    {
        long positions = (long)resolution * resolution;
        return 4 * Conv(channels, channels, 1, resolution) + 2 * (2 * positions * positions * channels);
    }

    private static long Transformer(CodeFormerArchitecture a)
    {
        long t = a.LatentTokens, d = a.TransformerDim;
        long perLayer = 2 * t * d * (3 * d)          // packed q, k, v projections
                        + 2 * (2 * t * t * d)       // QKᵀ and attention·V over all heads
                        + 2 * t * d * d             // out_proj
                        + 2 * (2 * t * d * a.FeedForwardDim); // linear1 and linear2
        return 2 * t * a.EmbeddingDim * d           // feat_emb
               + a.TransformerLayers * perLayer
               + 2 * t * d * a.CodebookSize;        // idx_pred_layer.1 (logits)
    }
}
