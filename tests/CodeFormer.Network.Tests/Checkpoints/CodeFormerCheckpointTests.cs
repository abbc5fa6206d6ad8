using CodeFormer.Network.Architecture;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Network.Weights;
using CodeFormer.Testing;

namespace CodeFormer.Network.Tests.Checkpoints;

public sealed class CodeFormerCheckpointTests
{
    private static readonly CodeFormerArchitecture Tiny = CodeFormerArchitecture.Tiny;

    private static WeightSet WeightsFor(CodeFormerArchitecture architecture, ulong seed = 5) =>
        RandomWeights.Create(new ParameterLayout(new NetworkLayout(architecture)), seed);

    private static string Write(TemporaryDirectory dir, WeightSet weights, string key = "params_ema")
    {
        string path = dir.File("model.pth");
        TorchCheckpointWriter.WriteZip(path, new Dictionary<string, WeightSet> { [key] = weights });
        return path;
    }

    [Fact]
    public void Loads_a_checkpoint_with_exactly_the_official_key_set()
    {
        using var dir = new TemporaryDirectory();
        var weights = WeightsFor(Tiny);

        var loaded = CodeFormerCheckpoint.Load(Write(dir, weights), Tiny);

        Assert.Equal(weights.Names, loaded.Names);
        Assert.Equal(weights.TotalElements, loaded.TotalElements);
    }

    [Fact]
    public void A_missing_key_is_named_with_its_expected_shape()
    {
        using var dir = new TemporaryDirectory();
        var complete = WeightsFor(Tiny);
        var weights = Without(complete, "ft_layers.1.linear2.weight");

        var error = Assert.Throws<InvalidWeightsException>(() => CodeFormerCheckpoint.Load(Write(dir, weights), Tiny));

        Assert.Equal(["missing key 'ft_layers.1.linear2.weight' (64, 128)"], error.Problems);
    }

    [Fact]
    public void A_wrong_shape_names_the_key_and_both_shapes()
    {
        using var dir = new TemporaryDirectory();
        var weights = WeightsFor(Tiny);
        weights.Replace("feat_emb.bias", new Tensor([65], new float[65]));

        var error = Assert.Throws<InvalidWeightsException>(() => CodeFormerCheckpoint.Load(Write(dir, weights), Tiny));

        var problem = Assert.Single(error.Problems);
        Assert.Contains("'feat_emb.bias'", problem);
        Assert.Contains("(65)", problem);
        Assert.Contains("(64,)", problem);
    }

    [Fact]
    public void An_unexpected_key_is_named()
    {
        using var dir = new TemporaryDirectory();
        var weights = WeightsFor(Tiny);
        weights.Add("module.extra.weight", new Tensor([2], [1f, 2f]));

        var error = Assert.Throws<InvalidWeightsException>(() => CodeFormerCheckpoint.Load(Write(dir, weights), Tiny));

        Assert.Equal(["unexpected key 'module.extra.weight'"], error.Problems);
    }

    [Fact]
    public void Weights_of_another_variant_get_a_hint_naming_codebook_and_fuse_resolutions()
    {
        var otherVariant = Tiny with { CodebookSize = 32, FuseResolutions = [16, 32] };
        var weights = WeightsFor(otherVariant);

        var error = Assert.Throws<InvalidWeightsException>(() => CodeFormerCheckpoint.Validate(weights, Tiny));

        Assert.Equal("the checkpoint has codebook 32 and fuse blocks at 16/32, the architecture expects codebook 64 and fuse at 16/32/64", error.Problems[0]);
        Assert.Contains(error.Problems, p => p.StartsWith("missing key 'fuse_convs_dict.64.", StringComparison.Ordinal));
        Assert.Contains(error.Problems, p => p.StartsWith("key 'quantize.embedding.weight' has shape (32, 32)", StringComparison.Ordinal));
    }

    [Fact]
    public void Inpainting_weights_checked_as_the_restoration_model_are_recognised()
    {
        // Zero-filled tensors with the inpainting checkpoint's shapes: only shapes matter for validation.
        var weights = new WeightSet();
        foreach (var spec in new ParameterLayout(new NetworkLayout(CodeFormerArchitecture.Inpainting)).Parameters)
        {
            weights.Add(spec.Name, new Tensor(spec.Shape, new float[spec.ElementCount]));
        }

        var error = Assert.Throws<InvalidWeightsException>(() => CodeFormerCheckpoint.Validate(weights, CodeFormerArchitecture.Full));

        Assert.StartsWith("these weights are the inpainting (codeformer_inpainting.pth) variant (codebook 512, fuse at 32/64/128)", error.Problems[0]);
        Assert.Contains("inpainting", error.Message);
        Assert.Same(CodeFormerArchitecture.Inpainting, CodeFormerCheckpoint.IdentifyArchitecture(weights));
    }

    [Fact]
    public void Identifies_the_architecture_a_weight_set_fits_or_none()
    {
        Assert.Same(CodeFormerArchitecture.Tiny, CodeFormerCheckpoint.IdentifyArchitecture(WeightsFor(Tiny)));
        Assert.Null(CodeFormerCheckpoint.IdentifyArchitecture(WeightsFor(Tiny with { CodebookSize = 32 })));
    }

    private static WeightSet Without(WeightSet source, string name)
    {
        var copy = new WeightSet();
        foreach (var n in source.Names.Where(n => n != name))
        {
            copy.Add(n, source[n]);
        }
        return copy;
    }
}
