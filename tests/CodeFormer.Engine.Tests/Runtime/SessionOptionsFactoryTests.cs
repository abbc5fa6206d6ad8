using CodeFormer.Engine.Runtime;
using CodeFormer.Engine.Tests.Restoration;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Tests.Runtime;

/// <summary>
/// This test project ships the CPU-only native package (Microsoft.ML.OnnxRuntime), which has no CUDA entry point,
/// so CUDA is never available here whatever the machine (ONNX Runtime says so when the CUDA provider options are created): these tests see the fallback on every host.
/// </summary>
public sealed class SessionOptionsFactoryTests
{
    /// <summary>What ONNX Runtime's CPU-only natives say when asked for CUDA provider options.</summary>
    internal const string NoCuda = "CUDA execution provider is not enabled in this build";

    private static readonly byte[] Model = TestModels.Bytes(FakeCodeFormer.Scaling());

    private static void AssertUsable(SessionOptions options)
    {
        using var session = new InferenceSession(Model, options);
        Assert.Equal(2, session.InputMetadata.Count);
    }

    [Fact]
    public void Cpu_uses_the_cpu_provider_with_all_optimisations()
    {
        using var options = SessionOptionsFactory.Create(ExecutionDevice.Cpu, 1, out string provider);

        Assert.Equal("CPU", provider);
        Assert.Equal(GraphOptimizationLevel.ORT_ENABLE_ALL, options.GraphOptimizationLevel);
        Assert.Equal(1, options.IntraOpNumThreads);
        AssertUsable(options);
    }

    [Fact]
    public void Auto_falls_back_to_cpu_and_says_why()
    {
        using var options = SessionOptionsFactory.Create(ExecutionDevice.Auto, null, out string provider);

        Assert.StartsWith("CPU (CUDA unavailable: ", provider);
        Assert.Contains(NoCuda, provider);
        AssertUsable(options);
    }

    [Fact]
    public void Cuda_without_cuda_fails_with_a_clear_message()
    {
        var error = Assert.Throws<GpuUnavailableException>(() => SessionOptionsFactory.Create(ExecutionDevice.Cuda, null, out _));

        Assert.Contains("CUDA execution provider is not available", error.Message);
        Assert.Contains(NoCuda, error.Reason);
        Assert.IsType<OnnxRuntimeException>(error.InnerException);
    }

    [Fact]
    public void Thread_count_below_one_is_refused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => SessionOptionsFactory.Create(ExecutionDevice.Cpu, 0, out _));

        Assert.Contains("got 0", error.Message);
    }
}
