using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;

namespace CodeFormer.Network.Tests.Onnx;

public sealed class CodeFormerFlopsTests
{
    [Fact]
    public void Full_model_costs_about_what_the_issue_estimates()
    {
        double withFuse = CodeFormerFlops.EstimateFlops(CodeFormerArchitecture.Full, includeFuseBlocks: true) / 1e9;
        double codeOnly = CodeFormerFlops.EstimateFlops(CodeFormerArchitecture.Full, includeFuseBlocks: false) / 1e9;

        // The issue's rough figures: ~810 GFLOP per face at w > 0 and ~590 at w = 0.
        Assert.InRange(withFuse, 810 * 0.9, 810 * 1.1);
        Assert.InRange(codeOnly, 590 * 0.9, 590 * 1.1);
    }

    [Fact]
    public void Fuse_blocks_cost_exactly_their_convolutions()
    {
        var tiny = CodeFormerArchitecture.Tiny;
        long fuse = CodeFormerFlops.EstimateFlops(tiny, true) - CodeFormerFlops.EstimateFlops(tiny, false);

        // Hand count from the layer shapes: encode_enc conv1 (2C→C), conv2, 1×1 skip, and the four branch convs.
        long expected = 0;
        foreach (int r in tiny.FuseResolutions)
        {
            long c = tiny.ChannelsAtResolution(r), p = (long)r * r;
            long conv1 = 2 * (2 * c) * c * 9 * p, conv2 = 2 * c * c * 9 * p, skip = 2 * (2 * c) * c * p, branches = 4 * (2 * c * c * 9 * p);
            expected += conv1 + conv2 + skip + branches;
        }
        Assert.Equal(expected, fuse);
    }

    [Fact]
    public void Cost_grows_with_the_square_of_the_image_size_in_the_convolutions()
    {
        var small = CodeFormerArchitecture.Tiny;
        var large = small with
        {
            ImageSize = 2 * small.ImageSize,
            FuseResolutions = [.. small.FuseResolutions.Select(r => 2 * r)],
            AttentionResolutions = [.. small.AttentionResolutions.Select(r => 2 * r)],
        };

        double ratio = (double)CodeFormerFlops.EstimateFlops(large, false) / CodeFormerFlops.EstimateFlops(small, false);

        // Convolutions scale ×4, attention over positions ×16: the total must land between the two.
        Assert.InRange(ratio, 4.0, 16.0);
    }
}
