using CodeFormer.Engine.Restoration;
using CodeFormer.Engine.Runtime;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Tests.Restoration;

/// <summary>
/// The session over real exports of the project's own exporter: a Tiny CodeFormer (64² faces, random weights)
/// with its code-only sibling, written where <see cref="CodeFormerOnnxExporter.CodeOnlyPathFor"/> puts it.
/// </summary>
public sealed class ExportedCodeFormerTests(ExportedCodeFormerTests.Exports exports, Xunit.Abstractions.ITestOutputHelper log) : IClassFixture<ExportedCodeFormerTests.Exports>
{
    private static readonly CodeFormerArchitecture Tiny = CodeFormerArchitecture.Tiny;
    private readonly SessionOptions _options = exports.Options;
    private readonly string _modelPath = exports.ModelPath;
    private readonly string _lonePath = exports.LonePath;

    /// <summary>Exported once for the class: the model with its sibling, and a copy of the model alone in another folder.</summary>
    public sealed class Exports : IDisposable
    {
        private readonly TempFolder _withSibling = new();
        private readonly TempFolder _alone = new();

        public Exports()
        {
            var weights = RandomWeights.Create(new ParameterLayout(new NetworkLayout(Tiny)), 11);
            ModelPath = Path.Combine(_withSibling.Path, "codeformer.onnx");
            CodeFormerOnnxExporter.WriteFile(Tiny, weights, ModelPath, new CodeFormerExportOptions());
            CodeFormerOnnxExporter.WriteFile(Tiny, weights, CodeFormerOnnxExporter.CodeOnlyPathFor(ModelPath), new CodeFormerExportOptions { IncludeFuseBlocks = false });
            LonePath = Path.Combine(_alone.Path, "codeformer.onnx");
            File.Copy(ModelPath, LonePath);
        }

        public string ModelPath { get; }
        public string LonePath { get; }
        public SessionOptions Options { get; } = new() { IntraOpNumThreads = 2 };

        public void Dispose()
        {
            Options.Dispose();
            _withSibling.Dispose();
            _alone.Dispose();
        }
    }

    private static float[] Faces(int count, int seed) => TestModels.RandomValues(count * 3 * Tiny.ImageSize * Tiny.ImageSize, seed);

    private static float MaxDifference(float[] a, float[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    [Fact]
    public void Contract_of_the_projects_export_is_read()
    {
        using var session = CodeFormerSession.Open(_modelPath, _options);

        var contract = session.Contract;
        Assert.Equal(CodeFormerOnnxExporter.InputName, contract.ImageInputName);
        Assert.Equal(CodeFormerOnnxExporter.WeightInputName, contract.FidelityInputName);
        Assert.Equal(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Double, contract.FidelityElementType);
        Assert.False(contract.FidelityIsScalar);
        Assert.True(contract.HasDynamicBatch);
        Assert.Equal(Tiny.ImageSize, contract.FaceSize);
        Assert.Equal(CodeFormerOnnxExporter.OutputName, contract.OutputName);
        Assert.Equal("true", contract.FuseBlocks);
        Assert.Equal(CodeFormerModelMetadata.LicenseText, contract.License);
        Assert.Equal("float32", contract.Precision);
        Assert.Equal(CodeFormerOnnxExporter.CodeOnlyPathFor(_modelPath), session.CodeOnlyModelPath);
    }

    [Fact]
    public void Code_only_sibling_matches_the_full_model_at_fidelity_zero()
    {
        using var withSibling = CodeFormerSession.Open(_modelPath, _options);
        using var alone = CodeFormerSession.Open(_lonePath, _options);
        var input = Faces(2, seed: 21);
        var viaSibling = new float[input.Length];
        var viaWeightZero = new float[input.Length];
        var atHalf = new float[input.Length];

        withSibling.Restore(input, 2, 0.0, viaSibling);
        alone.Restore(input, 2, 0.0, viaWeightZero);
        alone.Restore(input, 2, 0.5, atHalf);

        log.WriteLine($"max |code-only − (w = 0)| = {MaxDifference(viaSibling, viaWeightZero):G3}, max |(w = 0.5) − (w = 0)| = {MaxDifference(atHalf, viaWeightZero):G3}");
        Assert.True(withSibling.IsCodeOnlyLoaded);
        Assert.Null(alone.CodeOnlyModelPath);
        // Reference A.5: w = 0 is the code-only path; the fuse blocks then add exactly zero.
        Assert.True(MaxDifference(viaSibling, viaWeightZero) < 1e-4f, $"code-only vs w = 0 differ by {MaxDifference(viaSibling, viaWeightZero)}");
        Assert.True(MaxDifference(atHalf, viaWeightZero) > 1e-3f, "fidelity must change the result, or this test proves nothing");
    }

    [Fact]
    public void Batched_faces_equal_faces_restored_one_by_one()
    {
        using var session = CodeFormerSession.Open(_modelPath, _options, maxBatch: 2);
        int faceLength = 3 * Tiny.ImageSize * Tiny.ImageSize;
        var input = Faces(3, seed: 22);
        var batched = new float[input.Length];
        var single = new float[input.Length];

        session.Restore(input, 3, 0.7, batched);
        for (int f = 0; f < 3; f++)
        {
            session.Restore(input.AsSpan(f * faceLength, faceLength), 1, 0.7, single.AsSpan(f * faceLength, faceLength));
        }

        log.WriteLine($"max |batched − single| = {MaxDifference(batched, single):G3}");
        Assert.True(MaxDifference(batched, single) < 1e-4f, $"batched vs single differ by {MaxDifference(batched, single)}");
    }

    [Fact]
    public void Half_precision_export_is_driven_with_float32_faces()
    {
        var weights = RandomWeights.Create(new ParameterLayout(new NetworkLayout(Tiny)), 11);
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "codeformer.fp16.onnx");
        CodeFormerOnnxExporter.WriteFile(Tiny, weights, path, new CodeFormerExportOptions { Precision = OnnxPrecision.Float16 });
        using var half = CodeFormerSession.Open(path, _options);
        using var full = CodeFormerSession.Open(_lonePath, _options);
        var input = Faces(1, seed: 23);
        var halfOutput = new float[input.Length];
        var fullOutput = new float[input.Length];

        half.Restore(input, 1, 0.5, halfOutput);
        full.Restore(input, 1, 0.5, fullOutput);

        Assert.Equal("float16", half.Contract.Precision);
        log.WriteLine($"max |fp16 − fp32| = {MaxDifference(halfOutput, fullOutput):G3}");
        Assert.All(halfOutput, v => Assert.True(float.IsFinite(v)));
        Assert.True(MaxDifference(halfOutput, fullOutput) < 0.1f, $"fp16 vs fp32 differ by {MaxDifference(halfOutput, fullOutput)}");
    }

    [Fact]
    public void Inspection_shows_the_export_as_drivable()
    {
        var inspection = ModelInspection.Inspect(_modelPath);

        Assert.NotNull(inspection.Contract);
        Assert.Contains("codeformer.architecture", inspection.Metadata.Keys);
        Assert.Contains("input: float [N,3,64,64]", inspection.ToText());
    }
}
