using CodeFormer.Network.RealEsrgan;
using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Onnx;

/// <summary>
/// Turns an RRDBNet (Real-ESRGAN generator) plus its state dict into an ONNX model (opset 17, float32), the contract
/// the engine's <c>RealEsrganUpsampler</c> reads: input <c>input</c> float32 [N, InChannels, H, W] RGB in [0, 1] with
/// H and W free (multiples of <see cref="RrdbNetArchitecture.SizeMultiple"/>); output <c>output</c> float32
/// [N, OutChannels, H·scale, W·scale], unclamped. Metadata <c>scale</c> carries the factor, so no probe run is needed.
/// Weight initializers are named exactly as the state-dict keys.
/// </summary>
public static class RrdbNetOnnxExporter
{
    public const string InputName = "input";
    public const string OutputName = "output";

    /// <summary>basicsr's LeakyReLU slope everywhere in RRDBNet.</summary>
    public const float LeakySlope = 0.2f;

    /// <summary>Residual scaling of each dense block and of each RRDB (x5·0.2 + x, out·0.2 + x).</summary>
    public const float ResidualScale = 0.2f;

    public static OnnxGraph BuildGraph(RrdbNetArchitecture architecture, WeightSet weights, string? weightsLicense = null)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(weights);
        var layout = new RrdbNetParameterLayout(architecture);
        weights.ValidateAgainst(layout.Parameters, "RRDBNet (Real-ESRGAN)");

        var ops = new GraphOps(new OnnxGraph("rrdbnet"), weights, OnnxElementType.Float);
        var graph = ops.Graph;
        string x = graph.AddInput(InputName, OnnxElementType.Float, "N", architecture.InChannels, "H", "W");
        if (architecture.UnshuffleFactor > 1)
        {
            x = PixelUnshuffle(ops, x, architecture.InChannels, architecture.UnshuffleFactor);
        }
        string feat = ops.Conv(x, "conv_first", kernel: 3);
        string body = feat;
        for (int block = 0; block < architecture.NumBlock; block++)
        {
            body = Rrdb(ops, body, $"body.{block}");
        }
        feat = ops.Add(feat, ops.Conv(body, "conv_body", kernel: 3), "trunk");
        feat = ops.LeakyRelu(ops.Conv(NearestUpsample2x(ops, feat, "up1"), "conv_up1", kernel: 3), LeakySlope, "conv_up1/lrelu");
        feat = ops.LeakyRelu(ops.Conv(NearestUpsample2x(ops, feat, "up2"), "conv_up2", kernel: 3), LeakySlope, "conv_up2/lrelu");
        string hr = ops.LeakyRelu(ops.Conv(feat, "conv_hr", kernel: 3), LeakySlope, "conv_hr/lrelu");
        string output = ops.Conv(hr, "conv_last", kernel: 3);

        graph.Alias(output, OutputName);
        graph.AddOutput(OutputName, OnnxElementType.Float, "N", architecture.OutChannels, "H_out", "W_out");
        RrdbNetModelMetadata.Write(graph, architecture, weightsLicense);
        return graph;
    }

    /// <summary>Builds and writes the model; the file appears only once complete (temporary file + rename).</summary>
    public static void WriteFile(RrdbNetArchitecture architecture, WeightSet weights, string path, string? weightsLicense = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        OnnxModelWriter.WriteFile(BuildGraph(architecture, weights, weightsLicense), path);
    }

    /// <summary>
    /// torch's F.pixel_unshuffle(x, r): output channel c·r² + dy·r + dx holds x[c, y·r + dy, x·r + dx].
    /// ONNX SpaceToDepth computes the same values but orders channels (dy·r + dx)·C + c, so its output is regathered
    /// along the channel axis. (A Reshape/Transpose/Reshape form would need H/r and W/r as runtime values — both are free
    /// dimensions here — whereas this is two nodes with constant attributes and indices.)
    /// </summary>
    internal static string PixelUnshuffle(GraphOps ops, string x, int channels, int factor)
    {
        string spaceToDepth = ops.Op("SpaceToDepth", "pixel_unshuffle/space_to_depth", [x], OnnxAttribute.Of("blocksize", (long)factor));
        var torchOrder = new long[channels * factor * factor];
        for (int c = 0; c < channels; c++)
        {
            for (int offset = 0; offset < factor * factor; offset++)
            {
                torchOrder[c * factor * factor + offset] = offset * channels + c;
            }
        }
        return ops.Op("Gather", "pixel_unshuffle", [spaceToDepth, ops.Int64s(torchOrder)], OnnxAttribute.Of("axis", 1L));
    }

    /// <summary>RRDB: three dense blocks in a row, scaled by 0.2 and added to the block input.</summary>
    private static string Rrdb(GraphOps ops, string x, string prefix)
    {
        string y = x;
        for (int rdb = 1; rdb <= RrdbNetParameterLayout.RdbsPerBlock; rdb++)
        {
            y = ResidualDenseBlock(ops, y, $"{prefix}.rdb{rdb}");
        }
        return ops.Add(ops.Mul(y, ops.Scalar(ResidualScale), $"{prefix}/scaled"), x, $"{prefix}/out");
    }

    /// <summary>
    /// ResidualDenseBlock: conv k sees cat(x, x1, …, x(k−1)); convs 1–4 are followed by LeakyReLU, conv5 is not;
    /// the result is x5·0.2 + x.
    /// </summary>
    private static string ResidualDenseBlock(GraphOps ops, string x, string prefix)
    {
        var features = new List<string> { x };
        string last = x;
        for (int conv = 1; conv <= RrdbNetParameterLayout.ConvsPerRdb; conv++)
        {
            string input = features.Count == 1
                ? x
                : ops.Op("Concat", $"{prefix}/cat{conv}", [.. features], OnnxAttribute.Of("axis", 1L));
            last = ops.Conv(input, $"{prefix}.conv{conv}", kernel: 3);
            if (conv < RrdbNetParameterLayout.ConvsPerRdb)
            {
                last = ops.LeakyRelu(last, LeakySlope, $"{prefix}.conv{conv}/lrelu");
                features.Add(last);
            }
        }
        return ops.Add(ops.Mul(last, ops.Scalar(ResidualScale), $"{prefix}/scaled"), x, $"{prefix}/out");
    }

    /// <summary>F.interpolate(scale_factor=2, mode='nearest'): source index floor(dst / 2), i.e. asymmetric + floor.</summary>
    private static string NearestUpsample2x(GraphOps ops, string x, string hint)
        => ops.Op("Resize", $"{hint}/nearest", [x, "", ops.Float32s(1f, 1f, 2f, 2f)],
            OnnxAttribute.Of("mode", "nearest"),
            OnnxAttribute.Of("coordinate_transformation_mode", "asymmetric"),
            OnnxAttribute.Of("nearest_mode", "floor"));
}
