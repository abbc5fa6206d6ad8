using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Tests.Onnx;

public sealed class CodeFormerOnnxExporterTests
{
    [Fact]
    public void Tiny_graph_runs_in_onnx_runtime_for_batches_of_one_and_three()
    {
        using var model = new TinyCodeFormerModel(new CodeFormerExportOptions());

        float[] single = model.Run(TinyCodeFormerModel.Images(1));
        float[] triple = model.Run(TinyCodeFormerModel.Images(3));

        Assert.Equal(TinyCodeFormerModel.ImageElements, single.Length);
        Assert.Equal(3 * TinyCodeFormerModel.ImageElements, triple.Length);
        Assert.All(triple, v => Assert.True(float.IsFinite(v)));
        // A graph that ignored its input (or produced a constant) would not be a restoration network.
        Assert.True(TinyCodeFormerModel.MaxAbsDifference(triple.AsSpan(0, TinyCodeFormerModel.ImageElements),
            triple.AsSpan(TinyCodeFormerModel.ImageElements, TinyCodeFormerModel.ImageElements)) > 1e-3f);
    }

    [Fact]
    public void Batch_items_are_computed_independently()
    {
        using var model = new TinyCodeFormerModel(new CodeFormerExportOptions());
        int n = TinyCodeFormerModel.ImageElements;

        float[] batch = model.Run(TinyCodeFormerModel.Images(3), w: 0.7);
        float[] alone = model.Run(TinyCodeFormerModel.Images(1, firstIndex: 2), w: 0.7);

        Assert.True(TinyCodeFormerModel.MaxAbsDifference(batch.AsSpan(2 * n, n), alone) <= 1e-4f);
    }

    [Fact]
    public void Fidelity_weight_changes_the_output_when_fuse_blocks_are_present()
    {
        using var model = new TinyCodeFormerModel(new CodeFormerExportOptions());
        float[] images = TinyCodeFormerModel.Images(1);

        float[] codeOnly = model.Run(images, w: 0);
        float[] half = model.Run(images, w: 0.5);
        float[] full = model.Run(images, w: 1);

        Assert.True(TinyCodeFormerModel.MaxAbsDifference(codeOnly, half) > 1e-2f);
        Assert.True(TinyCodeFormerModel.MaxAbsDifference(half, full) > 1e-2f);
    }

    [Fact]
    public void Code_only_graph_equals_the_full_graph_at_w_zero()
    {
        using var full = new TinyCodeFormerModel(new CodeFormerExportOptions());
        using var codeOnly = new TinyCodeFormerModel(new CodeFormerExportOptions { IncludeFuseBlocks = false });
        float[] images = TinyCodeFormerModel.Images(2);

        Assert.True(TinyCodeFormerModel.MaxAbsDifference(full.Run(images, w: 0), codeOnly.Run(images)) <= 1e-4f);
        Assert.DoesNotContain(codeOnly.Session.InputMetadata.Keys, k => k == CodeFormerOnnxExporter.WeightInputName);
        Assert.DoesNotContain(codeOnly.Graph.Initializers, t => ParameterLayout.IsFuseParameter(t.Name));
    }

    [Fact]
    public void Graph_declares_the_io_contract_and_metadata()
    {
        using var model = new TinyCodeFormerModel(new CodeFormerExportOptions());
        var session = model.Session;

        Assert.Equal([-1, 3, 64, 64], session.InputMetadata[CodeFormerOnnxExporter.InputName].Dimensions);
        Assert.Equal(typeof(float), session.InputMetadata[CodeFormerOnnxExporter.InputName].ElementType);
        Assert.Equal(typeof(double), session.InputMetadata[CodeFormerOnnxExporter.WeightInputName].ElementType);
        Assert.Equal([1], session.InputMetadata[CodeFormerOnnxExporter.WeightInputName].Dimensions);
        Assert.Equal([-1, 3, 64, 64], session.OutputMetadata[CodeFormerOnnxExporter.OutputName].Dimensions);
        var metadata = session.ModelMetadata.CustomMetadataMap;
        var architecture = CodeFormerModelMetadata.DeserializeArchitecture(metadata[CodeFormerModelMetadata.ArchitectureKey]);
        Assert.Equal(CodeFormerArchitecture.Tiny.ChannelMultipliers, architecture.ChannelMultipliers);
        Assert.Equal(CodeFormerArchitecture.Tiny.FuseResolutions, architecture.FuseResolutions);
        Assert.Equal(CodeFormerModelMetadata.SerializeArchitecture(CodeFormerArchitecture.Tiny), CodeFormerModelMetadata.SerializeArchitecture(architecture));
        Assert.Equal("true", metadata[CodeFormerModelMetadata.FuseBlocksKey]);
        Assert.Equal("float32", metadata[CodeFormerModelMetadata.PrecisionKey]);
        Assert.Contains("S-Lab License 1.0", metadata[CodeFormerModelMetadata.LicenseKey]);
        Assert.Contains("non-commercial", metadata[CodeFormerModelMetadata.LicenseKey]);
    }

    [Fact]
    public void Models_of_other_weights_carry_their_own_licence_instead_of_the_s_lab_notice()
    {
        using var model = new TinyCodeFormerModel(new CodeFormerExportOptions { WeightsLicense = RandomWeights.LicenseNote(5) });

        var licence = model.Session.ModelMetadata.CustomMetadataMap[CodeFormerModelMetadata.LicenseKey];

        Assert.Contains("pseudo-random weights (seed 5)", licence);
        Assert.DoesNotContain("S-Lab", licence);
    }

    [Fact]
    public void Weights_that_do_not_fit_the_architecture_are_rejected_with_the_key_named()
    {
        var layout = new ParameterLayout(new NetworkLayout(CodeFormerArchitecture.Tiny));
        var weights = RandomWeights.Create(layout, 3);
        weights.Replace("feat_emb.weight", new Tensor([2, 2], new float[4]));

        var error = Assert.Throws<InvalidWeightsException>(() => CodeFormerOnnxExporter.BuildGraph(CodeFormerArchitecture.Tiny, weights, new CodeFormerExportOptions()));

        Assert.Contains("feat_emb.weight", error.Message);
    }

    [Fact]
    public void Full_graph_needs_the_fuse_weights_but_the_code_only_graph_does_not()
    {
        var tiny = new NetworkLayout(CodeFormerArchitecture.Tiny);
        var withoutFuse = RandomWeights.Create(new ParameterLayout(tiny, includeFuseBlocks: false), 3);

        var error = Assert.Throws<InvalidWeightsException>(() => CodeFormerOnnxExporter.BuildGraph(CodeFormerArchitecture.Tiny, withoutFuse, new CodeFormerExportOptions()));
        var graph = CodeFormerOnnxExporter.BuildGraph(CodeFormerArchitecture.Tiny, withoutFuse, new CodeFormerExportOptions { IncludeFuseBlocks = false });

        Assert.Contains("fuse_convs_dict.", error.Message);
        Assert.Equal(withoutFuse.Count, graph.Initializers.Count(t => !t.Name.StartsWith(CodeFormerOnnxExporter.ConstantPrefix, StringComparison.Ordinal)));
    }

    [Fact]
    public void Unknown_precision_is_rejected_before_any_work()
    {
        var weights = RandomWeights.Create(new ParameterLayout(new NetworkLayout(CodeFormerArchitecture.Tiny)), 3);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => CodeFormerOnnxExporter.BuildGraph(
            CodeFormerArchitecture.Tiny, weights, new CodeFormerExportOptions { Precision = (OnnxPrecision)7 }));

        Assert.Contains("7", error.Message);
    }

    [Fact]
    public void An_inconsistent_architecture_is_rejected_with_the_reason()
    {
        var weights = RandomWeights.Create(new ParameterLayout(new NetworkLayout(CodeFormerArchitecture.Tiny)), 3);
        var broken = CodeFormerArchitecture.Tiny with { TransformerHeads = 3 };

        var error = Assert.Throws<ArgumentException>(() => CodeFormerOnnxExporter.BuildGraph(broken, weights, new CodeFormerExportOptions()));

        Assert.Contains("3 heads", error.Message);
    }

    [Theory]
    [InlineData("models/codeformer.onnx", "models/codeformer.w0.onnx")]
    [InlineData("/a.b/model.fp16.onnx", "/a.b/model.fp16.w0.onnx")]
    [InlineData("model", "model.w0.onnx")]
    public void Code_only_path_sits_beside_the_model(string model, string expected)
        => Assert.Equal(expected, CodeFormerOnnxExporter.CodeOnlyPathFor(model));

    [Fact]
    public void Write_file_produces_a_loadable_model_at_the_path()
    {
        var weights = RandomWeights.Create(new ParameterLayout(new NetworkLayout(CodeFormerArchitecture.Tiny)), 5);
        string dir = Directory.CreateTempSubdirectory().FullName;
        string path = Path.Combine(dir, "tiny.onnx");
        try
        {
            CodeFormerOnnxExporter.WriteFile(CodeFormerArchitecture.Tiny, weights, path, new CodeFormerExportOptions());

            using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(path);
            Assert.Equal(["tiny.onnx"], Directory.GetFiles(dir).Select(Path.GetFileName));
            Assert.Equal(2, session.InputMetadata.Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
