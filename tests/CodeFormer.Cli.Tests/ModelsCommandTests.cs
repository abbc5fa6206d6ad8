using CodeFormer.Network.Architecture;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.RealEsrgan;
using CodeFormer.Network.Weights;

namespace CodeFormer.Cli.Tests;

/// <summary><c>codeformer models build|inspect|convert|convert-realesrgan</c> as child processes.</summary>
[Collection(CliCollection.Name)]
public sealed class ModelsCommandTests(CliFixture fixture)
{
    private static WeightSet TinyWeights(ulong seed) =>
        RandomWeights.Create(new ParameterLayout(new NetworkLayout(CodeFormerArchitecture.Tiny)), seed);

    [Fact]
    public void Build_random_tiny_writes_the_model_and_its_code_only_sibling()
    {
        var run = fixture.TinyModelBuild;

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(new FileInfo(fixture.TinyModelPath).Length > 0);
        Assert.True(new FileInfo(Path.ChangeExtension(fixture.TinyModelPath, ".w0.onnx")).Length > 0);
        Assert.Contains("wrote", run.StdOut);
        Assert.Contains("seed 3", run.StdOut);
    }

    [Fact]
    public void Build_without_random_says_where_real_weights_come_from()
    {
        string path = Path.Combine(fixture.NewFolder("build"), "x.onnx");
        var run = fixture.Run("models", "build", "--config", "tiny", "-o", path);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("--random", run.StdErr);
        Assert.Contains("models convert", run.StdErr);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Inspect_prints_the_inputs_and_that_the_model_is_drivable()
    {
        var run = fixture.Run("models", "inspect", fixture.TinyModelPath);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("input: float [N,3,64,64]", run.StdOut);
        Assert.Contains("weight: double [1]", run.StdOut);
        Assert.Contains("CodeFormer contract: drivable", run.StdOut);
        Assert.Contains("face size 64", run.StdOut);
        Assert.Contains("tiny.w0.onnx", run.StdOut);
    }

    [Fact]
    public void Inspect_says_why_a_non_codeformer_model_cannot_be_driven()
    {
        // A classifier-shaped graph: image in, three scores out.
        var graph = new OnnxGraph("classifier");
        string image = graph.AddInput("image", OnnxElementType.Float, 1, 3, 32, 32);
        graph.Alias(graph.Op("ReduceMean", "means", [image], OnnxAttribute.Of("axes", 2L, 3L), OnnxAttribute.Of("keepdims", 0L)), "scores");
        graph.AddOutput("scores", OnnxElementType.Float, 1, 3);
        string path = Path.Combine(fixture.NewFolder("inspect"), "classifier.onnx");
        OnnxModelWriter.WriteFile(graph, path);

        var run = fixture.Run("models", "inspect", path);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("not drivable", run.StdOut);
        Assert.Contains("'scores'", run.StdOut);
        Assert.Contains("[N,3,S,S]", run.StdOut);
    }

    [Fact]
    public void Inspect_of_a_missing_file_fails_naming_it()
    {
        string path = Path.Combine(fixture.Root, "no-such-model.onnx");
        var run = fixture.Run("models", "inspect", path);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains(path, run.StdErr);
    }

    [Fact]
    public void Convert_turns_a_tiny_zip_checkpoint_into_the_model_pair()
    {
        string folder = fixture.NewFolder("convert");
        string checkpoint = Path.Combine(folder, "codeformer.pth");
        TorchCheckpointWriter.WriteZip(checkpoint, new Dictionary<string, WeightSet> { ["params_ema"] = TinyWeights(seed: 5) });
        string output = Path.Combine(folder, "out", "converted.onnx");

        var run = fixture.Run("models", "convert", checkpoint, "--config", "tiny", "-o", output);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(new FileInfo(output).Length > 0);
        Assert.True(new FileInfo(Path.Combine(folder, "out", "converted.w0.onnx")).Length > 0);
        Assert.Contains("S-Lab", run.StdErr);
        var inspect = fixture.Run("models", "inspect", output);
        Assert.Contains("CodeFormer contract: drivable", inspect.StdOut);
    }

    [Fact]
    public void Convert_of_a_checkpoint_missing_a_key_fails_naming_it_and_writes_nothing()
    {
        string folder = fixture.NewFolder("convert-missing");
        var complete = TinyWeights(seed: 6);
        string missing = complete.Names[complete.Count / 2];
        var partial = new WeightSet();
        foreach (var name in complete.Names.Where(n => n != missing))
        {
            partial.Add(name, complete[name]);
        }
        string checkpoint = Path.Combine(folder, "incomplete.pth");
        TorchCheckpointWriter.WriteZip(checkpoint, new Dictionary<string, WeightSet> { ["params_ema"] = partial });
        string output = Path.Combine(folder, "out", "converted.onnx");

        var run = fixture.Run("models", "convert", checkpoint, "--config", "tiny", "-o", output);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains(missing, run.StdErr);
        Assert.False(File.Exists(output), "a model was written from an incomplete checkpoint");
        Assert.False(File.Exists(Path.Combine(folder, "out", "converted.w0.onnx")), "a code-only model was written from an incomplete checkpoint");
        Assert.DoesNotContain("Unhandled exception", run.StdErr);
    }

    [Fact]
    public void Convert_realesrgan_turns_a_tiny_rrdbnet_checkpoint_into_a_scale_2_model()
    {
        string folder = fixture.NewFolder("convert-realesrgan");
        string checkpoint = Path.Combine(folder, "tiny_x2.pth");
        var layout = new RrdbNetParameterLayout(RrdbNetArchitecture.Tiny);
        TorchCheckpointWriter.WriteZip(checkpoint, new Dictionary<string, WeightSet> { ["params_ema"] = RandomWeights.Create(layout.Parameters, 4) });
        string output = Path.Combine(folder, "out", "x2.onnx");

        var run = fixture.Run("models", "convert-realesrgan", checkpoint, "-o", output);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains($"{layout.Parameters.Count} tensors", run.StdOut);
        Assert.True(new FileInfo(output).Length > 4 * layout.TotalElements);
    }

    [Fact]
    public void Convert_realesrgan_of_a_codeformer_checkpoint_fails_naming_the_missing_key()
    {
        string folder = fixture.NewFolder("convert-realesrgan-wrong");
        string checkpoint = Path.Combine(folder, "codeformer.pth");
        TorchCheckpointWriter.WriteZip(checkpoint, new Dictionary<string, WeightSet> { ["params_ema"] = TinyWeights(seed: 5) });
        string output = Path.Combine(folder, "x2.onnx");

        var run = fixture.Run("models", "convert-realesrgan", checkpoint, "-o", output);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("conv_first.weight", run.StdErr);
        Assert.False(File.Exists(output));
        Assert.DoesNotContain("Unhandled exception", run.StdErr);
    }
}
