using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;
using Xunit.Abstractions;

namespace CodeFormer.Network.Tests.Reference;

/// <summary>
/// The exported ONNX graph, run by ONNX Runtime, against the independent plain-loop reference:
/// equal outputs show the graph IS CodeFormer's forward pass (with AdaIN) on a Tiny network, and two
/// structural properties of the reference (doc A.4, A.5) are checked on both sides.
/// </summary>
public sealed class GraphMatchesReferenceTests(TinyOracleFixture fixture, ITestOutputHelper output) : IClassFixture<TinyOracleFixture>
{
    /// <summary>float32 graph against a double-accumulating reference through ~50 blocks of a random network.</summary>
    private const float Tolerance = 1e-3f;

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(1.0)]
    public void Full_graph_matches_the_reference(double fidelity)
    {
        float[] expected = fixture.ReferenceOutput(fidelity);

        float[] actual = fixture.OnnxOutput(fidelity);

        float difference = TinyOracleFixture.MaxAbsDifference(expected, actual);
        output.WriteLine($"w = {fidelity}: max |onnx − reference| = {difference:E3}");
        Assert.True(difference <= Tolerance, $"At w = {fidelity} the graph differs from the reference by {difference} (> {Tolerance}).");
        // The two batch items really are different faces, so batching mistakes cannot hide.
        int perImage = expected.Length / TinyOracleFixture.Batch;
        Assert.True(TinyOracleFixture.MaxAbsDifference(expected[..perImage], expected[perImage..]) > 0.1f);
    }

    [Fact]
    public void Code_only_graph_matches_the_reference_at_w_zero()
    {
        float[] expected = fixture.ReferenceOutput(0);

        float[] actual = fixture.RunOnnx(fixture.Weights, new CodeFormerExportOptions { IncludeFuseBlocks = false }, 0)[0];

        float difference = TinyOracleFixture.MaxAbsDifference(expected, actual);
        output.WriteLine($"code-only graph: max |onnx − reference| = {difference:E3}");
        Assert.True(difference <= Tolerance, $"The code-only graph differs from the reference by {difference} (> {Tolerance}).");
    }

    /// <summary>
    /// The image depends on the transformer only through argmax codes, so a small transformer error would hide
    /// behind unchanged codes; the logits feeding the graph's ArgMax are therefore compared directly.
    /// </summary>
    [Fact]
    public void Codebook_logits_match_the_reference()
    {
        var options = new CodeFormerExportOptions { IncludeFuseBlocks = false };
        var graph = CodeFormerOnnxExporter.BuildGraph(TinyOracleFixture.Architecture, fixture.Weights, options);
        string logitsName = graph.Nodes.Single(n => n.OpType == "ArgMax").Inputs[0];
        var a = TinyOracleFixture.Architecture;
        graph.AddOutput(logitsName, OnnxElementType.Float, "N", a.LatentTokens, a.CodebookSize);

        float[] expected = new ReferenceCodeFormer(a, fixture.Weights).PredictLogits(fixture.Input, TinyOracleFixture.Batch);
        float[] actual = fixture.RunOnnx(graph, options, logitsName, 0)[0];

        float difference = TinyOracleFixture.MaxAbsDifference(expected, actual);
        float largest = expected.Max(Math.Abs);
        output.WriteLine($"logits: max |onnx − reference| = {difference:E3} (largest |logit| {largest:F3})");
        // float32 rounding gives a few 1e-6; a tanh-approximated GELU alone already moves these logits by ~4e-4.
        Assert.True(difference <= 2e-5f * Math.Max(1f, largest), $"The graph's codebook logits differ from the reference by {difference}.");
    }

    [Fact]
    public void At_w_zero_the_fuse_block_weights_do_not_matter()
    {
        var otherFuse = fixture.WeightsWith(ParameterLayout.IsFuseParameter,
            (name, _) => RandomWeights.CreateTensor(fixture.Layout.Parameters.Single(p => p.Name == name), seed: 99));

        float[] referenceOther = new ReferenceCodeFormer(TinyOracleFixture.Architecture, otherFuse).Forward(fixture.Input, TinyOracleFixture.Batch, 0);
        float[][] onnxOther = fixture.RunOnnx(otherFuse, new CodeFormerExportOptions(), 0, 1);

        Assert.Equal(fixture.ReferenceOutput(0), referenceOther);
        Assert.Equal(fixture.OnnxOutput(0), onnxOther[0]);
        // The replacement is real: at w = 1 the same swap does change the graph's output.
        float atFullFidelity = TinyOracleFixture.MaxAbsDifference(fixture.OnnxOutput(1), onnxOther[1]);
        Assert.True(atFullFidelity > 1e-2f, $"Swapping the fuse weights changed the w = 1 output by only {atFullFidelity}.");
    }

    [Fact]
    public void Only_codebook_rows_that_some_token_selects_reach_the_output()
    {
        const double fidelity = 0.5;
        int[] codes = new ReferenceCodeFormer(TinyOracleFixture.Architecture, fixture.Weights).PredictCodes(fixture.Input, TinyOracleFixture.Batch);
        var selected = codes.ToHashSet();
        int unusedRow = Enumerable.Range(0, TinyOracleFixture.Architecture.CodebookSize).First(r => !selected.Contains(r));
        int usedRow = codes[0];
        output.WriteLine($"{selected.Count} of {TinyOracleFixture.Architecture.CodebookSize} codebook rows selected; changing rows {unusedRow} (unused) and {usedRow} (used).");

        var unusedChanged = WithCodebookRowReplaced(unusedRow);
        var usedChanged = WithCodebookRowReplaced(usedRow);
        float[] referenceBase = fixture.ReferenceOutput(fidelity);
        float[] onnxBase = fixture.OnnxOutput(fidelity);

        Assert.Equal(referenceBase, new ReferenceCodeFormer(TinyOracleFixture.Architecture, unusedChanged).Forward(fixture.Input, TinyOracleFixture.Batch, fidelity));
        Assert.True(TinyOracleFixture.MaxAbsDifference(onnxBase, fixture.RunOnnx(unusedChanged, new CodeFormerExportOptions(), fidelity)[0]) <= 1e-6f);

        float referenceChange = TinyOracleFixture.MaxAbsDifference(referenceBase,
            new ReferenceCodeFormer(TinyOracleFixture.Architecture, usedChanged).Forward(fixture.Input, TinyOracleFixture.Batch, fidelity));
        float onnxChange = TinyOracleFixture.MaxAbsDifference(onnxBase, fixture.RunOnnx(usedChanged, new CodeFormerExportOptions(), fidelity)[0]);
        output.WriteLine($"changing a selected row moves the output by {referenceChange:E3} (reference), {onnxChange:E3} (onnx)");
        Assert.True(referenceChange > 1e-3f, $"Changing selected row {usedRow} moved the reference output by only {referenceChange}.");
        Assert.True(onnxChange > 1e-3f, $"Changing selected row {usedRow} moved the graph output by only {onnxChange}.");
    }

    /// <summary>The fixture's weights with one codebook row set to different, still codebook-like values.</summary>
    private WeightSet WithCodebookRowReplaced(int row)
    {
        const string codebook = "quantize.embedding.weight";
        return fixture.WeightsWith(name => name == codebook, (_, tensor) =>
        {
            var data = (float[])tensor.Data.Clone();
            int dim = tensor.Shape[1];
            for (int i = 0; i < dim; i++)
            {
                data[row * dim + i] = (float)Math.Sin(3.7 * i + row);
            }
            return new Tensor(tensor.Shape, data);
        });
    }
}
