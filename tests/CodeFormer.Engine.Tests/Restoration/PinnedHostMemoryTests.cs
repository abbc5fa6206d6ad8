using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Restoration;
using CodeFormer.Engine.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Tests.Restoration;

/// <summary>
/// CUDA-pinned staging of the face batches is for CUDA sessions with IO binding only. This test project has no CUDA, so
/// what is checked here is that the CPU path never asks for it, and that asking for it where it cannot exist is refused
/// at open with the reason. The pinned path itself is measured on a GPU by bench/device-check.sh ("pinned_transfer").
/// </summary>
public sealed class PinnedHostMemoryTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly SessionOptions _options = new();

    public void Dispose()
    {
        _options.Dispose();
        _folder.Dispose();
    }

    private static readonly ExecutionProviderChoice Cpu = new(false, SessionOptionsFactory.CpuProvider, null);
    private static readonly ExecutionProviderChoice Cuda = new(true, SessionOptionsFactory.CudaProvider, null);

    [Fact]
    public void The_cpu_path_never_stages_in_pinned_memory_whatever_the_settings()
    {
        var settings = new EngineSettings { Cuda = { PinnedHostMemory = true, DeviceId = 1 } };

        Assert.Null(RestorationEngineFactory.PinnedDeviceFor(settings, Cpu, ioBinding: true));
        Assert.Null(RestorationEngineFactory.PinnedDeviceFor(settings, Cpu, ioBinding: false));
    }

    [Fact]
    public void Cuda_with_io_binding_stages_in_the_pinned_memory_of_the_configured_device()
    {
        var settings = new EngineSettings { Cuda = { DeviceId = 1 } };

        Assert.Equal(1, RestorationEngineFactory.PinnedDeviceFor(settings, Cuda, ioBinding: true));
        Assert.Null(RestorationEngineFactory.PinnedDeviceFor(settings, Cuda, ioBinding: false));
        settings.Cuda.PinnedHostMemory = false;
        Assert.Null(RestorationEngineFactory.PinnedDeviceFor(settings, Cuda, ioBinding: true));
    }

    [Fact]
    public void Pinned_memory_on_a_cpu_session_is_refused_at_open_naming_the_reason()
    {
        string path = _folder.Write("scaling.onnx", FakeCodeFormer.Scaling());

        var error = Assert.Throws<GpuUnavailableException>(() => CodeFormerSession.Open(path, _options, maxBatch: 2, ioBinding: true, cudaPinnedDevice: 0));

        Assert.Contains("'CudaPinned'", error.Message);
        Assert.Contains("does not run on the CUDA provider", error.Message);
    }

    [Fact]
    public void Pinned_memory_without_io_binding_is_refused()
    {
        string path = _folder.Write("scaling.onnx", FakeCodeFormer.Scaling());

        var error = Assert.Throws<ArgumentException>(() => CodeFormerSession.Open(path, _options, maxBatch: 2, cudaPinnedDevice: 0));

        Assert.Contains("ioBinding", error.Message);
    }

    [Fact]
    public void A_cpu_session_with_io_binding_uses_ordinary_memory_and_gives_the_expected_faces()
    {
        string path = _folder.Write("scaling.onnx", FakeCodeFormer.Scaling());
        const int count = 3;
        var input = TestModels.RandomValues(count * FakeCodeFormer.FaceLength, seed: 5);
        var output = new float[input.Length];

        using var session = CodeFormerSession.Open(path, _options, maxBatch: 2, ioBinding: true);
        session.Restore(input, count, 0.7, output);

        Assert.False(session.UsesPinnedHostMemory);
        var expected = FakeCodeFormer.Expected(input, count, 1.7f);
        for (int i = 0; i < input.Length; i++)
        {
            Assert.Equal(expected[i], output[i], 1e-5f);
        }
    }
}
