using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Runtime;
using CodeFormer.Engine.Tasks;
using CodeFormer.Engine.Tests.Runtime;
using CodeFormer.Engine.Video;
using CodeFormer.Testing;

namespace CodeFormer.Engine.Tests.Tasks;

/// <summary>
/// Colorize, inpaint and video open their sessions from the same EngineSettings path as photo restoration: what the
/// host sets (requireGpu, the CUDA device) reaches them. This machine has no CUDA, so a host that requires the GPU must
/// be refused by every engine alike, never quietly served on the CPU.
/// </summary>
public sealed class SingleFaceEngineSettingsTests
{
    [Fact]
    public async Task RequireGpu_without_cuda_is_refused_by_colorize_inpaint_and_video_as_by_photo_restoration()
    {
        using var models = new TemporaryDirectory();
        var settings = new EngineSettings { Device = ExecutionDevice.Auto, RequireGpu = true, Offline = true, ModelsDirectory = models.Path };
        // The tools are only named: the refusal comes before any ffmpeg process or model file is needed.
        var tools = new FfmpegTools("/usr/bin/ffmpeg", "/usr/bin/ffprobe");

        var photo = await Assert.ThrowsAsync<GpuUnavailableException>(() => RestorationEngineFactory.WithoutLogging().CreateAsync(settings));
        var colorize = await Assert.ThrowsAsync<GpuUnavailableException>(() => FaceTaskEngineFactory.CreateAsync(FaceTask.Colorize, settings, withDetector: true));
        var inpaint = await Assert.ThrowsAsync<GpuUnavailableException>(() => FaceTaskEngineFactory.CreateAsync(FaceTask.Inpaint, settings, withDetector: false));
        var video = await Assert.ThrowsAsync<GpuUnavailableException>(() => VideoRestorer.CreateAsync(settings, tools));

        Assert.Contains(SessionOptionsFactoryTests.NoCuda, photo.Reason);
        Assert.Equal(photo.Message, colorize.Message);
        Assert.Equal(photo.Message, inpaint.Message);
        Assert.Equal(photo.Message, video.Message);
    }

    [Fact]
    public async Task Device_cuda_without_cuda_is_refused_by_the_video_engine_too()
    {
        using var models = new TemporaryDirectory();
        var settings = new EngineSettings { Device = ExecutionDevice.Cuda, Offline = true, ModelsDirectory = models.Path };

        var photo = await Assert.ThrowsAsync<GpuUnavailableException>(() => RestorationEngineFactory.WithoutLogging().CreateAsync(settings));
        var video = await Assert.ThrowsAsync<GpuUnavailableException>(() => VideoRestorer.CreateAsync(settings, new FfmpegTools("/usr/bin/ffmpeg", "/usr/bin/ffprobe")));

        Assert.Equal(photo.Message, video.Message);
    }
}
