using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Runtime;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.GpuRunner.Jobs;

/// <summary>
/// "cuda" or "cpu" for the usage record. The engine does not expose the provider it chose, so this adapter infers it the
/// way the factory decides: CPU when asked for, else CUDA when the native package offers its provider (with requireGpu,
/// the container's default, the engine refuses to start otherwise, so "cuda" is then exact).
/// </summary>
internal static class EngineDevice
{
    public static string Describe(EngineSettings settings)
    {
        if (settings.Device == ExecutionDevice.Cpu)
        {
            return "cpu";
        }
        return OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider") ? "cuda" : "cpu";
    }
}
