using System.Text.Json;
using System.Text.Json.Serialization;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Pipeline;

namespace CodeFormer.Cli.Output;

/// <summary>
/// Writes one photo's outputs under the output root, in the reference CLI's layout (doc B.10) plus a report:
/// final_results/, restored_faces/, cropped_faces/, cmp/ and reports/&lt;name&gt;.json.
/// Every file is written to a temporary name and renamed, so an interrupted run never leaves half an image.
/// </summary>
internal sealed class ResultWriter(string outputRoot)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public string OutputRoot { get; } = Path.GetFullPath(outputRoot);

    /// <param name="baseName">Name the outputs are written under; default the input's stem (see <see cref="OutputNames"/>).</param>
    public IReadOnlyList<string> Write(string inputPath, RestorationResult result, string? baseName = null)
    {
        baseName ??= Path.GetFileNameWithoutExtension(inputPath);
        var written = new List<string>();
        string finalPath = Path.Combine(OutputRoot, "final_results", baseName + OutputFormat.ExtensionOf(result.Format));
        WriteAtomically(finalPath, result.Image);
        written.Add(finalPath);
        foreach (var face in result.FaceImages)
        {
            string suffix = $"_{face.Index:00}.png";
            written.Add(WriteAtomically(Path.Combine(OutputRoot, "cropped_faces", baseName + suffix), face.CroppedPng));
            written.Add(WriteAtomically(Path.Combine(OutputRoot, "restored_faces", baseName + suffix), face.RestoredPng));
        }
        if (result.Comparison is { } comparison)
        {
            written.Add(WriteAtomically(Path.Combine(OutputRoot, "cmp", baseName + ".png"), comparison));
        }
        var report = PhotoReport.From(inputPath, finalPath, result);
        written.Add(WriteAtomically(Path.Combine(OutputRoot, "reports", baseName + ".json"), JsonSerializer.SerializeToUtf8Bytes(report, JsonOptions)));
        return written;
    }

    private static string WriteAtomically(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = path + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, path, overwrite: true);
        return path;
    }
}

/// <summary>The JSON report of one photo: faces with box, landmarks, score and affine matrix, and per-stage timings.</summary>
internal sealed record PhotoReport(
    string Input,
    string Output,
    int InputWidth,
    int InputHeight,
    int OutputWidth,
    int OutputHeight,
    bool Greyscale,
    IReadOnlyList<FaceReport> Faces,
    IReadOnlyDictionary<string, double> TimingsMs,
    double TotalMs,
    IReadOnlyList<string> Warnings)
{
    public static PhotoReport From(string input, string output, RestorationResult r) => new(
        input, output, r.InputWidth, r.InputHeight, r.Width, r.Height, r.Greyscale, r.Faces,
        r.Timings.Milliseconds.ToDictionary(kv => kv.Key.ToString().ToLowerInvariant(), kv => Math.Round(kv.Value, 2)),
        Math.Round(r.Timings.Total, 2),
        r.Warnings);
}
