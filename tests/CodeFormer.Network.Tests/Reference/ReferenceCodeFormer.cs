using CodeFormer.Network.Architecture;
using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Tests.Reference;

/// <summary>
/// An independent CodeFormer forward pass in plain loops, written from the reference doc (A.0–A.5) and
/// sharing nothing with the ONNX graph builder except architecture, block layout and weights. It is the
/// test oracle that shows the exported graph computes the published network:
/// encoder → lq_feat → feat_emb + transformer → argmax codes → codebook rows → AdaIN → generator with
/// CFT fuse blocks, as <c>CodeFormer.forward(x, w, adain=True)</c> does.
/// </summary>
internal sealed class ReferenceCodeFormer
{
    private readonly CodeFormerArchitecture _architecture;
    private readonly WeightSet _weights;
    private readonly NetworkLayout _layout;
    private readonly ReferenceVqganBlocks _blocks;

    public ReferenceCodeFormer(CodeFormerArchitecture architecture, WeightSet weights)
    {
        _architecture = architecture;
        _weights = weights;
        _layout = new NetworkLayout(architecture);
        _blocks = new ReferenceVqganBlocks(weights);
    }

    /// <summary>
    /// Restores a batch of NCHW RGB faces in [-1, 1]. Like the Python <c>if w &gt; 0</c>, fidelity ≤ 0 skips
    /// the fuse blocks entirely (so their weights need not exist).
    /// </summary>
    public float[] Forward(float[] inputNchw, int batch, double fidelity, bool adain = true)
    {
        if (!double.IsFinite(fidelity))
        {
            throw new ArgumentOutOfRangeException(nameof(fidelity), fidelity, "Fidelity must be a finite number.");
        }
        var (lqFeat, taps) = Encode(ToFeatureMap(inputNchw, batch));
        var quantized = LookUpCodebook(PredictCodes(lqFeat), batch);
        if (adain)
        {
            quantized = AdaptiveInstanceNormalization(quantized, lqFeat);
        }
        return Decode(quantized, taps, fidelity).Data;
    }

    /// <summary>Top-1 codebook index of every token, [batch, tokens] row-major with token t = y·L + x.</summary>
    public int[] PredictCodes(float[] inputNchw, int batch) => PredictCodes(Encode(ToFeatureMap(inputNchw, batch)).LqFeat);

    private FeatureMap ToFeatureMap(float[] inputNchw, int batch)
    {
        int size = _architecture.ImageSize;
        if (batch < 1 || inputNchw.LongLength != (long)batch * 3 * size * size)
        {
            throw new ArgumentException($"Expected {batch}×3×{size}×{size} = {(long)batch * 3 * size * size} input values, got {inputNchw.LongLength}.");
        }
        return new FeatureMap(batch, 3, size, size, inputNchw);
    }

    private (FeatureMap LqFeat, Dictionary<int, FeatureMap> Taps) Encode(FeatureMap x)
    {
        var taps = new Dictionary<int, FeatureMap>();
        foreach (var block in _layout.EncoderBlocks)
        {
            x = _blocks.Run("encoder.blocks", block, x);
            foreach (int resolution in _architecture.FuseResolutions)
            {
                if (_layout.EncoderTapAfterBlock[resolution] == block.Index)
                {
                    taps[resolution] = x;
                }
            }
        }
        return (x, taps);
    }

    /// <summary>
    /// Codebook logits of every token, [batch, tokens, codebook] (the reference's <c>logits</c> output, batch-first).
    /// The restored image depends on them only through their argmax, so tests compare them directly too.
    /// </summary>
    public float[] PredictLogits(float[] inputNchw, int batch) => PredictLogits(Encode(ToFeatureMap(inputNchw, batch)).LqFeat);

    /// <summary>softmax is monotonic, so its top-1 is the argmax of the logits; the first maximum wins ties.</summary>
    private int[] PredictCodes(FeatureMap lqFeat)
    {
        int codebookSize = _architecture.CodebookSize;
        var logits = PredictLogits(lqFeat);
        var codes = new int[logits.Length / codebookSize];
        for (int token = 0; token < codes.Length; token++)
        {
            int row = token * codebookSize, best = 0;
            for (int n = 1; n < codebookSize; n++)
            {
                if (logits[row + n] > logits[row + best]) best = n;
            }
            codes[token] = best;
        }
        return codes;
    }

    /// <summary>feat_emb → pre-LN transformer layers → idx_pred_layer (LayerNorm, Linear without bias).</summary>
    private float[] PredictLogits(FeatureMap lqFeat)
    {
        var a = _architecture;
        int tokens = lqFeat.PlaneSize, embed = lqFeat.Channels;
        var allLogits = new float[lqFeat.Batch * tokens * a.CodebookSize];
        for (int b = 0; b < lqFeat.Batch; b++)
        {
            // BCHW → (HW)C for this batch item: token t = y·W + x.
            var sequence = new float[tokens * embed];
            for (int t = 0; t < tokens; t++)
            {
                for (int c = 0; c < embed; c++) sequence[t * embed + c] = lqFeat.Data[lqFeat.PlaneOffset(b, c) + t];
            }
            var query = ReferenceSequenceOps.Linear(sequence, tokens, W("feat_emb.weight"), W("feat_emb.bias"));
            for (int l = 0; l < a.TransformerLayers; l++)
            {
                query = TransformerLayer($"ft_layers.{l}", query, tokens);
            }
            var normed = ReferenceSequenceOps.LayerNorm(query, tokens, W("idx_pred_layer.0.weight"), W("idx_pred_layer.0.bias"), CodeFormerArchitecture.LayerNormEpsilon);
            var logits = ReferenceSequenceOps.Linear(normed, tokens, W("idx_pred_layer.1.weight"), bias: null);
            Array.Copy(logits, 0, allLogits, b * logits.Length, logits.Length);
        }
        return allLogits;
    }

    /// <summary>
    /// TransformerSALayer: x + MHA(q = k = LN1(x) + pos, v = LN1(x)); then x + linear2(gelu(linear1(LN2(x)))).
    /// The position embedding never enters the residual stream or the values.
    /// </summary>
    private float[] TransformerLayer(string name, float[] x, int tokens)
    {
        var normed = ReferenceSequenceOps.LayerNorm(x, tokens, W($"{name}.norm1.weight"), W($"{name}.norm1.bias"), CodeFormerArchitecture.LayerNormEpsilon);
        var withPosition = ReferenceSequenceOps.Add(normed, W("position_emb").Data);
        var attended = ReferenceSequenceOps.MultiHeadSelfAttention(withPosition, normed, tokens, _architecture.TransformerHeads,
            W($"{name}.self_attn.in_proj_weight"), W($"{name}.self_attn.in_proj_bias"),
            W($"{name}.self_attn.out_proj.weight"), W($"{name}.self_attn.out_proj.bias"));
        x = ReferenceSequenceOps.Add(x, attended);
        var normed2 = ReferenceSequenceOps.LayerNorm(x, tokens, W($"{name}.norm2.weight"), W($"{name}.norm2.bias"), CodeFormerArchitecture.LayerNormEpsilon);
        var hidden = ReferenceSequenceOps.Gelu(ReferenceSequenceOps.Linear(normed2, tokens, W($"{name}.linear1.weight"), W($"{name}.linear1.bias")));
        return ReferenceSequenceOps.Add(x, ReferenceSequenceOps.Linear(hidden, tokens, W($"{name}.linear2.weight"), W($"{name}.linear2.bias")));
    }

    /// <summary>Codebook rows for the codes, laid out [B, E, L, L] (one-hot × codebook = row gather).</summary>
    private FeatureMap LookUpCodebook(int[] codes, int batch)
    {
        var a = _architecture;
        var codebook = W("quantize.embedding.weight");
        int side = a.LatentResolution, tokens = a.LatentTokens;
        var quantized = new FeatureMap(batch, a.EmbeddingDim, side, side);
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < tokens; t++)
            {
                int row = codes[b * tokens + t];
                for (int c = 0; c < a.EmbeddingDim; c++)
                {
                    quantized.Data[quantized.PlaneOffset(b, c) + t] = codebook.Data[row * a.EmbeddingDim + c];
                }
            }
        }
        return quantized;
    }

    /// <summary>
    /// adaptive_instance_normalization(content, style): per sample and channel,
    /// (content − μc)/σc·σs + μs with σ = sqrt(unbiased variance over H·W + 1e-5).
    /// </summary>
    private static FeatureMap AdaptiveInstanceNormalization(FeatureMap content, FeatureMap style)
    {
        var y = content.EmptyLike(content.Channels);
        for (int b = 0; b < content.Batch; b++)
        {
            for (int c = 0; c < content.Channels; c++)
            {
                var (contentMean, contentStd) = MeanStd(content, b, c);
                var (styleMean, styleStd) = MeanStd(style, b, c);
                int plane = content.PlaneOffset(b, c);
                for (int i = 0; i < content.PlaneSize; i++)
                {
                    y.Data[plane + i] = (float)((content.Data[plane + i] - contentMean) / contentStd * styleStd + styleMean);
                }
            }
        }
        return y;
    }

    private static (double Mean, double Std) MeanStd(FeatureMap x, int b, int c)
    {
        int plane = x.PlaneOffset(b, c), n = x.PlaneSize;
        double mean = 0;
        for (int i = 0; i < n; i++) mean += x.Data[plane + i];
        mean /= n;
        double squares = 0;
        for (int i = 0; i < n; i++)
        {
            double d = x.Data[plane + i] - mean;
            squares += d * d;
        }
        return (mean, Math.Sqrt(squares / (n - 1) + CodeFormerArchitecture.AdaInEpsilon));
    }

    private FeatureMap Decode(FeatureMap x, Dictionary<int, FeatureMap> taps, double fidelity)
    {
        foreach (var block in _layout.GeneratorBlocks)
        {
            x = _blocks.Run("generator.blocks", block, x);
            if (fidelity <= 0)
            {
                continue;
            }
            foreach (int resolution in _architecture.FuseResolutions)
            {
                if (_layout.GeneratorFuseAfterBlock[resolution] == block.Index)
                {
                    x = _blocks.Fuse(resolution, taps[resolution], x, fidelity);
                }
            }
        }
        return x;
    }

    private Tensor W(string name) => _weights[name];
}
