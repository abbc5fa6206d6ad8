using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Tests.Reference;

/// <summary>The oracle's own building blocks, checked against values worked out by hand.</summary>
public sealed class ReferenceOpsTests
{
    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(-2.0, -0.9953222650189527)]
    [InlineData(3.5, 0.9999992569016276)]
    [InlineData(-5.0, -0.9999999999984626)]
    public void Erf_matches_tabulated_values(double x, double expected)
    {
        Assert.Equal(expected, ReferenceSequenceOps.Erf(x), 1e-13);
    }

    [Fact]
    public void Downsample_pads_only_right_and_bottom_then_strides_by_two()
    {
        // 4×4 input 0..15, a 3×3 all-ones kernel: output (oy, ox) sums input rows 2oy..2oy+2, cols 2ox..2ox+2,
        // where row/column 4 is the zero padding.
        var x = new FeatureMap(1, 1, 4, 4, Enumerable.Range(0, 16).Select(i => (float)i).ToArray());
        var ones = new Tensor([1, 1, 3, 3], Enumerable.Repeat(1f, 9).ToArray());
        var bias = new Tensor([1], [0.5f]);

        var y = ReferenceConvOps.DownsampleConv(x, ones, bias);

        Assert.Equal((2, 2), (y.Height, y.Width));
        // (0,0): 0+1+2+4+5+6+8+9+10 = 45; (0,1): 2+3+6+7+10+11 = 39; (1,0): 8+9+10+12+13+14 = 66; (1,1): 10+11+14+15 = 50.
        Assert.Equal(new[] { 45.5f, 39.5f, 66.5f, 50.5f }, y.Data);
    }

    [Fact]
    public void Group_norm_uses_biased_variance_over_each_group()
    {
        // 32 channels, 2 pixels: each group is one channel holding (c, c + 2); mean c + 1, biased variance 1.
        var x = new FeatureMap(1, 32, 1, 2, Enumerable.Range(0, 32).SelectMany(c => new[] { (float)c, c + 2f }).ToArray());
        var gamma = new Tensor([32], Enumerable.Repeat(2f, 32).ToArray());
        var beta = new Tensor([32], Enumerable.Repeat(1f, 32).ToArray());

        var y = ReferenceConvOps.GroupNorm(x, gamma, beta);

        double expected = 2.0 / Math.Sqrt(1 + 1e-6);
        for (int c = 0; c < 32; c++)
        {
            Assert.Equal(1 - expected, y.Data[2 * c], 1e-6);
            Assert.Equal(1 + expected, y.Data[2 * c + 1], 1e-6);
        }
    }

    [Fact]
    public void Multi_head_attention_with_zero_query_weights_averages_the_values()
    {
        // Zero q rows make every logit equal, so each head's softmax is uniform and every token receives the
        // mean of the value projections; identity v rows and out_proj leave that mean of the value input.
        const int dim = 4, tokens = 3;
        var packed = new float[3 * dim * dim];
        for (int i = 0; i < dim; i++)
        {
            packed[(dim + i) * dim + i] = 1f;      // k = x
            packed[(2 * dim + i) * dim + i] = 1f;  // v = x
        }
        var identity = new float[dim * dim];
        for (int i = 0; i < dim; i++) identity[i * dim + i] = 1f;
        float[] queryKey = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        float[] value = [3, 0, 0, 6, 0, 3, 0, 0, 0, 0, 6, 3];

        var y = ReferenceSequenceOps.MultiHeadSelfAttention(queryKey, value, tokens, heads: 2,
            new Tensor([3 * dim, dim], packed), new Tensor([3 * dim], new float[3 * dim]),
            new Tensor([dim, dim], identity), new Tensor([dim], new float[dim]));

        for (int t = 0; t < tokens; t++)
        {
            Assert.Equal(new[] { 1f, 1f, 2f, 3f }, y.Skip(t * dim).Take(dim).ToArray());
        }
    }

    [Fact]
    public void Nearest_upsample_repeats_each_pixel_in_a_two_by_two_block()
    {
        var x = new FeatureMap(1, 1, 2, 2, [1, 2, 3, 4]);

        var y = ReferenceConvOps.UpsampleNearest2x(x);

        Assert.Equal(new float[] { 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4 }, y.Data);
    }
}
