using CodeFormer.Network.Architecture;

namespace CodeFormer.Network.Onnx;

/// <summary>
/// Emits the code-prediction part of CodeFormer (doc A.4): tokens from <c>lq_feat</c>, feat_emb,
/// the pre-LN transformer layers with the learned position embedding on queries and keys, the
/// index head, top-1 codebook lookup and AdaIN back to <c>lq_feat</c>'s statistics.
/// The token stream is kept batch-first, [N, T, D], instead of PyTorch's sequence-first layout;
/// the arithmetic per token is the same.
/// </summary>
internal sealed class CodeLookupEmitter(GraphOps ops, CodeFormerArchitecture architecture)
{
    private readonly int _tokens = architecture.LatentTokens;
    private readonly int _dim = architecture.TransformerDim;
    private readonly int _heads = architecture.TransformerHeads;
    private readonly int _headDim = architecture.HeadDim;
    private readonly int _latent = architecture.LatentResolution;
    private readonly int _embedding = architecture.EmbeddingDim;

    /// <summary>[N, E, L, L] lq_feat → codebook features [N, E, L, L], AdaIN-normalised when <paramref name="adaIn"/>.</summary>
    public string Emit(string lqFeat, bool adaIn = true)
    {
        // Row-major spatial flatten: token t = y·L + x.
        string tokens = ops.Transpose(ops.Reshape(lqFeat, "tokens/flat", 0, _embedding, -1), "tokens", 0, 2, 1);
        string stream = ops.Linear(tokens, "feat_emb", bias: true);
        string position = ops.Weight("position_emb");
        for (int layer = 0; layer < architecture.TransformerLayers; layer++)
        {
            stream = TransformerLayer(stream, position, $"ft_layers.{layer}");
        }
        string logits = ops.Linear(ops.LayerNorm(stream, "idx_pred_layer.0", CodeFormerArchitecture.LayerNormEpsilon), "idx_pred_layer.1", bias: false);
        // softmax then top-1 picks the same index as argmax of the logits; one-hot × codebook is a row gather.
        string indices = ops.Op("ArgMax", "code_indices", [logits], OnnxAttribute.Of("axis", -1L), OnnxAttribute.Of("keepdims", 0L));
        string rows = ops.Op("Gather", "code_rows", [ops.Weight("quantize.embedding.weight"), indices], OnnxAttribute.Of("axis", 0L));
        string quantized = ops.Reshape(ops.Transpose(rows, "code_rows_t", 0, 2, 1), "quant_feat", 0, _embedding, _latent, _latent);
        return adaIn ? AdaIn(quantized, lqFeat) : quantized;
    }

    /// <summary>Pre-LN layer: x += MHA(LN1(x) + pos, LN1(x) + pos, LN1(x)); x += FFN(LN2(x)).</summary>
    private string TransformerLayer(string x, string position, string prefix)
    {
        string normed = ops.LayerNorm(x, $"{prefix}.norm1", CodeFormerArchitecture.LayerNormEpsilon);
        string withPosition = ops.Add(normed, position, $"{prefix}/with_pos");
        string attended = MultiHeadAttention(withPosition, normed, $"{prefix}.self_attn");
        x = ops.Add(x, attended, $"{prefix}/attn_residual");

        string normed2 = ops.LayerNorm(x, $"{prefix}.norm2", CodeFormerArchitecture.LayerNormEpsilon);
        string hidden = ops.Gelu(ops.Linear(normed2, $"{prefix}.linear1", bias: true), $"{prefix}/gelu");
        return ops.Add(x, ops.Linear(hidden, $"{prefix}.linear2", bias: true), $"{prefix}/ffn_residual");
    }

    /// <summary>
    /// nn.MultiheadAttention with the packed in_proj [3D, D]: rows 0..D are q, D..2D k, 2D..3D v.
    /// The slices are Slice nodes on the one state-dict initializer, so the file holds the packed tensor once.
    /// </summary>
    private string MultiHeadAttention(string queryKeyInput, string valueInput, string prefix)
    {
        string packedWeight = ops.Weight($"{prefix}.in_proj_weight");
        string packedBias = ops.Weight($"{prefix}.in_proj_bias");
        string Project(string input, int part, string name) => ops.LinearWith(input,
            ops.SliceRows(packedWeight, part * _dim, (part + 1) * _dim, $"{prefix}/w_{name}"),
            ops.SliceRows(packedBias, part * _dim, (part + 1) * _dim, $"{prefix}/b_{name}"),
            $"{prefix}/{name}");

        // PyTorch scales q by hd^-1/2 before the product, as here.
        string scaledQ = ops.Mul(Project(queryKeyInput, 0, "q"), ops.Scalar((float)Math.Pow(_headDim, -0.5)), $"{prefix}/q_scaled");
        string q = SplitHeads(scaledQ, $"{prefix}/q_heads", 0, 2, 1, 3);                        // [N, H, T, hd]
        string k = SplitHeads(Project(queryKeyInput, 1, "k"), $"{prefix}/k_heads", 0, 2, 3, 1);   // [N, H, hd, T]
        string v = SplitHeads(Project(valueInput, 2, "v"), $"{prefix}/v_heads", 0, 2, 1, 3);      // [N, H, T, hd]

        string scores = ops.Op("MatMul", $"{prefix}/scores", q, k);
        string weights = ops.Op("Softmax", $"{prefix}/attention", [scores], OnnxAttribute.Of("axis", -1L));
        string context = ops.Op("MatMul", $"{prefix}/context", weights, v);
        string merged = ops.Reshape(ops.Transpose(context, $"{prefix}/context_t", 0, 2, 1, 3), $"{prefix}/merged", 0, _tokens, _dim);
        return ops.Linear(merged, $"{prefix}.out_proj", bias: true);
    }

    /// <summary>[N, T, D] → [N, T, H, hd] → the given permutation (head h owns features h·hd … (h+1)·hd).</summary>
    private string SplitHeads(string x, string hint, params long[] perm)
        => ops.Transpose(ops.Reshape(x, $"{hint}/split", 0, _tokens, _heads, _headDim), hint, perm);

    /// <summary>
    /// AdaIN: (q − mean_q) / std_q · std_lq + mean_lq per channel, with std = √(unbiased variance over H·W + 1e-5)
    /// for both features, as the reference's calc_mean_std computes it. A float16 graph still computes
    /// these statistics in float32: squares of large latent values would overflow half precision, and the
    /// latent map is small (E × L × L) so the casts cost nothing measurable.
    /// </summary>
    private string AdaIn(string content, string style)
    {
        content = ToFloat32(content, "adain/content_f32");
        style = ToFloat32(style, "adain/style_f32");
        var (contentMean, contentStd) = MeanStd(content, "adain/content");
        var (styleMean, styleStd) = MeanStd(style, "adain/style");
        string normalized = ops.Div(ops.Sub(content, contentMean, "adain/centered"), contentStd, "adain/normalized");
        string result = ops.Add(ops.Mul(normalized, styleStd, "adain/scaled"), styleMean, "adain/out");
        return ops.ComputeType == OnnxElementType.Float ? result : ops.Cast(result, ops.ComputeType, "adain/out_compute");
    }

    private string ToFloat32(string x, string hint)
        => ops.ComputeType == OnnxElementType.Float ? x : ops.Cast(x, OnnxElementType.Float, hint);

    private (string Mean, string Std) MeanStd(string x, string hint)
    {
        int count = _latent * _latent;
        var axes = OnnxAttribute.Of("axes", 2L, 3L);
        var keepDims = OnnxAttribute.Of("keepdims", 1L);
        string mean = ops.Op("ReduceMean", $"{hint}/mean", [x], axes, keepDims);
        string centered = ops.Sub(x, mean, $"{hint}/centered");
        string biasedVariance = ops.Op("ReduceMean", $"{hint}/biased_var", [ops.Mul(centered, centered, $"{hint}/squared")], axes, keepDims);
        // torch.var is unbiased: Σ(x − mean)² / (HW − 1) = biased variance · HW / (HW − 1).
        string variance = ops.Mul(biasedVariance, ops.ScalarOf(OnnxElementType.Float, (float)count / (count - 1)), $"{hint}/var");
        string withEpsilon = ops.Add(variance, ops.ScalarOf(OnnxElementType.Float, (float)CodeFormerArchitecture.AdaInEpsilon), $"{hint}/var_eps");
        return (mean, ops.Op("Sqrt", $"{hint}/std", withEpsilon));
    }
}
