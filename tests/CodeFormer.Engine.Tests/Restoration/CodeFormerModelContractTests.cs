using CodeFormer.Engine.Restoration;
using CodeFormer.Engine.Runtime;
using CodeFormer.Network.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Tests.Restoration;

public sealed class CodeFormerModelContractTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly SessionOptions _options = new();

    public void Dispose()
    {
        _options.Dispose();
        _folder.Dispose();
    }

    /// <summary>A pass-through graph with the given inputs; the first input of the output's rank is cast to float and returned with <paramref name="outputShape"/>.</summary>
    private static OnnxGraph PassThrough(OnnxDim[] outputShape, params (string Name, OnnxElementType Type, OnnxDim[] Shape)[] inputs)
    {
        var graph = new OnnxGraph("odd");
        foreach (var (name, type, shape) in inputs)
        {
            graph.AddInput(name, type, shape);
        }
        var source = inputs.FirstOrDefault(i => i.Shape.Length == outputShape.Length, inputs[0]);
        string first = source.Type == OnnxElementType.Float ? source.Name
            : graph.Op("Cast", "as_float", [source.Name], OnnxAttribute.Of("to", (long)OnnxElementType.Float));
        graph.Alias(first, "output");
        graph.AddOutput("output", OnnxElementType.Float, outputShape);
        return graph;
    }

    /// <summary>A model whose output really is twice the input size (ONNX Runtime trusts inferred shapes over declared ones).</summary>
    private static OnnxGraph Doubling()
    {
        var graph = new OnnxGraph("doubling");
        string x = graph.AddInput("input", OnnxElementType.Float, Face);
        graph.Alias(graph.Op("Tile", "tiled", [x, graph.AddInt64s("repeats", 1, 1, 2, 2)]), "output");
        graph.AddOutput("output", OnnxElementType.Float, "N", 3, 16, 16);
        return graph;
    }

    private static readonly OnnxDim[] Face = ["N", 3, 8, 8];

    public static TheoryData<string, OnnxGraph, string> Undrivable => new()
    {
        { "three dimensions", PassThrough(["N", 3, 8], ("foo", OnnxElementType.Float, ["N", 3, 8])), "input 'foo' has 3 dimensions [N,3,8], expected [N,3,S,S]" },
        { "not square", PassThrough(["N", 3, 8, 16], ("input", OnnxElementType.Float, ["N", 3, 8, 16])), "input 'input' is 8×16, expected a square face crop" },
        { "double image", PassThrough(Face, ("input", OnnxElementType.Double, Face)), "input 'input' is double, expected float" },
        { "four channels", PassThrough(["N", 4, 8, 8], ("input", OnnxElementType.Float, ["N", 4, 8, 8])), "has 4 channels" },
        { "free face size", PassThrough(["N", 3, "H", "W"], ("input", OnnxElementType.Float, ["N", 3, "H", "W"])), "symbolic height/width [N,3,H,W]" },
        { "three inputs", PassThrough(Face, ("input", OnnxElementType.Float, Face), ("weight", OnnxElementType.Double, [1]), ("extra", OnnxElementType.Float, [1])), "it has 3 inputs ('input', 'weight', 'extra')" },
        { "integer weight", PassThrough(Face, ("input", OnnxElementType.Float, Face), ("weight", OnnxElementType.Int64, [1])), "second input 'weight' is int64" },
        { "weight of two", PassThrough(Face, ("input", OnnxElementType.Float, Face), ("weight", OnnxElementType.Double, [2])), "second input 'weight' has shape [2]" },
        { "output of another size", Doubling(), "output 'output' has shape [N,3,16,16], expected [N,3,8,8]" },
    };

    [Theory]
    [MemberData(nameof(Undrivable))]
    public void Models_it_cannot_drive_are_refused_with_the_reason(string caseName, OnnxGraph graph, string reason)
    {
        string path = _folder.Write(caseName.Replace(' ', '_') + ".onnx", graph);

        var error = Assert.Throws<ModelContractException>(() => CodeFormerSession.Open(path, _options));

        Assert.Contains(path, error.Message);
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Image_input_is_found_by_shape_when_named_otherwise_and_second_scalar_is_the_weight()
    {
        // hpc203's export addresses its inputs by position (reference D.1): input0 image, input1 double weight.
        string path = _folder.Write("positional.onnx", PassThrough(Face, ("input1", OnnxElementType.Double, [1]), ("input0", OnnxElementType.Float, Face)));
        using var session = new InferenceSession(path, _options);

        var contract = CodeFormerModelContract.Read(session, path);

        Assert.Equal("input0", contract.ImageInputName);
        Assert.Equal("input1", contract.FidelityInputName);
        Assert.Equal("output", contract.OutputName);
        Assert.Equal(8, contract.FaceSize);
    }

    [Fact]
    public void Missing_model_file_is_named()
    {
        string path = Path.Combine(_folder.Path, "absent.onnx");

        var error = Assert.Throws<FileNotFoundException>(() => CodeFormerSession.Open(path, _options));

        Assert.Contains(path, error.Message);
    }
}
