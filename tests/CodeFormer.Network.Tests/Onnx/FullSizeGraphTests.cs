using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Network.Tests.Onnx;

[Collection(FullSizeModelCollection.Name)]
public sealed class FullSizeGraphTests
{
    private const long ReleasedParameters = 94_112_707L;
    private const long FuseParameters = 10_659_584L;

    /// <summary>
    /// One test for the 512-px model (building it holds ~1 GB): weight initializers are exactly the released
    /// state dict, the code-only graph drops exactly the fuse parameters, and ONNX Runtime accepts the written
    /// file (loading type-checks and shape-infers every node; no inference runs — too slow for unit tests).
    /// </summary>
    [Fact]
    public void Full_size_graph_holds_exactly_the_released_state_dict_and_loads_in_onnx_runtime()
    {
        var layout = new ParameterLayout(new NetworkLayout(CodeFormerArchitecture.Full));
        var weights = RandomWeights.Create(layout, 11);
        string dir = Directory.CreateTempSubdirectory().FullName;
        string path = Path.Combine(dir, "codeformer.onnx");
        try
        {
            var graph = CodeFormerOnnxExporter.BuildGraph(CodeFormerArchitecture.Full, weights, new CodeFormerExportOptions());
            var stateDict = WeightInitializers(graph);
            Assert.Equal(515, stateDict.Count);
            Assert.Equal(layout.Parameters.Select(p => p.Name).Order(StringComparer.Ordinal), stateDict.Select(t => t.Name).Order(StringComparer.Ordinal));
            Assert.Equal(ReleasedParameters, stateDict.Sum(ElementCount));
            Assert.All(stateDict, t => Assert.Equal(layout.Parameters.Single(p => p.Name == t.Name).Shape.Select(d => (long)d), t.Dims));

            OnnxModelWriter.WriteFile(graph, path);
            using (var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL })
            using (var session = new InferenceSession(path, options))
            {
                Assert.Equal([-1, 3, 512, 512], session.InputMetadata[CodeFormerOnnxExporter.InputName].Dimensions);
                Assert.Equal([-1, 3, 512, 512], session.OutputMetadata[CodeFormerOnnxExporter.OutputName].Dimensions);
            }
            // fp32 weights are 4 bytes each: the file is the released checkpoint's size plus graph structure.
            Assert.InRange(new FileInfo(path).Length, 4 * ReleasedParameters, 4 * ReleasedParameters + 2_000_000);

            var codeOnly = CodeFormerOnnxExporter.BuildGraph(CodeFormerArchitecture.Full, weights, new CodeFormerExportOptions { IncludeFuseBlocks = false });
            Assert.Equal(ReleasedParameters - FuseParameters, WeightInitializers(codeOnly).Sum(ElementCount));
            Assert.DoesNotContain(WeightInitializers(codeOnly), t => ParameterLayout.IsFuseParameter(t.Name));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static List<OnnxTensor> WeightInitializers(OnnxGraph graph)
        => graph.Initializers.Where(t => !t.Name.StartsWith(CodeFormerOnnxExporter.ConstantPrefix, StringComparison.Ordinal)).ToList();

    private static long ElementCount(OnnxTensor tensor) => tensor.Dims.Aggregate(1L, (n, d) => n * d);
}
