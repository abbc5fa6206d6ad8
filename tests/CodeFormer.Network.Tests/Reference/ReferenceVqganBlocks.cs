using CodeFormer.Network.Architecture;
using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Tests.Reference;

/// <summary>
/// The VQGAN blocks and the CFT fuse block (reference doc A.1, A.5), each reading its own parameters
/// from the state dict by name.
/// </summary>
internal sealed class ReferenceVqganBlocks(WeightSet weights)
{
    private const double FuseLeakySlope = 0.2;

    /// <summary>Runs <c>{prefix}.{spec.Index}</c> of an encoder or generator block list.</summary>
    public FeatureMap Run(string listPrefix, BlockSpec spec, FeatureMap x)
    {
        string name = $"{listPrefix}.{spec.Index}";
        return spec switch
        {
            ConvSpec => ReferenceConvOps.Conv2d(x, W($"{name}.weight"), W($"{name}.bias")),
            ResBlockSpec r => ResBlock(name, x, r.InChannels, r.OutChannels),
            AttentionSpec => Attention(name, x),
            DownsampleSpec => ReferenceConvOps.DownsampleConv(x, W($"{name}.conv.weight"), W($"{name}.conv.bias")),
            UpsampleSpec => ReferenceConvOps.Conv2d(ReferenceConvOps.UpsampleNearest2x(x), W($"{name}.conv.weight"), W($"{name}.conv.bias")),
            GroupNormSpec => ReferenceConvOps.GroupNorm(x, W($"{name}.weight"), W($"{name}.bias")),
            _ => throw new InvalidOperationException($"The reference has no rule for block {spec}."),
        };
    }

    /// <summary>GN → swish → conv3 → GN → swish → conv3, plus identity or 1×1 conv_out skip.</summary>
    public FeatureMap ResBlock(string name, FeatureMap x, int inChannels, int outChannels)
    {
        if (x.Channels != inChannels)
        {
            throw new ArgumentException($"{name} expects {inChannels} channels, got {x.Channels}.");
        }
        var h = ReferenceConvOps.Swish(ReferenceConvOps.GroupNorm(x, W($"{name}.norm1.weight"), W($"{name}.norm1.bias")));
        h = ReferenceConvOps.Conv2d(h, W($"{name}.conv1.weight"), W($"{name}.conv1.bias"));
        h = ReferenceConvOps.Swish(ReferenceConvOps.GroupNorm(h, W($"{name}.norm2.weight"), W($"{name}.norm2.bias")));
        h = ReferenceConvOps.Conv2d(h, W($"{name}.conv2.weight"), W($"{name}.conv2.bias"));
        var skip = inChannels == outChannels
            ? x
            : ReferenceConvOps.PointwiseConv(x, W($"{name}.conv_out.weight"), W($"{name}.conv_out.bias"));
        return ReferenceConvOps.Add(skip, h);
    }

    /// <summary>x + proj_out(attention(q(GN(x)), k(GN(x)), v(GN(x)))).</summary>
    public FeatureMap Attention(string name, FeatureMap x)
    {
        var normed = ReferenceConvOps.GroupNorm(x, W($"{name}.norm.weight"), W($"{name}.norm.bias"));
        var q = ReferenceConvOps.PointwiseConv(normed, W($"{name}.q.weight"), W($"{name}.q.bias"));
        var k = ReferenceConvOps.PointwiseConv(normed, W($"{name}.k.weight"), W($"{name}.k.bias"));
        var v = ReferenceConvOps.PointwiseConv(normed, W($"{name}.v.weight"), W($"{name}.v.bias"));
        var attended = ReferenceConvOps.SpatialAttention(q, k, v);
        return ReferenceConvOps.Add(x, ReferenceConvOps.PointwiseConv(attended, W($"{name}.proj_out.weight"), W($"{name}.proj_out.bias")));
    }

    /// <summary>
    /// Fuse_sft_block: h = ResBlock(2C→C)(cat[enc, dec]); scale and shift = conv3(leaky0.2(conv3(h)));
    /// out = dec + w·(dec·scale + shift).
    /// </summary>
    public FeatureMap Fuse(int resolution, FeatureMap encoderTap, FeatureMap decoded, double fidelity)
    {
        string name = $"fuse_convs_dict.{resolution}";
        int c = decoded.Channels;
        var h = ResBlock($"{name}.encode_enc", ReferenceConvOps.ConcatChannels(encoderTap, decoded), 2 * c, c);
        var scale = Branch($"{name}.scale", h);
        var shift = Branch($"{name}.shift", h);
        var y = decoded.EmptyLike(c);
        for (int i = 0; i < y.Data.Length; i++)
        {
            double dec = decoded.Data[i];
            y.Data[i] = (float)(dec + fidelity * (dec * scale.Data[i] + shift.Data[i]));
        }
        return y;
    }

    private FeatureMap Branch(string name, FeatureMap h)
    {
        var inner = ReferenceConvOps.LeakyRelu(ReferenceConvOps.Conv2d(h, W($"{name}.0.weight"), W($"{name}.0.bias")), FuseLeakySlope);
        return ReferenceConvOps.Conv2d(inner, W($"{name}.2.weight"), W($"{name}.2.bias"));
    }

    private Tensor W(string name) => weights[name];
}
