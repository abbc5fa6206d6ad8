using CodeFormer.Network.Onnx;

namespace CodeFormer.Engine.Tests;

/// <summary>Small ONNX graphs written with the project's own writer, as bytes or as files in a temporary folder.</summary>
internal static class TestModels
{
    public static byte[] Bytes(OnnxGraph graph)
    {
        using var stream = new MemoryStream();
        OnnxModelWriter.Write(graph, stream);
        return stream.ToArray();
    }

    public static float[] RandomValues(int count, int seed, float min = -1f, float max = 1f)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = min + (float)random.NextDouble() * (max - min);
        }
        return values;
    }
}

/// <summary>A temporary folder for model files, deleted with everything in it.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("codeformer-sessions-").FullName;

    public string Write(string name, OnnxGraph graph)
    {
        string path = System.IO.Path.Combine(Path, name);
        OnnxModelWriter.WriteFile(graph, path);
        return path;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
