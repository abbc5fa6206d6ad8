using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Models;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Runtime;
using CodeFormer.Network.Checkpoints;
using CodeFormer.Network.RealEsrgan;
using CodeFormer.Network.Weights;
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
        var log = new RecordingLogger<RestorationEngineFactory>();
        using var engine = await new RestorationEngineFactory(log, new HttpClient()).CreateAsync(Settings);
        var notices = log.Messages;

        var result = engine.Restore(fixture.Photo(Astronaut), new RestorationOptions { Upscale = 1 });

        Assert.Single(result.Faces);
        Assert.Equal(512, engine.FaceSize);
        Assert.Contains(log.Messages, n => n.Contains("execution provider", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFileSystemEntries(_cache.Path));
    }

    [AssetFact(YuNet, RetinaFace, Astronaut)]
    public async Task The_retinaface_detector_kind_drives_the_retinaface_model()
    {
        using var engine = await RestorationEngineFactory.WithoutLogging().CreateAsync(Settings with
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
        var error = await Assert.ThrowsAsync<FileNotFoundException>(() => RestorationEngineFactory.WithoutLogging().CreateAsync(Settings with { ModelPath = missing }));
        Assert.Contains(missing, error.Message);
    }

    [AssetFact(YuNet)]
    public async Task Offline_without_codeformer_says_what_to_fetch_and_where()
    {
        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() => RestorationEngineFactory.WithoutLogging().CreateAsync(Settings with { ModelPath = null }));
        Assert.Contains(ModelRegistry.CodeFormer.Url.ToString(), error.Message);
        Assert.Contains(Path.Combine(_cache.Path, "codeformer.pth"), error.Message);
    }

    [AssetFact(YuNet)]
    public async Task Offline_background_upsampling_without_the_checkpoint_says_what_to_fetch_and_where()
    {
        var error = await Assert.ThrowsAsync<ModelUnavailableException>(() =>
            RestorationEngineFactory.WithoutLogging().CreateAsync(Settings with { NeedsBackgroundModel = true }));

        Assert.Contains(ModelRegistry.RealEsrganX2.Url.ToString(), error.Message);
        Assert.Contains(Path.Combine(_cache.Path, "RealESRGAN_x2plus.pth"), error.Message);
        Assert.Empty(Directory.GetFileSystemEntries(_cache.Path));
    }

    [AssetFact(YuNet, HopperTiny)]
    public async Task An_explicit_realesrgan_checkpoint_is_converted_once_into_the_cache_and_upsamples_the_background()
    {
        using var checkpoints = new TempFolder();
        string checkpoint = Path.Combine(checkpoints.Path, "tiny_x2.pth");
        var tiny = RrdbNetArchitecture.Tiny;
        TorchCheckpointWriter.WriteZip(checkpoint, new Dictionary<string, WeightSet>
        {
            ["params_ema"] = RandomWeights.Create(new RrdbNetParameterLayout(tiny).Parameters, 3),
        });
        var settings = Settings with { NeedsBackgroundModel = true, BackgroundModelPath = checkpoint };
        var log = new RecordingLogger<RestorationEngineFactory>();
        var factory = new RestorationEngineFactory(log, new HttpClient());
        string converted = Path.Combine(_cache.Path, "tiny_x2.onnx");

        using (var engine = await factory.CreateAsync(settings))
        {
            var result = engine.Restore(fixture.Photo(HopperTiny), new RestorationOptions { Upscale = 2, BackgroundUpsample = true });
            Assert.Equal((1024, 1024), (result.Width, result.Height));
        }

        Assert.Contains(log.Messages, n => n.Contains($"converting {checkpoint}", StringComparison.Ordinal));
        Assert.True(File.Exists(converted));
        Assert.True(ConvertedModelStamp.Matches(converted, checkpoint));

        // A second engine reuses the conversion; a changed checkpoint is converted again.
        log.Clear();
        using (await factory.CreateAsync(settings))
        {
        }
        Assert.DoesNotContain(log.Messages, n => n.Contains("converting", StringComparison.Ordinal));
        File.SetLastWriteTimeUtc(checkpoint, DateTime.UtcNow.AddMinutes(1));
        using (await factory.CreateAsync(settings))
        {
        }
        Assert.Contains(log.Messages, n => n.Contains($"converting {checkpoint}", StringComparison.Ordinal));
    }

    [AssetFact(YuNet)]
    public async Task A_missing_explicit_realesrgan_onnx_is_named()
    {
        string missing = Path.Combine(_cache.Path, "x2.onnx");
        var error = await Assert.ThrowsAsync<FileNotFoundException>(() =>
            RestorationEngineFactory.WithoutLogging().CreateAsync(Settings with { NeedsBackgroundModel = true, BackgroundModelPath = missing }));
        Assert.Contains(missing, error.Message);
    }
}
