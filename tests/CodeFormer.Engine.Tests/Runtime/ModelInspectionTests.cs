using CodeFormer.Engine.Runtime;
using CodeFormer.Engine.Tests.Restoration;
using CodeFormer.Network.Onnx;

namespace CodeFormer.Engine.Tests.Runtime;

public sealed class ModelInspectionTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Drivable_model_lists_tensors_metadata_contract_and_sibling()
    {
        var graph = FakeCodeFormer.Scaling();
        graph.Metadata["license"] = "S-Lab License 1.0";
        string path = _folder.Write("codeformer.onnx", graph);
        string sibling = _folder.Write("codeformer.w0.onnx", FakeCodeFormer.Sevens());

        var inspection = ModelInspection.Inspect(path);

        Assert.Equal(["input", "weight"], inspection.Inputs.Select(i => i.Name));
        Assert.Equal(["N", "3", "8", "8"], inspection.Inputs[0].Shape);
        Assert.Equal("float", inspection.Inputs[0].ElementType);
        Assert.Equal("double", inspection.Inputs[1].ElementType);
        Assert.Equal(["1"], inspection.Inputs[1].Shape);
        Assert.Equal("output", Assert.Single(inspection.Outputs).Name);
        Assert.Equal("S-Lab License 1.0", inspection.Metadata["license"]);
        Assert.NotNull(inspection.Contract);
        Assert.Null(inspection.NotDrivableReason);
        Assert.Equal(sibling, inspection.CodeOnlySibling);

        string text = inspection.ToText();
        Assert.Contains("input: float [N,3,8,8]", text);
        Assert.Contains("fidelity input: weight (double [1])", text);
        Assert.Contains("batch dynamic", text);
        Assert.Contains($"code-only (w = 0) sibling: {sibling}", text);
    }

    [Fact]
    public void Undrivable_model_reports_the_reason_instead_of_throwing()
    {
        var graph = new OnnxGraph("flat");
        string x = graph.AddInput("foo", OnnxElementType.Float, "N", 3, 8);
        graph.Alias(x, "bar");
        graph.AddOutput("bar", OnnxElementType.Float, "N", 3, 8);
        string path = _folder.Write("flat.onnx", graph);

        var inspection = ModelInspection.Inspect(path);

        Assert.Null(inspection.Contract);
        Assert.Contains("input 'foo' has 3 dimensions", inspection.NotDrivableReason);
        Assert.Contains("not drivable: input 'foo' has 3 dimensions", inspection.ToText());
        Assert.Contains("Metadata: (none)", inspection.ToText());
    }

    [Fact]
    public void Missing_file_is_named()
    {
        string path = Path.Combine(_folder.Path, "none.onnx");

        var error = Assert.Throws<FileNotFoundException>(() => ModelInspection.Inspect(path));

        Assert.Contains(path, error.Message);
    }
}
