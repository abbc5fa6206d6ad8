using CodeFormer.Engine.Models;

namespace CodeFormer.Engine.Tests.Models;

public sealed class ConvertedModelStampTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string File(string relative, string content, DateTime? writeTimeUtc = null)
    {
        string path = Path.Combine(_folder.Path, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, content);
        System.IO.File.SetLastWriteTimeUtc(path, writeTimeUtc ?? new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        return path;
    }

    [Fact]
    public void A_conversion_is_reused_only_for_the_checkpoint_it_came_from()
    {
        string official = File("cache/codeformer.pth", "official weights");
        string fineTuned = File("finetuned/codeformer.pth", "fine-tuned weights");
        string onnx = File("cache/codeformer.onnx", "converted", new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc));

        Assert.False(ConvertedModelStamp.Matches(onnx, official), "a conversion without a stamp was trusted");
        ConvertedModelStamp.Write(onnx, fineTuned);

        Assert.True(ConvertedModelStamp.Matches(onnx, fineTuned));
        // The official checkpoint is older than the conversion, which a modification-time check would have reused.
        Assert.False(ConvertedModelStamp.Matches(onnx, official));
    }

    [Fact]
    public void A_checkpoint_rewritten_in_place_is_converted_again()
    {
        string checkpoint = File("codeformer.pth", "version 1");
        string onnx = File("codeformer.onnx", "converted");
        ConvertedModelStamp.Write(onnx, checkpoint);
        Assert.True(ConvertedModelStamp.Matches(onnx, checkpoint));

        File("codeformer.pth", "version 2, longer", new DateTime(2023, 6, 1, 0, 0, 0, DateTimeKind.Utc));

        Assert.False(ConvertedModelStamp.Matches(onnx, checkpoint));
    }

    [Fact]
    public void A_missing_model_never_matches()
    {
        string checkpoint = File("codeformer.pth", "weights");
        string onnx = File("codeformer.onnx", "converted");
        ConvertedModelStamp.Write(onnx, checkpoint);
        System.IO.File.Delete(onnx);

        Assert.False(ConvertedModelStamp.Matches(onnx, checkpoint));
        Assert.False(System.IO.File.Exists(ConvertedModelStamp.PathFor(onnx) + ".tmp"));
    }
}
