using CodeFormer.Network.Onnx;
using CodeFormer.Testing;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CodeFormer.Network.Tests.Onnx;

public sealed class OnnxModelWriterTests
{
    [Fact]
    public void Written_model_loads_and_computes_in_onnx_runtime()
    {
        var graph = new OnnxGraph("affine");
        string x = graph.AddInput("x", OnnxElementType.Float, "N", 3);
        string scale = graph.AddInitializer(OnnxTensor.FromFloats("scale", [3], [1f, 2f, 3f]));
        string bias = graph.AddScalarFloat("bias", 0.5f);
        string scaled = graph.Op("Mul", "scaled", [x, scale]);
        string y = graph.Op("Add", "shifted", [scaled, bias]);
        graph.Alias(y, "y");
        graph.AddOutput("y", OnnxElementType.Float, "N", 3);
        graph.Metadata["licence"] = "test";

        using var stream = new MemoryStream();
        OnnxModelWriter.Write(graph, stream);
        using var session = new InferenceSession(stream.ToArray());

        var input = new DenseTensor<float>(new float[] { 1, 1, 1, 2, 2, 2 }, [2, 3]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", input)]);
        var output = results.Single().AsEnumerable<float>().ToArray();

        Assert.Equal(new float[] { 1.5f, 2.5f, 3.5f, 2.5f, 4.5f, 6.5f }, output);
        Assert.Equal("test", session.ModelMetadata.CustomMetadataMap["licence"]);
        Assert.Equal(-1, session.InputMetadata["x"].Dimensions[0]);
    }

    [Fact]
    public void Write_file_leaves_nothing_behind_when_serialisation_fails()
    {
        var graph = new OnnxGraph("broken");
        graph.Nodes.Add(new OnnxNode("Relu", ["a"], ["b"], "relu", [new OnnxAttribute("empty")]));
        using var dir = new TemporaryDirectory();

        Assert.Throws<ArgumentException>(() => OnnxModelWriter.WriteFile(graph, dir.File("model.onnx")));

        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
