using CodeFormer.Network.Architecture;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Tests.Onnx;
using CodeFormer.Network.Weights;
using CodeFormer.Testing;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = CodeFormer.Network.Weights.Tensor;

namespace CodeFormer.Network.Tests.Checkpoints;

public sealed class CheckpointConverterTests
{
    private static readonly CodeFormerArchitecture Tiny = CodeFormerArchitecture.Tiny;

    private static WeightSet TinyWeights(ulong seed = 11) =>
        RandomWeights.Create(new ParameterLayout(new NetworkLayout(Tiny)), seed);

    private static string WriteCheckpoint(TemporaryDirectory dir, IReadOnlyDictionary<string, WeightSet> topLevel)
    {
        string path = dir.File("codeformer.pth");
        TorchCheckpointWriter.WriteZip(path, topLevel);
        return path;
    }

    [Fact]
    public void A_zip_checkpoint_becomes_a_model_pair_that_runs_like_a_direct_export_of_the_same_weights()
    {
        using var dir = new TemporaryDirectory();
        var weights = TinyWeights();
        string checkpoint = WriteCheckpoint(dir, new Dictionary<string, WeightSet> { ["params_ema"] = weights });
        var messages = new List<string>();

        var result = CheckpointConverter.Convert(checkpoint, dir.File("out/codeformer.onnx"), Tiny, fp16: false, new SynchronousProgress(messages));

        Assert.Equal(dir.File("out/codeformer.onnx"), result.OnnxPath);
        Assert.Equal(dir.File("out/codeformer.w0.onnx"), result.CodeOnlyOnnxPath);
        Assert.Equal(weights.Count, result.TensorCount);
        Assert.Equal(weights.TotalElements, result.ParameterCount);
        Assert.Equal(new FileInfo(result.OnnxPath).Length, result.OnnxBytes);
        Assert.Equal(["codeformer.onnx", "codeformer.w0.onnx"], Directory.GetFiles(dir.File("out")).Select(Path.GetFileName).Order());
        Assert.Contains(messages, m => m.Contains($"{weights.Count} tensors", StringComparison.Ordinal));

        float[] images = TinyCodeFormerModel.Images(1);
        using var direct = new TinyCodeFormerModel(new CodeFormerExportOptions(), seed: 11);
        using var converted = Session(result.OnnxPath);
        float[] output = Run(converted, images, w: 0.5);
        Assert.Equal(direct.Run(images, w: 0.5), output);
        Assert.All(output, v => Assert.True(float.IsFinite(v)));

        using var codeOnly = Session(result.CodeOnlyOnnxPath);
        Assert.DoesNotContain(CodeFormerOnnxExporter.WeightInputName, codeOnly.InputMetadata.Keys);
        Assert.True(TinyCodeFormerModel.MaxAbsDifference(Run(converted, images, w: 0), Run(codeOnly, images, w: null)) <= 1e-4f);
    }

    [Fact]
    public void Fp16_conversion_writes_half_precision_models_that_run()
    {
        using var dir = new TemporaryDirectory();
        string checkpoint = WriteCheckpoint(dir, new Dictionary<string, WeightSet> { ["params_ema"] = TinyWeights() });

        var result = CheckpointConverter.Convert(checkpoint, dir.File("half.onnx"), Tiny, fp16: true);

        Assert.Equal(OnnxPrecision.Float16, result.Precision);
        using var session = Session(result.OnnxPath);
        Assert.Equal("float16", session.ModelMetadata.CustomMetadataMap[CodeFormerModelMetadata.PrecisionKey]);
        Assert.All(Run(session, TinyCodeFormerModel.Images(1), w: 0.7), v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Params_are_converted_when_params_ema_is_absent()
    {
        using var dir = new TemporaryDirectory();
        string checkpoint = WriteCheckpoint(dir, new Dictionary<string, WeightSet> { ["params"] = TinyWeights(seed: 11) });

        var result = CheckpointConverter.Convert(checkpoint, dir.File("m.onnx"), Tiny, fp16: false);

        using var direct = new TinyCodeFormerModel(new CodeFormerExportOptions(), seed: 11);
        using var converted = Session(result.OnnxPath);
        float[] images = TinyCodeFormerModel.Images(1);
        Assert.Equal(direct.Run(images, w: 1), Run(converted, images, w: 1));
    }

    [Fact]
    public void A_missing_key_fails_naming_it_and_writes_nothing()
    {
        using var dir = new TemporaryDirectory();
        var weights = new WeightSet();
        var complete = TinyWeights();
        foreach (var name in complete.Names.Where(n => n != "fuse_convs_dict.32.scale.2.bias"))
        {
            weights.Add(name, complete[name]);
        }
        string checkpoint = WriteCheckpoint(dir, new Dictionary<string, WeightSet> { ["params_ema"] = weights });

        var error = Assert.Throws<InvalidWeightsException>(() => CheckpointConverter.Convert(checkpoint, dir.File("out/m.onnx"), Tiny, fp16: false));

        Assert.Contains("missing key 'fuse_convs_dict.32.scale.2.bias'", error.Message);
        Assert.Equal([checkpoint], Directory.GetFiles(dir.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_wrong_shape_fails_naming_the_key_and_both_shapes_and_leaves_existing_models_untouched()
    {
        using var dir = new TemporaryDirectory();
        var weights = TinyWeights();
        weights.Replace("quantize.embedding.weight", new Tensor([64, 16], new float[64 * 16]));
        string checkpoint = WriteCheckpoint(dir, new Dictionary<string, WeightSet> { ["params_ema"] = weights });
        string model = dir.File("m.onnx");
        string sibling = dir.File("m.w0.onnx");
        File.WriteAllText(model, "previous model");
        File.WriteAllText(sibling, "previous sibling");

        var error = Assert.Throws<InvalidWeightsException>(() => CheckpointConverter.Convert(checkpoint, model, Tiny, fp16: false));

        Assert.Contains("key 'quantize.embedding.weight' has shape (64, 16), expected (64, 32)", error.Message);
        Assert.Equal("previous model", File.ReadAllText(model));
        Assert.Equal("previous sibling", File.ReadAllText(sibling));
        Assert.Equal(3, Directory.GetFiles(dir.Path).Length);
    }

    [Fact]
    public void An_unexpected_key_fails_naming_it()
    {
        using var dir = new TemporaryDirectory();
        var weights = TinyWeights();
        weights.Add("generator.blocks.99.weight", new Tensor([1], [0f]));
        string checkpoint = WriteCheckpoint(dir, new Dictionary<string, WeightSet> { ["params_ema"] = weights });

        var error = Assert.Throws<InvalidWeightsException>(() => CheckpointConverter.Convert(checkpoint, dir.File("m.onnx"), Tiny, fp16: false));

        Assert.Equal(["unexpected key 'generator.blocks.99.weight'"], error.Problems);
        Assert.False(File.Exists(dir.File("m.onnx")));
    }

    [Fact]
    public void A_failure_while_placing_the_pair_leaves_previous_files_and_no_temporaries()
    {
        using var dir = new TemporaryDirectory();
        string checkpoint = WriteCheckpoint(dir, new Dictionary<string, WeightSet> { ["params_ema"] = TinyWeights() });
        string model = dir.File("m.onnx");
        File.WriteAllText(model, "previous model");
        // A directory where the w = 0 sibling must go makes the final rename fail after both exports succeeded.
        Directory.CreateDirectory(dir.File("m.w0.onnx"));

        Assert.ThrowsAny<IOException>(() => CheckpointConverter.Convert(checkpoint, model, Tiny, fp16: false));

        Assert.Equal("previous model", File.ReadAllText(model));
        Assert.Equal(["codeformer.pth", "m.onnx"], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void A_damaged_checkpoint_fails_with_a_format_error_and_writes_nothing()
    {
        using var dir = new TemporaryDirectory();
        string checkpoint = dir.File("broken.pth");
        File.WriteAllBytes(checkpoint, [0x50, 0x4b, 0x03, 0x04, 1, 2, 3]);

        Assert.Throws<CheckpointFormatException>(() => CheckpointConverter.Convert(checkpoint, dir.File("m.onnx"), Tiny, fp16: false));

        Assert.Equal([checkpoint], Directory.GetFiles(dir.Path));
    }

    internal static InferenceSession Session(string path) => new(path, new SessionOptions { IntraOpNumThreads = 2 });

    private static float[] Run(InferenceSession session, float[] images, double? w) => Run(session, images, w, Tiny.ImageSize);

    internal static float[] Run(InferenceSession session, float[] images, double? w, int size)
    {
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor(CodeFormerOnnxExporter.InputName, new DenseTensor<float>(images, [1, 3, size, size])),
        };
        if (w is { } fidelity)
        {
            inputs.Add(NamedOnnxValue.CreateFromTensor(CodeFormerOnnxExporter.WeightInputName, new DenseTensor<double>(new[] { fidelity }, [1])));
        }
        using var results = session.Run(inputs);
        var output = results.Single().AsTensor<float>();
        Assert.Equal(new[] { 1, 3, size, size }, output.Dimensions.ToArray());
        return output.ToArray();
    }

    /// <summary>Progress&lt;T&gt; posts to the thread pool; tests need the messages in hand when Convert returns.</summary>
    private sealed class SynchronousProgress(List<string> messages) : IProgress<string>
    {
        public void Report(string value) => messages.Add(value);
    }
}
