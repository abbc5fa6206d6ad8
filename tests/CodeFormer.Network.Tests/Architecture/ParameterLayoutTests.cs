using CodeFormer.Network.Architecture;
using CodeFormer.Testing;

namespace CodeFormer.Network.Tests.Architecture;

public sealed class ParameterLayoutTests
{
    [Fact]
    public void Full_size_model_has_the_released_parameter_count()
    {
        var layout = new ParameterLayout(new NetworkLayout(CodeFormerArchitecture.Full));

        Assert.Equal(515, layout.Parameters.Count);
        Assert.Equal(94_112_707L, layout.TotalElements);
    }

    [Fact]
    public void Without_fuse_blocks_the_model_drops_the_cft_parameters()
    {
        var full = new ParameterLayout(new NetworkLayout(CodeFormerArchitecture.Full));
        var codeOnly = new ParameterLayout(new NetworkLayout(CodeFormerArchitecture.Full), includeFuseBlocks: false);

        Assert.Equal(10_659_584L, full.TotalElements - codeOnly.TotalElements);
    }

    [Theory]
    [InlineData("inpainting", 92_652_867L)]
    [InlineData("colorization", 93_046_083L)]
    public void Variant_checkpoints_have_their_derived_parameter_counts(string variant, long expected)
    {
        var architecture = variant == "inpainting" ? CodeFormerArchitecture.Inpainting : CodeFormerArchitecture.Colorization;

        Assert.Equal(expected, new ParameterLayout(new NetworkLayout(architecture)).TotalElements);
    }

    [AssetFact("../docs/codeformer-state-dict-keys.tsv")]
    public void Names_shapes_and_order_match_the_released_state_dict()
    {
        var released = File.ReadLines(TestAssets.PathOf("../docs/codeformer-state-dict-keys.tsv"))
            .Where(line => !line.StartsWith('#') && line.Length > 0)
            .Select(line => line.Split('\t'))
            .Select(cols => (Name: cols[0], Shape: cols[1]))
            .ToList();

        var ours = new ParameterLayout(new NetworkLayout(CodeFormerArchitecture.Full)).Parameters
            .Select(p => (p.Name, Shape: p.ShapeText))
            .ToList();

        Assert.Equal(released, ours);
    }

    [Fact]
    public void Fuse_and_tap_positions_match_the_reference_indices()
    {
        var layout = new NetworkLayout(CodeFormerArchitecture.Full);

        Assert.Equal(25, layout.EncoderBlocks.Count);
        Assert.Equal(25, layout.GeneratorBlocks.Count);
        Assert.Equal(new Dictionary<int, int> { [512] = 2, [256] = 5, [128] = 8, [64] = 11, [32] = 14, [16] = 18 }, layout.EncoderTapAfterBlock);
        foreach (var (resolution, block) in new[] { (16, 6), (32, 9), (64, 12), (128, 15), (256, 18), (512, 21) })
        {
            Assert.Equal(block, layout.GeneratorFuseAfterBlock[resolution]);
        }
    }
}
