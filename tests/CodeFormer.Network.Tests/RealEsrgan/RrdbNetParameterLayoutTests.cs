using CodeFormer.Network.RealEsrgan;
using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Tests.RealEsrgan;

public sealed class RrdbNetParameterLayoutTests
{
    /// <summary>RealESRGAN_x2plus.pth as published (reference C): its size bounds the parameter count from above.</summary>
    private const long OfficialCheckpointBytes = 67_061_725;

    [Fact]
    public void The_x2plus_layout_has_the_parameter_count_of_the_released_checkpoint()
    {
        var layout = new RrdbNetParameterLayout(RrdbNetArchitecture.X2Plus);

        // By hand (3×3 convs, weight out·in·9 plus bias out), nf 64, gc 32:
        //   conv_first   64·12·9 + 64                       =      6,976   (12 = 3 channels · 2² after pixel_unshuffle)
        //   one RDB      conv1 32·64·9+32   = 18,464
        //                conv2 32·96·9+32   = 27,680
        //                conv3 32·128·9+32  = 36,896
        //                conv4 32·160·9+32  = 46,112
        //                conv5 64·192·9+64  = 110,656          =    239,808
        //   23 RRDBs     23 · 3 · 239,808                      = 16,546,752
        //   conv_body, conv_up1, conv_up2, conv_hr  4·(64·64·9 + 64) = 147,712
        //   conv_last    3·64·9 + 3                            =      1,731
        //   total                                              = 16,703,171
        Assert.Equal(16_703_171L, layout.TotalElements);
        Assert.Equal(2 + 23 * 3 * 5 * 2 + 4 * 2 + 2, layout.Parameters.Count); // 702 tensors

        // float32 storage is 4 bytes a parameter; the rest of the file is pickle and zip bookkeeping, a few hundred bytes a tensor
        // (official: 67,061,725 − 66,812,684 = 249,041 bytes, ~355 a tensor; TorchCheckpointWriter writes this layout in 67,014,824).
        long overhead = OfficialCheckpointBytes - 4 * layout.TotalElements;
        Assert.InRange(overhead, 100 * layout.Parameters.Count, 1_000 * layout.Parameters.Count);
    }

    [Fact]
    public void Names_and_shapes_follow_basicsr_state_dict_order()
    {
        var parameters = new RrdbNetParameterLayout(RrdbNetArchitecture.X2Plus).Parameters;

        Assert.Equal("conv_first.weight", parameters[0].Name);
        Assert.Equal([64, 12, 3, 3], parameters[0].Shape);
        Assert.Equal("body.0.rdb1.conv1.weight", parameters[2].Name);
        var conv5 = parameters.Single(p => p.Name == "body.22.rdb3.conv5.weight");
        Assert.Equal([64, 192, 3, 3], conv5.Shape);
        Assert.Equal([32, 160, 3, 3], parameters.Single(p => p.Name == "body.7.rdb2.conv4.weight").Shape);
        Assert.Equal(["conv_body.weight", "conv_body.bias", "conv_up1.weight", "conv_up1.bias", "conv_up2.weight", "conv_up2.bias",
            "conv_hr.weight", "conv_hr.bias", "conv_last.weight", "conv_last.bias"], parameters.TakeLast(10).Select(p => p.Name));
        Assert.Equal([3, 64, 3, 3], parameters[^2].Shape);
    }

    [Theory]
    [InlineData(1, 48)]
    [InlineData(2, 12)]
    [InlineData(4, 3)]
    public void Conv_first_sees_the_pixel_unshuffled_channels(int scale, int expectedInChannels)
    {
        var layout = new RrdbNetParameterLayout(RrdbNetArchitecture.X2Plus with { Scale = scale });
        Assert.Equal(expectedInChannels, layout.Parameters[0].Shape[1]);
    }

    [Fact]
    public void An_unsupported_scale_is_refused_with_its_value()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new RrdbNetParameterLayout(RrdbNetArchitecture.X2Plus with { Scale = 3 }));
        Assert.Contains("3", error.Message);
    }

    [Fact]
    public void Validation_names_missing_misshaped_and_unexpected_keys()
    {
        var parameters = new RrdbNetParameterLayout(RrdbNetArchitecture.Tiny).Parameters;
        var weights = new WeightSet();
        foreach (var spec in parameters.Where(p => p.Name != "conv_hr.bias"))
        {
            weights.Add(spec.Name, RandomWeights.CreateTensor(spec, 1));
        }
        weights.Replace("conv_first.weight", new Tensor([16, 3, 3, 3], new float[16 * 27]));
        weights.Add("conv_up3.weight", new Tensor([1], [0f]));

        var error = Assert.Throws<InvalidWeightsException>(() => weights.ValidateAgainst(parameters, "RRDBNet (Real-ESRGAN)"));

        Assert.Equal(3, error.Problems.Count);
        Assert.Contains("missing key 'conv_hr.bias' (16,)", error.Message);
        Assert.Contains("key 'conv_first.weight' has shape (16, 3, 3, 3), expected (16, 12, 3, 3)", error.Message);
        Assert.Contains("unexpected key 'conv_up3.weight'", error.Message);
        Assert.Contains("RRDBNet", error.Message);
    }
}
