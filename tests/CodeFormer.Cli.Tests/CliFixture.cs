namespace CodeFormer.Cli.Tests;

/// <summary>
/// A scratch folder for all CLI tests, an empty model cache, and a tiny random CodeFormer model built once with
/// <c>models build --random --config tiny</c> (itself one of the things under test).
/// </summary>
public sealed class CliFixture : IDisposable
{
    private readonly Lazy<(CliRun Run, string Path)> _tinyModel;

    public CliFixture()
    {
        Root = Directory.CreateTempSubdirectory("codeformer-cli-tests-").FullName;
        ModelsDirectory = Directory.CreateDirectory(System.IO.Path.Combine(Root, "model-cache")).FullName;
        _tinyModel = new(() =>
        {
            string path = System.IO.Path.Combine(Root, "models", "tiny.onnx");
            var run = CliProcess.Run(Root, ModelsDirectory, "models", "build", "--random", "--config", "tiny", "--seed", "3", "-o", path);
            return (run, path);
        });
    }

    public string Root { get; }

    /// <summary>$CODEFORMER_MODELS of every run: empty unless a test fills it.</summary>
    public string ModelsDirectory { get; }

    public CliRun TinyModelBuild => _tinyModel.Value.Run;

    public string TinyModelPath => _tinyModel.Value.Path;

    /// <summary>A new empty folder under the scratch root.</summary>
    public string NewFolder(string name) => Directory.CreateDirectory(System.IO.Path.Combine(Root, name + "-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public CliRun Run(params string[] arguments) => CliProcess.Run(Root, ModelsDirectory, arguments);

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class CliCollection : ICollectionFixture<CliFixture>
{
    public const string Name = "CLI processes";
}
