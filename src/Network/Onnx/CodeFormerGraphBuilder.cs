using CodeFormer.Network.Architecture;
using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Onnx;

/// <summary>
/// Lays out the whole CodeFormer forward pass (<c>forward(x, w, adain)</c>, AdaIN on or off as the options say, doc A.0–A.5) as one ONNX
/// graph: encoder with skip taps, code lookup, generator with the CFT fuse after the blocks the
/// <see cref="NetworkLayout"/> names. Block lists and indices come from the layout, so any valid
/// architecture (Tiny, Full, the inpainting/colorization variants) yields a matching graph.
/// </summary>
internal sealed class CodeFormerGraphBuilder
{
    public const string InputName = "input";
    public const string WeightInputName = "weight";
    public const string OutputName = "output";
    private const string BatchSymbol = "N";

    private readonly NetworkLayout _layout;
    private readonly CodeFormerExportOptions _options;
    private readonly GraphOps _ops;
    private readonly VqganBlockEmitter _blocks;

    public CodeFormerGraphBuilder(NetworkLayout layout, WeightSet weights, CodeFormerExportOptions options)
    {
        _layout = layout;
        _options = options;
        var computeType = options.Precision == OnnxPrecision.Float16 ? OnnxElementType.Float16 : OnnxElementType.Float;
        _ops = new GraphOps(new OnnxGraph("codeformer"), weights, computeType);
        _blocks = new VqganBlockEmitter(_ops);
    }

    public OnnxGraph Build()
    {
        var architecture = _layout.Architecture;
        var graph = _ops.Graph;
        int size = architecture.ImageSize;
        string image = ToCompute(graph.AddInput(InputName, OnnxElementType.Float, BatchSymbol, 3, size, size), "input_compute");
        string? fidelity = null;
        if (_options.IncludeFuseBlocks)
        {
            // float64 [1], as the community CodeFormer exports take it (doc D.1).
            string w = graph.AddInput(WeightInputName, OnnxElementType.Double, 1);
            fidelity = _ops.Cast(w, _ops.ComputeType, "fidelity_weight");
        }

        var (lqFeat, skips) = Encoder(image);
        string decoded = Generator(new CodeLookupEmitter(_ops, architecture).Emit(lqFeat, _options.AdaIn), skips, fidelity);

        // No tanh and no clamp: the caller clamps to [-1, 1] (doc A.0).
        string output = _ops.ComputeType == OnnxElementType.Float ? decoded : _ops.Cast(decoded, OnnxElementType.Float, "output_float");
        graph.Alias(output, OutputName);
        graph.AddOutput(OutputName, OnnxElementType.Float, BatchSymbol, 3, size, size);
        CodeFormerModelMetadata.Write(graph, architecture, _options);
        return graph;
    }

    /// <summary>
    /// Moves a float32 value into the compute type. A float16 graph is half from here to the output Cast
    /// (only the AdaIN statistics run in float32). ONNX Runtime's CPU provider (x64, 1.31) lacks float16
    /// kernels for most ops used here — seen in its optimised model: Conv, InstanceNormalization, MatMul,
    /// Add, Mul, LayerNormalization get "InsertedPrecisionFreeCast_…" nodes to float and back, and Softmax
    /// and LeakyRelu are expanded into their function bodies. That happens at session load, so the same
    /// file runs on the CPU (the tests run it, effectively in float32 with half weights) while GPU providers
    /// compute in half. Casts written into the file would force float32 on the GPU too, so none are emitted.
    /// </summary>
    private string ToCompute(string value, string hint)
        => _ops.ComputeType == OnnxElementType.Float ? value : _ops.Cast(value, _ops.ComputeType, hint);

    private (string LqFeat, Dictionary<int, string> Skips) Encoder(string x)
    {
        var skips = new Dictionary<int, string>();
        var tapResolutionByBlock = _options.IncludeFuseBlocks
            ? _layout.Architecture.FuseResolutions.ToDictionary(r => _layout.EncoderTapAfterBlock[r], r => r)
            : [];
        foreach (var block in _layout.EncoderBlocks)
        {
            x = _blocks.Block(x, block, $"encoder.blocks.{block.Index}");
            if (tapResolutionByBlock.TryGetValue(block.Index, out int resolution))
            {
                skips[resolution] = x;
            }
        }
        return (x, skips);
    }

    private string Generator(string x, Dictionary<int, string> skips, string? fidelity)
    {
        var fuseResolutionByBlock = _options.IncludeFuseBlocks
            ? _layout.Architecture.FuseResolutions.ToDictionary(r => _layout.GeneratorFuseAfterBlock[r], r => r)
            : [];
        foreach (var block in _layout.GeneratorBlocks)
        {
            x = _blocks.Block(x, block, $"generator.blocks.{block.Index}");
            if (fuseResolutionByBlock.TryGetValue(block.Index, out int resolution))
            {
                x = Fuse(skips[resolution], x, fidelity!, resolution);
            }
        }
        return x;
    }

    /// <summary>
    /// Fuse_sft_block: h = ResBlock(2C→C)([enc, dec]); scale, shift = conv3(LeakyReLU0.2(conv3(h)));
    /// out = dec + w·(dec·scale + shift). With w a graph input, w = 0 gives the code-only result exactly (doc A.5).
    /// </summary>
    private string Fuse(string encoderFeature, string decoderFeature, string fidelity, int resolution)
    {
        string prefix = $"fuse_convs_dict.{resolution}";
        int channels = _layout.Architecture.ChannelsAtResolution(resolution);
        string joined = _ops.Op("Concat", $"{prefix}/concat", [encoderFeature, decoderFeature], OnnxAttribute.Of("axis", 1L));
        string h = _blocks.ResBlock(joined, $"{prefix}.encode_enc", 2 * channels, channels, resolution);
        string Branch(string name)
        {
            string first = _ops.LeakyRelu(_ops.Conv(h, $"{prefix}.{name}.0", kernel: 3), 0.2f, $"{prefix}.{name}.1");
            return _ops.Conv(first, $"{prefix}.{name}.2", kernel: 3);
        }
        string scale = Branch("scale");
        string shift = Branch("shift");
        string modulated = _ops.Add(_ops.Mul(decoderFeature, scale, $"{prefix}/dec_scale"), shift, $"{prefix}/sft");
        return _ops.Add(decoderFeature, _ops.Mul(modulated, fidelity, $"{prefix}/weighted"), $"{prefix}/out");
    }
}
