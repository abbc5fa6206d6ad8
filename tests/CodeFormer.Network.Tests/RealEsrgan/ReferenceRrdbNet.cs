using CodeFormer.Network.RealEsrgan;
using CodeFormer.Network.Tests.Reference;
using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Tests.RealEsrgan;

/// <summary>
/// basicsr's RRDBNet.forward written as plain loops over <see cref="FeatureMap"/>s, independent of the ONNX builder:
/// its own pixel_unshuffle straight from the torch definition, and the shared plain-loop conv/lrelu/nearest ops.
/// </summary>
internal static class ReferenceRrdbNet
{
    public static FeatureMap Forward(FeatureMap x, RrdbNetArchitecture architecture, WeightSet weights)
    {
        if (architecture.UnshuffleFactor > 1)
        {
            x = PixelUnshuffle(x, architecture.UnshuffleFactor);
        }
        var feat = Conv(x, weights, "conv_first");
        var body = feat;
        for (int block = 0; block < architecture.NumBlock; block++)
        {
            var y = body;
            for (int rdb = 1; rdb <= 3; rdb++)
            {
                y = DenseBlock(y, weights, $"body.{block}.rdb{rdb}");
            }
            body = ResidualAdd(y, body);
        }
        feat = ReferenceConvOps.Add(feat, Conv(body, weights, "conv_body"));
        feat = Lrelu(Conv(ReferenceConvOps.UpsampleNearest2x(feat), weights, "conv_up1"));
        feat = Lrelu(Conv(ReferenceConvOps.UpsampleNearest2x(feat), weights, "conv_up2"));
        return Conv(Lrelu(Conv(feat, weights, "conv_hr")), weights, "conv_last");
    }

    /// <summary>F.pixel_unshuffle: out[b, c·r² + dy·r + dx, y, x] = in[b, c, y·r + dy, x·r + dx].</summary>
    public static FeatureMap PixelUnshuffle(FeatureMap x, int r)
    {
        var y = new FeatureMap(x.Batch, x.Channels * r * r, x.Height / r, x.Width / r);
        for (int b = 0; b < x.Batch; b++)
        for (int c = 0; c < x.Channels; c++)
        for (int dy = 0; dy < r; dy++)
        for (int dx = 0; dx < r; dx++)
        {
            int outPlane = y.PlaneOffset(b, c * r * r + dy * r + dx);
            for (int oy = 0; oy < y.Height; oy++)
            for (int ox = 0; ox < y.Width; ox++)
            {
                y.Data[outPlane + oy * y.Width + ox] = x.Data[x.PlaneOffset(b, c) + (oy * r + dy) * x.Width + ox * r + dx];
            }
        }
        return y;
    }

    private static FeatureMap DenseBlock(FeatureMap x, WeightSet weights, string prefix)
    {
        var x1 = Lrelu(Conv(x, weights, $"{prefix}.conv1"));
        var c1 = ReferenceConvOps.ConcatChannels(x, x1);
        var x2 = Lrelu(Conv(c1, weights, $"{prefix}.conv2"));
        var c2 = ReferenceConvOps.ConcatChannels(c1, x2);
        var x3 = Lrelu(Conv(c2, weights, $"{prefix}.conv3"));
        var c3 = ReferenceConvOps.ConcatChannels(c2, x3);
        var x4 = Lrelu(Conv(c3, weights, $"{prefix}.conv4"));
        var x5 = Conv(ReferenceConvOps.ConcatChannels(c3, x4), weights, $"{prefix}.conv5");
        return ResidualAdd(x5, x);
    }

    /// <summary>residual·0.2 + identity, as both ResidualDenseBlock and RRDB end.</summary>
    private static FeatureMap ResidualAdd(FeatureMap residual, FeatureMap identity)
    {
        var y = identity.EmptyLike(identity.Channels);
        for (int i = 0; i < y.Data.Length; i++)
        {
            y.Data[i] = residual.Data[i] * 0.2f + identity.Data[i];
        }
        return y;
    }

    private static FeatureMap Conv(FeatureMap x, WeightSet weights, string prefix)
        => ReferenceConvOps.Conv2d(x, weights[$"{prefix}.weight"], weights[$"{prefix}.bias"]);

    private static FeatureMap Lrelu(FeatureMap x) => ReferenceConvOps.LeakyRelu(x, 0.2);
}
