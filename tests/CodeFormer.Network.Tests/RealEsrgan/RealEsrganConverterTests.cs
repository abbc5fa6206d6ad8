using System.IO.Compression;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.RealEsrgan;
using CodeFormer.Network.Tests.Checkpoints;
using CodeFormer.Network.Tests.Reference;
using CodeFormer.Network.Weights;
using CodeFormer.Testing;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = CodeFormer.Network.Weights.Tensor;

namespace CodeFormer.Network.Tests.RealEsrgan;

public sealed class RealEsrganConverterTests
{
    private static readonly RrdbNetArchitecture Tiny = RrdbNetArchitecture.Tiny;

    private static WeightSet TinyWeights(ulong seed = 5) =>
        RandomWeights.Create(new RrdbNetParameterLayout(Tiny).Parameters, seed);

    /// <summary>Smooth structure in [0, 1] (the upsampler's input range), different per channel and batch item.</summary>
    private static FeatureMap Image(int batch, int height, int width)
    {
        var x = new FeatureMap(batch, 3, height, width);
        for (int b = 0; b < batch; b++)
        for (int c = 0; c < 3; c++)
        for (int y = 0; y < height; y++)
        for (int i = 0; i < width; i++)
        {
            x.Data[x.PlaneOffset(b, c) + y * width + i] = (float)(0.5 + 0.45 * Math.Sin(0.7 * i + 1.3 * c + b) * Math.Cos(0.5 * y - 0.4 * c));
        }
        return x;
    }

    private static float[] Run(InferenceSession session, FeatureMap x, out int[] outputShape)
    {
        var input = NamedOnnxValue.CreateFromTensor(RrdbNetOnnxExporter.InputName,
            new DenseTensor<float>(x.Data, [x.Batch, x.Channels, x.Height, x.Width]));
        using var results = session.Run([input]);
        var output = results.Single(r => r.Name == RrdbNetOnnxExporter.OutputName).AsTensor<float>();
        outputShape = output.Dimensions.ToArray();
        return output.ToArray();
    }

    private static float MaxAbsDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return a.Zip(b, (p, q) => Math.Abs(p - q)).Max();
    }

    [Fact]
    public void A_tiny_zip_checkpoint_converts_to_a_model_that_matches_the_plain_loop_forward()
    {
        using var dir = new TemporaryDirectory();
        var weights = TinyWeights();
        string checkpoint = dir.File("RealESRGAN_tiny.pth");
        TorchCheckpointWriter.WriteZip(checkpoint, new Dictionary<string, WeightSet> { ["params_ema"] = weights });
        var messages = new List<string>();

        var result = RealEsrganConverter.Convert(checkpoint, dir.File("out/x2.onnx"), Tiny, new SynchronousProgress(messages));

        Assert.Equal(dir.File("out/x2.onnx"), result.OnnxPath);
        Assert.Equal(weights.Count, result.TensorCount);
        Assert.Equal(weights.TotalElements, result.ParameterCount);
        Assert.Equal(["x2.onnx"], Directory.GetFiles(dir.File("out")).Select(Path.GetFileName));
        Assert.Contains(messages, m => m.Contains($"{weights.Count} tensors", StringComparison.Ordinal));

        using var session = new InferenceSession(result.OnnxPath);
        var image = Image(1, 12, 10);
        float[] output = Run(session, image, out int[] shape);
        var expected = ReferenceRrdbNet.Forward(image, Tiny, weights);

        Assert.Equal([1, 3, 24, 20], shape);
        Assert.Equal([expected.Batch, expected.Channels, expected.Height, expected.Width], shape);
        Assert.True(MaxAbsDifference(expected.Data, output) <= 1e-4f, $"max |ORT − reference| = {MaxAbsDifference(expected.Data, output)}");
        Assert.True(output.Max() - output.Min() > 1e-2f, "a constant output would make the comparison meaningless");

        var metadata = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal("2", metadata[RrdbNetModelMetadata.ScaleKey]);
        Assert.Equal(RrdbNetModelMetadata.LicenseText, metadata[RrdbNetModelMetadata.LicenseKey]);
        Assert.Equal(Tiny, RrdbNetModelMetadata.DeserializeArchitecture(metadata[RrdbNetModelMetadata.ArchitectureKey]));
    }

    [Fact]
    public void Architecture_metadata_round_trips_and_names_a_missing_field()
    {
        var x4 = RrdbNetArchitecture.X2Plus with { Scale = 4, NumBlock = 6 };
        string json = RrdbNetModelMetadata.SerializeArchitecture(x4);
        Assert.Equal(x4, RrdbNetModelMetadata.DeserializeArchitecture(json));

        var error = Assert.Throws<FormatException>(() => RrdbNetModelMetadata.DeserializeArchitecture(json.Replace("\"NumGrowCh\"", "\"Grow\"", StringComparison.Ordinal)));
        Assert.Contains("NumGrowCh", error.Message);
    }

    [Fact]
    public void Height_width_and_batch_are_free_dimensions()
    {
        var weights = TinyWeights(seed: 9);
        using var session = new InferenceSession(ToBytes(RrdbNetOnnxExporter.BuildGraph(Tiny, weights, RandomWeights.LicenseNote(9))));
        var image = Image(2, 6, 8);

        float[] output = Run(session, image, out int[] shape);

        Assert.Equal([2, 3, 12, 16], shape);
        Assert.True(MaxAbsDifference(ReferenceRrdbNet.Forward(image, Tiny, weights).Data, output) <= 1e-4f);
        Assert.Contains("pseudo-random", session.ModelMetadata.CustomMetadataMap[RrdbNetModelMetadata.LicenseKey]);
    }

    [Theory]
    [InlineData("params", false)]
    [InlineData(null, false)]
    [InlineData("params_ema", true)]
    public void Params_plain_and_legacy_format_checkpoints_are_read_too(string? topLevelKey, bool legacy)
    {
        using var dir = new TemporaryDirectory();
        var weights = TinyWeights();
        string checkpoint = dir.File("model.pth");
        if (legacy)
        {
            TorchCheckpointWriter.WriteLegacy(checkpoint, new Dictionary<string, WeightSet> { [topLevelKey!] = weights });
        }
        else if (topLevelKey is null)
        {
            TorchCheckpointWriter.WriteZip(checkpoint, weights);
        }
        else
        {
            TorchCheckpointWriter.WriteZip(checkpoint, new Dictionary<string, WeightSet> { [topLevelKey] = weights });
        }

        var loaded = RealEsrganConverter.Load(checkpoint, Tiny);

        Assert.Equal(weights.Names, loaded.Names);
        Assert.Equal(weights["body.0.rdb3.conv5.weight"].Data, loaded["body.0.rdb3.conv5.weight"].Data);
    }

    [Fact]
    public void A_checkpoint_with_a_missing_key_is_refused_by_name_and_writes_nothing()
    {
        using var dir = new TemporaryDirectory();
        var full = TinyWeights();
        var incomplete = new WeightSet();
        foreach (var name in full.Names.Where(n => n != "body.0.rdb2.conv3.weight"))
        {
            incomplete.Add(name, full[name]);
        }
        string checkpoint = dir.File("broken.pth");
        TorchCheckpointWriter.WriteZip(checkpoint, new Dictionary<string, WeightSet> { ["params_ema"] = incomplete });

        var error = Assert.Throws<InvalidWeightsException>(() => RealEsrganConverter.Convert(checkpoint, dir.File("out/x2.onnx"), Tiny));

        Assert.Contains("missing key 'body.0.rdb2.conv3.weight' (8, 32, 3, 3)", error.Message);
        Assert.False(Directory.Exists(dir.File("out")));
        Assert.Equal(["broken.pth"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void The_full_checkpoint_layout_is_refused_for_the_tiny_architecture_with_the_shapes_named()
    {
        var full = RandomWeights.Create(new RrdbNetParameterLayout(RrdbNetArchitecture.X2Plus).Parameters.Take(4).ToList(), 1);
        var error = Assert.Throws<InvalidWeightsException>(() => RrdbNetOnnxExporter.BuildGraph(Tiny, full));
        Assert.Contains("key 'conv_first.weight' has shape (64, 12, 3, 3), expected (16, 12, 3, 3)", error.Message);
    }

    [Fact]
    public void Pixel_unshuffle_uses_torch_channel_order_not_space_to_depth_order()
    {
        var x = new FeatureMap(1, 3, 4, 6);
        for (int i = 0; i < x.Data.Length; i++)
        {
            x.Data[i] = i;
        }
        var ops = new GraphOps(new OnnxGraph("unshuffle"), new WeightSet(), OnnxElementType.Float);
        string input = ops.Graph.AddInput("input", OnnxElementType.Float, 1, 3, "H", "W");
        ops.Graph.Alias(RrdbNetOnnxExporter.PixelUnshuffle(ops, input, channels: 3, factor: 2), "output");
        ops.Graph.AddOutput("output", OnnxElementType.Float, 1, 12, "h", "w");
        using var session = new InferenceSession(ToBytes(ops.Graph));

        float[] output = Run(session, x, out int[] shape);

        Assert.Equal([1, 12, 2, 3], shape);
        Assert.Equal(ReferenceRrdbNet.PixelUnshuffle(x, 2).Data, output);
        // Torch's channel 1 is (c 0, dy 0, dx 1): x[0, 2y, 2x+1] — its first value is element 1.
        // SpaceToDepth's channel 1 would be (dy 0, dx 0, c 1): x[1, 2y, 2x] — element 24.
        Assert.Equal(1f, output[1 * 6]);
        Assert.Equal(24f, output[4 * 6]); // torch channel 4 = (c 1, dy 0, dx 0)
    }

    [Fact]
    public void The_full_x2plus_graph_holds_each_state_dict_tensor_once()
    {
        var layout = new RrdbNetParameterLayout(RrdbNetArchitecture.X2Plus);
        var weights = RandomWeights.Create(layout.Parameters, 3);

        var graph = RrdbNetOnnxExporter.BuildGraph(RrdbNetArchitecture.X2Plus, weights);

        var weightInitializers = graph.Initializers.Where(i => !i.Name.StartsWith(CodeFormerOnnxExporter.ConstantPrefix, StringComparison.Ordinal)).ToList();
        Assert.Equal(layout.Parameters.Select(p => p.Name).Order(StringComparer.Ordinal), weightInitializers.Select(i => i.Name).Order(StringComparer.Ordinal));
        Assert.Equal(layout.TotalElements * 4, weightInitializers.Sum(i => (long)i.RawData.Length));
        Assert.Equal(23 * 3 * 5 + 6, graph.Nodes.Count(n => n.OpType == "Conv"));
        Assert.Equal("2", graph.Metadata[RrdbNetModelMetadata.ScaleKey]);
    }

    [Fact]
    public void The_architecture_is_read_off_the_checkpoint_shapes()
    {
        Assert.Equal(Tiny, RealEsrganConverter.InferArchitecture(TinyWeights()));
        var x2plus = RandomWeights.Create(new RrdbNetParameterLayout(RrdbNetArchitecture.X2Plus).Parameters, 1);
        Assert.Equal(RrdbNetArchitecture.X2Plus, RealEsrganConverter.InferArchitecture(x2plus));
        var x4 = RrdbNetArchitecture.Tiny with { Scale = 4, NumBlock = 2 };
        Assert.Equal(x4, RealEsrganConverter.InferArchitecture(RandomWeights.Create(new RrdbNetParameterLayout(x4).Parameters, 1)));
    }

    [Fact]
    public void A_checkpoint_that_is_not_an_rrdbnet_is_refused_naming_what_it_holds()
    {
        using var dir = new TemporaryDirectory();
        var other = new WeightSet();
        other.Add("encoder.blocks.0.weight", new Tensor([4, 3, 3, 3], new float[108]));
        string checkpoint = dir.File("other.pth");
        TorchCheckpointWriter.WriteZip(checkpoint, other);

        var error = Assert.Throws<InvalidWeightsException>(() => RealEsrganConverter.Convert(checkpoint, dir.File("x.onnx"), architecture: null));

        Assert.Contains("'conv_first.weight'", error.Message);
        Assert.Contains("'encoder.blocks.0.weight'", error.Message);
        Assert.False(File.Exists(dir.File("x.onnx")));
    }

    /// <summary>
    /// Without an architecture the size was read off the tensors, so every tensor was inflated first: 64 MiB of an
    /// unknown key (64 KB deflated) before the refusal. Now the names and shapes of the pickle decide first.
    /// </summary>
    [Theory]
    [InlineData("extra.weight", "unexpected key 'extra.weight'")]
    [InlineData("conv_hr.weight", "'conv_hr.weight'")]
    public void Without_an_architecture_unknown_or_misshapen_keys_are_refused_before_any_tensor_is_inflated(string key, string expected)
    {
        using var dir = new TemporaryDirectory();
        var weights = new WeightSet();
        foreach (var name in TinyWeights().Names.Where(n => n != key))
        {
            weights.Add(name, TinyWeights()[name]);
        }
        weights.Add(key, new Tensor([4096, 4096, 1, 1], new float[4096 * 4096]));
        var stored = dir.File("stored.pth");
        TorchCheckpointWriter.WriteZip(stored, new Dictionary<string, WeightSet> { ["params_ema"] = weights });
        var checkpoint = Deflated(stored, dir.File("deflated.pth"));
        Assert.True(new FileInfo(checkpoint).Length < 1024 * 1024);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<InvalidWeightsException>(() => RealEsrganConverter.Convert(checkpoint, dir.File("x.onnx"), architecture: null));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains(expected, error.Message);
        Assert.True(allocated < 16L * 1024 * 1024, $"{allocated:N0} bytes allocated before the refusal: the 64 MiB tensor was inflated");
        Assert.False(File.Exists(dir.File("x.onnx")));
    }

    [Fact]
    public void Without_an_architecture_a_tiny_deflated_checkpoint_still_converts()
    {
        using var dir = new TemporaryDirectory();
        var stored = dir.File("stored.pth");
        TorchCheckpointWriter.WriteZip(stored, new Dictionary<string, WeightSet> { ["params_ema"] = TinyWeights() });

        var result = RealEsrganConverter.Convert(Deflated(stored, dir.File("deflated.pth")), dir.File("x.onnx"), architecture: null);

        Assert.Equal(new RrdbNetParameterLayout(Tiny).Parameters.Count, result.TensorCount);
    }

    /// <summary>The same checkpoint with every entry deflated, as torch.save's zip may be rewritten by any zip tool.</summary>
    private static string Deflated(string stored, string path)
    {
        using (var source = ZipFile.OpenRead(stored))
        using (var target = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var entry in source.Entries)
            {
                using var from = entry.Open();
                using var to = target.CreateEntry(entry.FullName, CompressionLevel.Optimal).Open();
                from.CopyTo(to);
            }
        }
        return path;
    }

    private static byte[] ToBytes(OnnxGraph graph)
    {
        using var stream = new MemoryStream();
        OnnxModelWriter.Write(graph, stream);
        return stream.ToArray();
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; tests need the messages in hand when Convert returns.</summary>
    private sealed class SynchronousProgress(List<string> messages) : IProgress<string>
    {
        public void Report(string value) => messages.Add(value);
    }
}
