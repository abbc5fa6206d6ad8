using CodeFormer.Network.Onnx;
using Xunit.Abstractions;

namespace CodeFormer.Network.Tests.Onnx;

public sealed class Float16ExportTests(ITestOutputHelper output)
{
    /// <summary>
    /// Bounds for |fp16 − fp32| in model output units ([-1, 1] maps to 0…255, so one 8-bit level is 2/255 ≈ 0.0078).
    /// Half precision rounds each weight and the input by up to 2^-11 relative; through ~40 dependent layers
    /// that stays well below one level on average. The mean bound is half a level; the max bound (≈ 6 levels)
    /// leaves room for local spikes where errors align, but a wrong op in the half path (a missing cast,
    /// a swapped operand) moves outputs by the order of their range (≈ 5 here) and fails both.
    /// Measured on Tiny, seed 7, three images: ORT CPU (half weights) max ≈ 0.0088, mean ≈ 0.0009;
    /// with every intermediate also rounded to half (GPU-like) max ≈ 0.019, mean ≈ 0.002.
    /// </summary>
    private const float MaxErrorBound = 0.05f;
    private const double MeanErrorBound = 0.004;

    [Fact]
    public void Float16_graph_runs_on_the_cpu_and_stays_close_to_float32()
    {
        using var single = new TinyCodeFormerModel(new CodeFormerExportOptions());
        using var half = new TinyCodeFormerModel(new CodeFormerExportOptions { Precision = OnnxPrecision.Float16 });
        float[] images = TinyCodeFormerModel.Images(3);

        foreach (double w in new[] { 0.0, 0.5, 1.0 })
        {
            float[] reference = single.Run(images, w);
            float[] approximate = half.Run(images, w);
            float max = TinyCodeFormerModel.MaxAbsDifference(reference, approximate);
            double mean = reference.Zip(approximate, (a, b) => Math.Abs(a - b)).Average();
            output.WriteLine($"w={w}: max |fp16 - fp32| = {max:G4}, mean = {mean:G4}, output range {reference.Max() - reference.Min():G4}");

            Assert.All(approximate, v => Assert.True(float.IsFinite(v)));
            Assert.True(max <= MaxErrorBound, $"w={w}: max error {max} > {MaxErrorBound}");
            Assert.True(mean <= MeanErrorBound, $"w={w}: mean error {mean} > {MeanErrorBound}");
        }
    }

    /// <summary>
    /// The CPU run above computes in float between ORT's inserted casts, so it sees only half weights and
    /// input. A GPU also stores every intermediate in half; <see cref="HalfComputeEmulation"/> rounds each
    /// op's output to half to show that error, held to the same bounds.
    /// </summary>
    [Fact]
    public void Half_precision_intermediates_stay_within_the_same_bounds()
    {
        using var single = new TinyCodeFormerModel(new CodeFormerExportOptions());
        using var emulated = new TinyCodeFormerModel(new CodeFormerExportOptions(), rewrite: HalfComputeEmulation.Apply);
        float[] images = TinyCodeFormerModel.Images(3);

        foreach (double w in new[] { 0.0, 1.0 })
        {
            float[] reference = single.Run(images, w);
            float[] approximate = emulated.Run(images, w);
            float max = TinyCodeFormerModel.MaxAbsDifference(reference, approximate);
            double mean = reference.Zip(approximate, (a, b) => Math.Abs(a - b)).Average();
            output.WriteLine($"w={w}: half intermediates: max |fp16 - fp32| = {max:G4}, mean = {mean:G4}");

            Assert.True(max > 0, "the emulation must change something, else it is not rounding");
            Assert.True(max <= MaxErrorBound, $"w={w}: max error {max} > {MaxErrorBound}");
            Assert.True(mean <= MeanErrorBound, $"w={w}: mean error {mean} > {MeanErrorBound}");
        }
    }

    [Fact]
    public void Float16_graph_stores_half_weights_behind_float32_io()
    {
        using var half = new TinyCodeFormerModel(new CodeFormerExportOptions { Precision = OnnxPrecision.Float16 });

        var weights = half.Graph.Initializers.Where(t => !t.Name.StartsWith(CodeFormerOnnxExporter.ConstantPrefix, StringComparison.Ordinal)).ToList();
        Assert.Equal(half.Weights.Count, weights.Count);
        Assert.All(weights, t => Assert.Equal(OnnxElementType.Float16, t.ElementType));
        Assert.Equal(2 * half.Weights.TotalElements, weights.Sum(t => (long)t.RawData.Length));
        Assert.Equal(typeof(float), half.Session.InputMetadata[CodeFormerOnnxExporter.InputName].ElementType);
        Assert.Equal(typeof(float), half.Session.OutputMetadata[CodeFormerOnnxExporter.OutputName].ElementType);
        Assert.Equal("float16", half.Session.ModelMetadata.CustomMetadataMap[CodeFormerModelMetadata.PrecisionKey]);
    }

    [Fact]
    public void Float16_code_only_graph_equals_float16_full_graph_at_w_zero()
    {
        using var full = new TinyCodeFormerModel(new CodeFormerExportOptions { Precision = OnnxPrecision.Float16 });
        using var codeOnly = new TinyCodeFormerModel(new CodeFormerExportOptions { Precision = OnnxPrecision.Float16, IncludeFuseBlocks = false });
        float[] images = TinyCodeFormerModel.Images(1);

        Assert.True(TinyCodeFormerModel.MaxAbsDifference(full.Run(images, w: 0), codeOnly.Run(images)) <= 1e-3f);
    }
}
