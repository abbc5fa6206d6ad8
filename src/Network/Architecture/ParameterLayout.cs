namespace CodeFormer.Network.Architecture;

/// <summary>What a parameter is for; decides how deterministic random weights are drawn.</summary>
public enum ParameterKind
{
    Weight,
    Bias,
    NormScale,
    NormShift,
    Embedding,
}

/// <summary>A named parameter and its shape, as in the released <c>params_ema</c> state dict.</summary>
public sealed record ParameterSpec(string Name, int[] Shape, ParameterKind Kind)
{
    public long ElementCount => Shape.Aggregate(1L, (n, d) => n * d);
    public string ShapeText => "(" + string.Join(", ", Shape) + (Shape.Length == 1 ? ",)" : ")");
}

/// <summary>
/// Every parameter of a CodeFormer network in state-dict order (encoder, codebook, generator,
/// position embedding, transformer, head, fuse blocks), named exactly as the released checkpoint names them.
/// </summary>
public sealed class ParameterLayout
{
    public IReadOnlyList<ParameterSpec> Parameters { get; }
    public long TotalElements { get; }

    public ParameterLayout(NetworkLayout layout, bool includeFuseBlocks = true)
    {
        var a = layout.Architecture;
        var p = new List<ParameterSpec>();
        AddBlocks(p, "encoder.blocks", layout.EncoderBlocks);
        p.Add(new("quantize.embedding.weight", [a.CodebookSize, a.EmbeddingDim], ParameterKind.Embedding));
        AddBlocks(p, "generator.blocks", layout.GeneratorBlocks);
        p.Add(new("position_emb", [a.LatentTokens, a.TransformerDim], ParameterKind.Embedding));
        AddLinear(p, "feat_emb", a.TransformerDim, a.EmbeddingDim, bias: true);
        for (int l = 0; l < a.TransformerLayers; l++)
        {
            string prefix = $"ft_layers.{l}";
            p.Add(new($"{prefix}.self_attn.in_proj_weight", [3 * a.TransformerDim, a.TransformerDim], ParameterKind.Weight));
            p.Add(new($"{prefix}.self_attn.in_proj_bias", [3 * a.TransformerDim], ParameterKind.Bias));
            AddLinear(p, $"{prefix}.self_attn.out_proj", a.TransformerDim, a.TransformerDim, bias: true);
            AddLinear(p, $"{prefix}.linear1", a.FeedForwardDim, a.TransformerDim, bias: true);
            AddLinear(p, $"{prefix}.linear2", a.TransformerDim, a.FeedForwardDim, bias: true);
            AddAffine(p, $"{prefix}.norm1", a.TransformerDim);
            AddAffine(p, $"{prefix}.norm2", a.TransformerDim);
        }
        AddAffine(p, "idx_pred_layer.0", a.TransformerDim);
        AddLinear(p, "idx_pred_layer.1", a.CodebookSize, a.TransformerDim, bias: false);
        if (includeFuseBlocks)
        {
            foreach (int resolution in a.FuseResolutions)
            {
                int c = a.ChannelsAtResolution(resolution);
                string prefix = $"fuse_convs_dict.{resolution}";
                AddResBlock(p, $"{prefix}.encode_enc", 2 * c, c);
                AddConv(p, $"{prefix}.scale.0", c, c, 3);
                AddConv(p, $"{prefix}.scale.2", c, c, 3);
                AddConv(p, $"{prefix}.shift.0", c, c, 3);
                AddConv(p, $"{prefix}.shift.2", c, c, 3);
            }
        }
        Parameters = p;
        TotalElements = p.Sum(s => s.ElementCount);
    }

    /// <summary>True for the parameters that only the CFT fuse blocks read (dropped by the w = 0 graph).</summary>
    public static bool IsFuseParameter(string name) => name.StartsWith("fuse_convs_dict.", StringComparison.Ordinal);

    private static void AddBlocks(List<ParameterSpec> p, string prefix, IReadOnlyList<BlockSpec> blocks)
    {
        foreach (var block in blocks)
        {
            string name = $"{prefix}.{block.Index}";
            switch (block)
            {
                case ConvSpec c:
                    AddConv(p, name, c.OutChannels, c.InChannels, 3);
                    break;
                case ResBlockSpec r:
                    AddResBlock(p, name, r.InChannels, r.OutChannels);
                    break;
                case AttentionSpec at:
                    AddAffine(p, $"{name}.norm", at.Channels);
                    foreach (var conv in new[] { "q", "k", "v", "proj_out" })
                    {
                        AddConv(p, $"{name}.{conv}", at.Channels, at.Channels, 1);
                    }
                    break;
                case DownsampleSpec d:
                    AddConv(p, $"{name}.conv", d.Channels, d.Channels, 3);
                    break;
                case UpsampleSpec u:
                    AddConv(p, $"{name}.conv", u.Channels, u.Channels, 3);
                    break;
                case GroupNormSpec g:
                    AddAffine(p, name, g.Channels);
                    break;
                default:
                    throw new InvalidOperationException($"Unknown block {block}.");
            }
        }
    }

    private static void AddResBlock(List<ParameterSpec> p, string name, int inChannels, int outChannels)
    {
        AddAffine(p, $"{name}.norm1", inChannels);
        AddConv(p, $"{name}.conv1", outChannels, inChannels, 3);
        AddAffine(p, $"{name}.norm2", outChannels);
        AddConv(p, $"{name}.conv2", outChannels, outChannels, 3);
        if (inChannels != outChannels)
        {
            AddConv(p, $"{name}.conv_out", outChannels, inChannels, 1);
        }
    }

    private static void AddConv(List<ParameterSpec> p, string name, int outChannels, int inChannels, int kernel)
    {
        p.Add(new($"{name}.weight", [outChannels, inChannels, kernel, kernel], ParameterKind.Weight));
        p.Add(new($"{name}.bias", [outChannels], ParameterKind.Bias));
    }

    private static void AddLinear(List<ParameterSpec> p, string name, int outFeatures, int inFeatures, bool bias)
    {
        p.Add(new($"{name}.weight", [outFeatures, inFeatures], ParameterKind.Weight));
        if (bias)
        {
            p.Add(new($"{name}.bias", [outFeatures], ParameterKind.Bias));
        }
    }

    private static void AddAffine(List<ParameterSpec> p, string name, int channels)
    {
        p.Add(new($"{name}.weight", [channels], ParameterKind.NormScale));
        p.Add(new($"{name}.bias", [channels], ParameterKind.NormShift));
    }
}
