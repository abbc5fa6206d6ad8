using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;

namespace CodeFormer.Network.Tests.Reference;

/// <summary>
/// The colorization and inpainting layouts (fuse at the three lowest CFT resolutions; inpainting with half the
/// codebook) on Tiny networks, run the way their reference scripts call them (doc B.11): colorization at w = 0
/// with AdaIN, inpainting at w = 1 with AdaIN OFF. Each graph is checked against the plain-loop reference.
/// </summary>
public sealed class TaskVariantGraphTests(ITestOutputHelper output)
{
    private const float Tolerance = 1e-3f;
    private const int Batch = 2;

    /// <summary>Tiny with fuse blocks only at 16/32 (its top level, 64, dropped as 256 is in the release).</summary>
    private static CodeFormerArchitecture TinyColorization => CodeFormerArchitecture.Tiny with { FuseResolutions = [16, 32] };

    /// <summary>As <see cref="TinyColorization"/>, with half the codebook, as the inpainting release halves 1024 to 512.</summary>
    private static CodeFormerArchitecture TinyInpainting => TinyColorization with { CodebookSize = 32 };

    [Theory]
    [InlineData("colorization", 0.0, true)]
    [InlineData("colorization", 0.5, true)]
    [InlineData("inpainting", 1.0, false)]
    [InlineData("inpainting", 0.5, false)]
    [InlineData("inpainting", 1.0, true)]
    public void Variant_graph_matches_the_reference(string variant, double fidelity, bool adaIn)
    {
        var architecture = variant == "inpainting" ? TinyInpainting : TinyColorization;
        var weights = RandomWeights.Create(new ParameterLayout(new NetworkLayout(architecture)), seed: 77);
        float[] input = Images(architecture.ImageSize);

        float[] expected = new ReferenceCodeFormer(architecture, weights).Forward(input, Batch, fidelity, adaIn);
        float[] actual = Run(architecture, weights, new CodeFormerExportOptions { AdaIn = adaIn }, input, fidelity);

        float difference = TinyOracleFixture.MaxAbsDifference(expected, actual);
        output.WriteLine($"{variant}, w = {fidelity}, AdaIN {(adaIn ? "on" : "off")}: max |onnx − reference| = {difference:E3}");
        Assert.True(difference <= Tolerance, $"{variant} graph (w = {fidelity}, AdaIN {adaIn}) differs from the reference by {difference} (> {Tolerance}).");
    }

    [Fact]
    public void Code_only_colorization_graph_matches_the_reference_at_w_zero()
    {
        var architecture = TinyColorization;
        var weights = RandomWeights.Create(new ParameterLayout(new NetworkLayout(architecture)), seed: 78);
        float[] input = Images(architecture.ImageSize);

        float[] expected = new ReferenceCodeFormer(architecture, weights).Forward(input, Batch, 0, adain: true);
        float[] actual = Run(architecture, weights, new CodeFormerExportOptions { IncludeFuseBlocks = false }, input, 0);

        float difference = TinyOracleFixture.MaxAbsDifference(expected, actual);
        output.WriteLine($"code-only colorization: max |onnx − reference| = {difference:E3}");
        Assert.True(difference <= Tolerance, $"The code-only colorization graph differs from the reference by {difference}.");
    }

    /// <summary>The switch is real: the same weights give clearly different images with AdaIN on and off, on both sides.</summary>
    [Fact]
    public void Turning_AdaIN_off_changes_the_output_and_the_metadata_says_so()
    {
        var architecture = TinyInpainting;
        var weights = RandomWeights.Create(new ParameterLayout(new NetworkLayout(architecture)), seed: 79);
        float[] input = Images(architecture.ImageSize);

        float[] on = Run(architecture, weights, new CodeFormerExportOptions { AdaIn = true }, input, 1);
        float[] off = Run(architecture, weights, new CodeFormerExportOptions { AdaIn = false }, input, 1);
        var reference = new ReferenceCodeFormer(architecture, weights);
        float referenceGap = TinyOracleFixture.MaxAbsDifference(reference.Forward(input, Batch, 1, adain: true), reference.Forward(input, Batch, 1, adain: false));
        float graphGap = TinyOracleFixture.MaxAbsDifference(on, off);

        output.WriteLine($"AdaIN on vs off: reference {referenceGap:E3}, onnx {graphGap:E3}");
        Assert.True(referenceGap > 1e-2f && graphGap > 1e-2f, $"AdaIN on and off differ by only {referenceGap} (reference) / {graphGap} (onnx).");
        var graphOff = CodeFormerOnnxExporter.BuildGraph(architecture, weights, new CodeFormerExportOptions { AdaIn = false });
        Assert.Equal("false", graphOff.Metadata[CodeFormerModelMetadata.AdaInKey]);
        Assert.DoesNotContain(graphOff.Nodes, n => n.Outputs.Any(o => o.Contains("adain/", StringComparison.Ordinal)));
        var graphOn = CodeFormerOnnxExporter.BuildGraph(architecture, weights, new CodeFormerExportOptions());
        Assert.Equal("true", graphOn.Metadata[CodeFormerModelMetadata.AdaInKey]);
        Assert.Contains(graphOn.Nodes, n => n.Outputs.Any(o => o.Contains("adain/", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("inpainting", 512, 92_652_867L)]
    [InlineData("colorization", 1024, 93_046_083L)]
    public void Released_variant_layouts_drop_the_256_fuse_block(string variant, int codebook, long parameters)
    {
        var architecture = variant == "inpainting" ? CodeFormerArchitecture.Inpainting : CodeFormerArchitecture.Colorization;
        var layout = new ParameterLayout(new NetworkLayout(architecture));
        var full = new ParameterLayout(new NetworkLayout(CodeFormerArchitecture.Full));

        Assert.Equal(parameters, layout.TotalElements);
        Assert.Equal($"({codebook}, 256)", layout.Parameters.Single(p => p.Name == "quantize.embedding.weight").ShapeText);
        Assert.DoesNotContain(layout.Parameters, p => p.Name.StartsWith("fuse_convs_dict.256.", StringComparison.Ordinal));
        // Exactly the 256 fuse block's tensors are missing from the restoration model's 515 keys.
        int fuse256 = full.Parameters.Count(p => p.Name.StartsWith("fuse_convs_dict.256.", StringComparison.Ordinal));
        Assert.Equal(515 - fuse256, layout.Parameters.Count);
    }

    private static float[] Run(CodeFormerArchitecture architecture, WeightSet weights, CodeFormerExportOptions options, float[] input, double fidelity)
    {
        using var stream = new MemoryStream();
        OnnxModelWriter.Write(CodeFormerOnnxExporter.BuildGraph(architecture, weights, options), stream);
        using var sessionOptions = new SessionOptions { IntraOpNumThreads = 2 };
        using var session = new InferenceSession(stream.ToArray(), sessionOptions);
        int size = architecture.ImageSize;
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor(CodeFormerOnnxExporter.InputName, new DenseTensor<float>(input, [Batch, 3, size, size])),
        };
        if (options.IncludeFuseBlocks)
        {
            inputs.Add(NamedOnnxValue.CreateFromTensor(CodeFormerOnnxExporter.WeightInputName, new DenseTensor<double>(new[] { fidelity }, [1])));
        }
        using var results = session.Run(inputs, [CodeFormerOnnxExporter.OutputName]);
        return results.Single().AsEnumerable<float>().ToArray();
    }

    private static float[] Images(int size)
    {
        var data = new float[Batch * 3 * size * size];
        for (int n = 0; n < Batch; n++)
        {
            for (int c = 0; c < 3; c++)
            {
                for (int y = 0; y < size; y++)
                {
                    for (int x = 0; x < size; x++)
                    {
                        double value = n == 0
                            ? Math.Sin(0.21 * x + 0.4 * c) * Math.Cos(0.11 * y - 0.2 * c)
                            : 0.7 * Math.Tanh(0.12 * (x + y) - c) + ((x / 8 + y / 8) % 2 == 0 ? 0.25 : -0.25);
                        data[((n * 3 + c) * size + y) * size + x] = (float)Math.Clamp(value, -1, 1);
                    }
                }
            }
        }
        return data;
    }
}
