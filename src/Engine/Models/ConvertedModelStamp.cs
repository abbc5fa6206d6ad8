using System.Globalization;

namespace CodeFormer.Engine.Models;

/// <summary>
/// Remembers which checkpoint a converted ONNX model in the cache was made from, in a small <c>&lt;model&gt;.source</c>
/// file beside it (full path, size, last write time). A conversion is reused only for that very file: the converted
/// name comes from the checkpoint's stem alone, so a fine-tuned <c>~/ft/codeformer.pth</c> and the official
/// <c>codeformer.pth</c> share <c>codeformer.onnx</c>, and comparing modification times alone would silently serve one's
/// weights for the other.
/// </summary>
public static class ConvertedModelStamp
{
    public const string Suffix = ".source";

    public static string PathFor(string onnxPath) => onnxPath + Suffix;

    /// <summary>Whether <paramref name="onnxPath"/> exists and was converted from <paramref name="checkpointPath"/> as it is now.</summary>
    public static bool Matches(string onnxPath, string checkpointPath)
    {
        string stamp = PathFor(onnxPath);
        return File.Exists(onnxPath) && File.Exists(stamp) && File.ReadAllText(stamp) == Describe(checkpointPath);
    }

    /// <summary>Records that <paramref name="onnxPath"/> was just converted from <paramref name="checkpointPath"/>.</summary>
    public static void Write(string onnxPath, string checkpointPath)
    {
        string stamp = PathFor(onnxPath);
        string temporary = stamp + ".tmp";
        File.WriteAllText(temporary, Describe(checkpointPath));
        File.Move(temporary, stamp, overwrite: true);
    }

    private static string Describe(string checkpointPath)
    {
        var file = new FileInfo(checkpointPath);
        return string.Join('\n',
            file.FullName,
            file.Length.ToString(CultureInfo.InvariantCulture),
            file.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture));
    }
}
