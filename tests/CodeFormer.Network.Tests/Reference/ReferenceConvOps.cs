using System.Numerics;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Tests.Reference;

/// <summary>
/// Plain-loop image ops of the VQGAN half of CodeFormer (reference doc A.1), written straight from the
/// PyTorch definitions. Sums are accumulated in double so the reference is the more precise side.
/// </summary>
internal static class ReferenceConvOps
{
    /// <summary>
    /// nn.Conv2d with square kernel, explicit (possibly asymmetric) zero padding and stride.
    /// Weight [Cout, Cin, K, K], bias [Cout].
    /// </summary>
    public static FeatureMap Conv2d(FeatureMap x, Tensor weight, Tensor bias, int stride = 1,
        int padTop = 1, int padLeft = 1, int padBottom = 1, int padRight = 1)
    {
        int cout = weight.Shape[0], cin = weight.Shape[1], k = weight.Shape[2];
        if (cin != x.Channels || weight.Shape[3] != k || bias.Shape[0] != cout)
        {
            throw new ArgumentException($"Conv weight ({string.Join(",", weight.Shape)}) / bias {bias.Shape[0]} do not fit {x.Channels} input channels.");
        }
        int ho = (x.Height + padTop + padBottom - k) / stride + 1;
        int wo = (x.Width + padLeft + padRight - k) / stride + 1;
        var y = new FeatureMap(x.Batch, cout, ho, wo);
        float[] w = weight.Data, input = x.Data, output = y.Data;
        Parallel.For(0, x.Batch * cout, job =>
        {
            int b = job / cout, oc = job % cout;
            var acc = new double[ho * wo];
            Array.Fill(acc, bias.Data[oc]);
            for (int ic = 0; ic < cin; ic++)
            {
                int inPlane = x.PlaneOffset(b, ic);
                for (int ky = 0; ky < k; ky++)
                {
                    var (oy0, oy1) = ValidOutputRange(ky, padTop, stride, x.Height, ho);
                    for (int kx = 0; kx < k; kx++)
                    {
                        double wv = w[((oc * cin + ic) * k + ky) * k + kx];
                        var (ox0, ox1) = ValidOutputRange(kx, padLeft, stride, x.Width, wo);
                        for (int oy = oy0; oy < oy1; oy++)
                        {
                            int row = inPlane + (oy * stride + ky - padTop) * x.Width - padLeft + kx;
                            int accRow = oy * wo;
                            if (stride == 1)
                            {
                                MultiplyAdd(acc.AsSpan(accRow + ox0, ox1 - ox0), wv, input.AsSpan(row + ox0, ox1 - ox0));
                                continue;
                            }
                            for (int ox = ox0; ox < ox1; ox++)
                            {
                                acc[accRow + ox] += wv * input[row + ox * stride];
                            }
                        }
                    }
                }
            }
            int outPlane = y.PlaneOffset(b, oc);
            for (int i = 0; i < acc.Length; i++)
            {
                output[outPlane + i] = (float)acc[i];
            }
        });
        return y;
    }

    /// <summary>acc += w·x, widening each float to double before the product (a plain loop, just SIMD-wide).</summary>
    private static void MultiplyAdd(Span<double> acc, double w, ReadOnlySpan<float> x)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var weight = new Vector<double>(w);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(x[i..]), out var low, out var high);
                var accLow = acc.Slice(i, Vector<double>.Count);
                var accHigh = acc.Slice(i + Vector<double>.Count, Vector<double>.Count);
                (new Vector<double>(accLow) + weight * low).CopyTo(accLow);
                (new Vector<double>(accHigh) + weight * high).CopyTo(accHigh);
            }
        }
        for (; i < x.Length; i++)
        {
            acc[i] += w * x[i];
        }
    }

    /// <summary>Output positions o (half-open range) whose input o·stride + tap − pad lies inside [0, size).</summary>
    private static (int From, int To) ValidOutputRange(int tap, int pad, int stride, int size, int outputs)
    {
        int from = 0;
        while (from < outputs && from * stride + tap - pad < 0) from++;
        int to = outputs;
        while (to > from && (to - 1) * stride + tap - pad >= size) to--;
        return (from, to);
    }

    /// <summary>Downsample (doc A.1): zero-pad right and bottom by one, then 3×3 stride 2 without padding.</summary>
    public static FeatureMap DownsampleConv(FeatureMap x, Tensor weight, Tensor bias)
        => Conv2d(x, weight, bias, stride: 2, padTop: 0, padLeft: 0, padBottom: 1, padRight: 1);

    /// <summary>1×1 convolution (attention q/k/v/proj_out and the ResBlock conv_out skip).</summary>
    public static FeatureMap PointwiseConv(FeatureMap x, Tensor weight, Tensor bias)
        => Conv2d(x, weight, bias, padTop: 0, padLeft: 0, padBottom: 0, padRight: 0);

    /// <summary>nn.GroupNorm(32, C, eps 1e-6, affine): per sample and group, biased variance.</summary>
    public static FeatureMap GroupNorm(FeatureMap x, Tensor gamma, Tensor beta)
    {
        int groups = CodeFormerArchitecture.NormGroups;
        if (x.Channels % groups != 0 || gamma.Shape[0] != x.Channels)
        {
            throw new ArgumentException($"GroupNorm over {x.Channels} channels with {groups} groups and {gamma.Shape[0]} scales.");
        }
        int perGroup = x.Channels / groups;
        var y = x.EmptyLike(x.Channels);
        Parallel.For(0, x.Batch * groups, job =>
        {
            int b = job / groups, g = job % groups;
            int start = x.PlaneOffset(b, g * perGroup), count = perGroup * x.PlaneSize;
            double sum = 0;
            for (int i = 0; i < count; i++) sum += x.Data[start + i];
            double mean = sum / count;
            double squares = 0;
            for (int i = 0; i < count; i++)
            {
                double d = x.Data[start + i] - mean;
                squares += d * d;
            }
            double invStd = 1.0 / Math.Sqrt(squares / count + CodeFormerArchitecture.GroupNormEpsilon);
            for (int c = g * perGroup; c < (g + 1) * perGroup; c++)
            {
                int plane = x.PlaneOffset(b, c);
                for (int i = 0; i < x.PlaneSize; i++)
                {
                    y.Data[plane + i] = (float)((x.Data[plane + i] - mean) * invStd * gamma.Data[c] + beta.Data[c]);
                }
            }
        });
        return y;
    }

    /// <summary>swish(x) = x·sigmoid(x).</summary>
    public static FeatureMap Swish(FeatureMap x) => Map(x, v => v / (1.0 + Math.Exp(-v)));

    public static FeatureMap LeakyRelu(FeatureMap x, double slope) => Map(x, v => v >= 0 ? v : slope * v);

    public static FeatureMap Add(FeatureMap a, FeatureMap b)
    {
        RequireSameShape(a, b);
        var y = a.EmptyLike(a.Channels);
        for (int i = 0; i < y.Data.Length; i++) y.Data[i] = a.Data[i] + b.Data[i];
        return y;
    }

    /// <summary>F.interpolate(scale_factor=2, mode='nearest').</summary>
    public static FeatureMap UpsampleNearest2x(FeatureMap x)
    {
        var y = new FeatureMap(x.Batch, x.Channels, x.Height * 2, x.Width * 2);
        for (int b = 0; b < x.Batch; b++)
        {
            for (int c = 0; c < x.Channels; c++)
            {
                int src = x.PlaneOffset(b, c), dst = y.PlaneOffset(b, c);
                for (int oy = 0; oy < y.Height; oy++)
                {
                    for (int ox = 0; ox < y.Width; ox++)
                    {
                        y.Data[dst + oy * y.Width + ox] = x.Data[src + (oy / 2) * x.Width + ox / 2];
                    }
                }
            }
        }
        return y;
    }

    /// <summary>torch.cat([first, second], dim=1).</summary>
    public static FeatureMap ConcatChannels(FeatureMap first, FeatureMap second)
    {
        if (first.Batch != second.Batch || first.Height != second.Height || first.Width != second.Width)
        {
            throw new ArgumentException("Concatenated feature maps must agree in batch and spatial size.");
        }
        var y = new FeatureMap(first.Batch, first.Channels + second.Channels, first.Height, first.Width);
        for (int b = 0; b < y.Batch; b++)
        {
            Array.Copy(first.Data, first.PlaneOffset(b, 0), y.Data, y.PlaneOffset(b, 0), first.Channels * first.PlaneSize);
            Array.Copy(second.Data, second.PlaneOffset(b, 0), y.Data, y.PlaneOffset(b, first.Channels), second.Channels * second.PlaneSize);
        }
        return y;
    }

    /// <summary>
    /// The VQGAN AttnBlock's core: single head over H·W positions, logits q·k scaled by C^-0.5,
    /// softmax over keys, output Σ softmax·v. q, k, v are the 1×1-conv outputs (NCHW).
    /// </summary>
    public static FeatureMap SpatialAttention(FeatureMap q, FeatureMap k, FeatureMap v)
    {
        RequireSameShape(q, k);
        RequireSameShape(q, v);
        int c = q.Channels, n = q.PlaneSize;
        double scale = Math.Pow(c, -0.5);
        var y = q.EmptyLike(c);
        Parallel.For(0, q.Batch * n, job =>
        {
            int b = job / n, query = job % n;
            var weights = new double[n];
            double max = double.NegativeInfinity;
            for (int key = 0; key < n; key++)
            {
                double dot = 0;
                for (int ch = 0; ch < c; ch++)
                {
                    dot += (double)q.Data[q.PlaneOffset(b, ch) + query] * k.Data[k.PlaneOffset(b, ch) + key];
                }
                weights[key] = dot * scale;
                max = Math.Max(max, weights[key]);
            }
            double total = 0;
            for (int key = 0; key < n; key++)
            {
                weights[key] = Math.Exp(weights[key] - max);
                total += weights[key];
            }
            for (int ch = 0; ch < c; ch++)
            {
                int plane = v.PlaneOffset(b, ch);
                double sum = 0;
                for (int key = 0; key < n; key++) sum += weights[key] * v.Data[plane + key];
                y.Data[plane + query] = (float)(sum / total);
            }
        });
        return y;
    }

    private static FeatureMap Map(FeatureMap x, Func<double, double> f)
    {
        var y = x.EmptyLike(x.Channels);
        for (int i = 0; i < y.Data.Length; i++) y.Data[i] = (float)f(x.Data[i]);
        return y;
    }

    private static void RequireSameShape(FeatureMap a, FeatureMap b)
    {
        if (a.Batch != b.Batch || a.Channels != b.Channels || a.Height != b.Height || a.Width != b.Width)
        {
            throw new ArgumentException($"Shapes differ: [{a.Batch},{a.Channels},{a.Height},{a.Width}] vs [{b.Batch},{b.Channels},{b.Height},{b.Width}].");
        }
    }
}
