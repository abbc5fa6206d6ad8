using CodeFormer.Network.Architecture;

namespace CodeFormer.Network.Onnx;

/// <summary>
/// Emits the VQGAN building blocks of encoder, generator and fuse layers (doc A.1) on [N, C, H, W] values.
/// The resolution passed along is the spatial size of the block's input, which the GroupNorm reshapes need.
/// </summary>
internal sealed class VqganBlockEmitter(GraphOps ops)
{
    private const int Groups = CodeFormerArchitecture.NormGroups;
    private const double Epsilon = CodeFormerArchitecture.GroupNormEpsilon;

    /// <summary>One entry of <c>encoder.blocks</c> or <c>generator.blocks</c>.</summary>
    public string Block(string x, BlockSpec block, string prefix) => block switch
    {
        ConvSpec => ops.Conv(x, prefix, kernel: 3),
        ResBlockSpec r => ResBlock(x, prefix, r.InChannels, r.OutChannels, r.Resolution),
        AttentionSpec a => Attention(x, prefix, a.Channels, a.Resolution),
        // Zero-pad right and bottom by one, then stride-2 conv without padding: Conv's asymmetric
        // pads [top, left, bottom, right] = [0, 0, 1, 1] are that same zero pad.
        DownsampleSpec => ops.Conv(x, $"{prefix}.conv", kernel: 3, stride: 2, pads: [0, 0, 1, 1]),
        UpsampleSpec => ops.Conv(NearestUpsample(x, prefix), $"{prefix}.conv", kernel: 3),
        // The last norm before the output conv has no activation after it (doc A.2, A.3).
        GroupNormSpec g => GroupNorm(x, prefix, g.Channels, g.Resolution),
        _ => throw new InvalidOperationException($"No ONNX emission for block {block}."),
    };

    /// <summary>GN → swish → conv3 → GN → swish → conv3, plus identity or 1×1 <c>conv_out</c> skip.</summary>
    public string ResBlock(string x, string prefix, int inChannels, int outChannels, int resolution)
    {
        string h = ops.Swish(GroupNorm(x, $"{prefix}.norm1", inChannels, resolution), $"{prefix}/act1");
        h = ops.Conv(h, $"{prefix}.conv1", kernel: 3);
        h = ops.Swish(GroupNorm(h, $"{prefix}.norm2", outChannels, resolution), $"{prefix}/act2");
        h = ops.Conv(h, $"{prefix}.conv2", kernel: 3);
        string skip = inChannels == outChannels ? x : ops.Conv(x, $"{prefix}.conv_out", kernel: 1);
        return ops.Add(skip, h, $"{prefix}/out");
    }

    /// <summary>Single-head self-attention over the H·W positions with 1×1 q, k, v, proj_out and a residual.</summary>
    public string Attention(string x, string prefix, int channels, int resolution)
    {
        string h = GroupNorm(x, $"{prefix}.norm", channels, resolution);
        string q = ops.Conv(h, $"{prefix}.q", kernel: 1);
        string k = ops.Conv(h, $"{prefix}.k", kernel: 1);
        string v = ops.Conv(h, $"{prefix}.v", kernel: 1);
        // scores[n, i, j] = q_i · k_j · C^-1/2; softmax over the keys j. The reference scales the product;
        // scaling q first is the same arithmetic and keeps the dot products inside float16 range.
        string scaledQ = ops.Mul(q, ops.Scalar((float)Math.Pow(channels, -0.5)), $"{prefix}/q_scaled");
        string queries = ops.Transpose(ops.Reshape(scaledQ, $"{prefix}/q_flat", 0, channels, -1), $"{prefix}/q_rows", 0, 2, 1);
        string keys = ops.Reshape(k, $"{prefix}/k_flat", 0, channels, -1);
        string values = ops.Reshape(v, $"{prefix}/v_flat", 0, channels, -1);
        string scores = ops.Op("MatMul", $"{prefix}/scores", queries, keys);
        string weights = ops.Op("Softmax", $"{prefix}/attention", [scores], OnnxAttribute.Of("axis", 2L));
        // out[n, c, i] = Σ_j v[n, c, j] · weights[n, i, j]
        string attended = ops.Op("MatMul", $"{prefix}/attended", values, ops.Transpose(weights, $"{prefix}/attention_t", 0, 2, 1));
        string spatial = ops.Reshape(attended, $"{prefix}/attended_map", 0, channels, resolution, resolution);
        return ops.Add(x, ops.Conv(spatial, $"{prefix}.proj_out", kernel: 1), $"{prefix}/out");
    }

    public string GroupNorm(string x, string prefix, int channels, int resolution)
        => ops.GroupNorm(x, prefix, channels, resolution, resolution, Groups, Epsilon);

    /// <summary>
    /// Nearest ×2 as PyTorch's F.interpolate(mode="nearest") does it: source index = floor(dst / 2),
    /// which is ONNX Resize with asymmetric coordinates and floor rounding.
    /// </summary>
    private string NearestUpsample(string x, string prefix)
    {
        return ops.Op("Resize", $"{prefix}/nearest", [x, "", ops.Float32s(1f, 1f, 2f, 2f)],
            OnnxAttribute.Of("mode", "nearest"),
            OnnxAttribute.Of("coordinate_transformation_mode", "asymmetric"),
            OnnxAttribute.Of("nearest_mode", "floor"));
    }
}
