using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Models;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Runtime;
using CodeFormer.Testing;
using static CodeFormer.Engine.Tests.Pipeline.PipelineFixture;

namespace CodeFormer.Engine.Tests.Pipeline;

/// <summary>RestorationEngineFactory with local files only: explicit paths, offline refusals, and what each error says.</summary>
[Collection(PipelineCollection.Name)]
public sealed class EngineFactoryTests(PipelineFixture fixture) : IDisposable
{
    private readonly TempFolder _cache = new();

    public void Dispose() => _cache.Dispose();

    private EngineSettings Settings => new()
    {
        Device = ExecutionDevice.Cpu,
        ModelPath = fixture.IdentityModelPath,
        DetectorModelPath = TestAssets.PathOf(YuNet),
        ModelsDirectory = _cache.Path,
        Offline = true,
    };

    [AssetFact(YuNet, Astronaut)]
    public async Task Explicit_model_paths_make_a_working_engine_without_touching_the_cache()
    {
        var notices = new List<string>();
        using var engine = await RestorationEngineFactory.CreateAsync(Settings, notices.Add);

        var result = engine.Restore(fixture.Photo(Astronaut), new RestorationOptions { Upscale = 1 });

        Assert.Single(result.Faces);
        Assert.Equal(512, engine.FaceSize);
        Assert.Contains(notices, n => n.Contains("execution provider", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFileSystemEntries(_cache.Path));
    }

    [AssetFact(YuNet, RetinaFace, Astronaut)]
    public async Task The_retinaface_detector_kind_drives_the_retinaface_model()
    {
        using var engine = await RestorationEngineFactory.CreateAsync(Settings with
        {
            Detector = DetectorKind.RetinaFace,
            DetectorModelPath = TestAssets.PathOf(RetinaFace),
        });

        var result = engine.Restore(fixture.Photo(Astronaut), new RestorationOptions { Upscale = 1 });

        var face = Assert.Single(result.Faces);
        Assert.InRange(face.Score, 0.8f, 1f); // RetinaFace's threshold is 0.8 (reference B.3)
    }

    [AssetFact(YuNet)]
    public async Task A_missing_explicit_model_is_named()
    {
        string missing = Path.Combine(_cache.Path, "nowhere.onnx");
        var error = await Assert.ThrowsAsync<FileNotFoundException>(() => RestorationEngineFactory.CreateAsync(Settings with { ModelPath = missing }));
        Assert.Contains(missing, error.Message);
    }

    [AssetFact(YuNet)]
    public async Task Offline_without_codeformer_says_what_to_fetch_and_where()
    {
        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => RestorationEngineFactory.CreateAsync(Settings with { ModelPath = null }));
        Assert.Contains(ModelRegistry.CodeFormer.Url.ToString(), error.Message);
        Assert.Contains(Path.Combine(_cache.Path, "codeformer.pth"), error.Message);
    }

    [AssetFact(YuNet)]
    public async Task Background_upsampling_needs_an_explicit_onnx_export_not_the_official_checkpoint()
    {
        var withoutModel = await Assert.ThrowsAsync<ModelUnavailableException>(() =>
            RestorationEngineFactory.CreateAsync(Settings with { NeedsBackgroundModel = true }));
        Assert.Contains("ONNX", withoutModel.Message);
        Assert.Contains("--bg-model", withoutModel.Message);
        Assert.DoesNotContain("save it as", withoutModel.Message);

        string checkpoint = Path.Combine(_cache.Path, "RealESRGAN_x2plus.pth");
        var withCheckpoint = await Assert.ThrowsAsync<ModelUnavailableException>(() =>
            RestorationEngineFactory.CreateAsync(Settings with { NeedsBackgroundModel = true, BackgroundModelPath = checkpoint }));
        Assert.Contains(checkpoint, withCheckpoint.Message);
        Assert.Empty(Directory.GetFileSystemEntries(_cache.Path));
    }
}
