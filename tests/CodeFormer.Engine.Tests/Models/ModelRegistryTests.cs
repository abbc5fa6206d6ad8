using CodeFormer.Engine.Models;
using CodeFormer.Testing;

namespace CodeFormer.Engine.Tests.Models;

public sealed class ModelRegistryTests
{
    [AssetTheory("models/face_detection_yunet_2023mar.onnx", "models/retinaface_mobilenet0.25_640.onnx")]
    [InlineData("yunet", "models/face_detection_yunet_2023mar.onnx")]
    [InlineData("retinaface-mobile0.25", "models/retinaface_mobilenet0.25_640.onnx")]
    public void Registered_detector_hashes_and_sizes_match_the_real_files(string name, string asset)
    {
        var model = ModelRegistry.Find(name);
        var bytes = File.ReadAllBytes(TestAssets.PathOf(asset));

        Assert.Equal(model.SizeBytes, bytes.Length);
        Assert.Equal(model.Sha256, ModelCacheTests.Sha256(bytes));
        Assert.Equal(Path.GetFileName(asset), model.FileName);
    }

    [AssetFact("models/face_detection_yunet_2023mar.onnx")]
    public async Task Real_yunet_file_downloads_through_the_registry_entry_without_a_notice()
    {
        var bytes = await File.ReadAllBytesAsync(TestAssets.PathOf("models/face_detection_yunet_2023mar.onnx"));
        using var server = new LocalModelServer(bytes);
        using var http = new HttpClient();
        var notices = new List<string>();
        var directory = Path.Combine(Path.GetTempPath(), "codeformer-yunet-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var cache = new ModelCache(directory, new ModelDownloader(http, notices.Add));

            var path = await cache.ResolveAsync(ModelRegistry.YuNet with { Url = server.ModelUri }, null);

            Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
            Assert.Empty(notices);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Entries_say_what_they_are()
    {
        Assert.Equal(["codeformer", "codeformer-colorization", "codeformer-inpainting", "yunet", "retinaface-mobile0.25", "realesrgan-x2"], ModelRegistry.All.Select(m => m.Name));
        Assert.All(ModelRegistry.All, m => Assert.Equal("https", m.Url.Scheme));
        Assert.All(ModelRegistry.All.Where(m => m.Sha256 is not null), m => Assert.Matches("^[0-9a-f]{64}$", m.Sha256!));

        Assert.Equal(376_637_898, ModelRegistry.CodeFormer.SizeBytes);
        Assert.Contains("non-commercial", ModelRegistry.CodeFormer.Licence);
        Assert.NotNull(ModelRegistry.CodeFormer.LicenceNotice);
        Assert.Null(ModelRegistry.YuNet.LicenceNotice);

        Assert.Equal(ModelAcquisition.ExportFromUpstream, ModelRegistry.RetinaFaceMobile.Acquisition);
        Assert.Contains("no official ONNX download", ModelRegistry.RetinaFaceMobile.ManualStep);

        Assert.Contains("converted to ONNX on first use", ModelRegistry.RealEsrganX2.Contract);
        Assert.Equal(ModelAcquisition.Download, ModelRegistry.RealEsrganX2.Acquisition);
        Assert.Equal("BSD-3-Clause", ModelRegistry.RealEsrganX2.Licence);
    }

    [Fact]
    public void Unknown_name_lists_the_known_ones()
    {
        Assert.Same(ModelRegistry.YuNet, ModelRegistry.Find("YuNet"));
        var error = Assert.Throws<ArgumentException>(() => ModelRegistry.Find("gfpgan"));
        Assert.Contains("gfpgan", error.Message);
        Assert.Contains("codeformer, codeformer-colorization, codeformer-inpainting, yunet, retinaface-mobile0.25, realesrgan-x2", error.Message);
    }

    [Fact]
    public async Task Export_only_model_is_never_downloaded()
    {
        using var http = new HttpClient();
        var downloader = new ModelDownloader(http);

        var error = await Assert.ThrowsAsync<ModelUnavailableException>(
            () => downloader.DownloadAsync(ModelRegistry.RetinaFaceMobile, Path.Combine(Path.GetTempPath(), "never.onnx")));

        Assert.Contains("no official ONNX download", error.Message);
    }
}
