using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Runtime;

/// <summary>
/// Builds the <see cref="SessionOptions"/> every model class of the engine takes. The engine references only
/// the managed ONNX Runtime API; whether CUDA exists depends on the native package the host ships, so it is
/// discovered here at run time rather than assumed.
/// </summary>
public static class SessionOptionsFactory
{
    public const string CpuProvider = "CPU";
    public const string CudaProvider = "CUDA";

    /// <summary>
    /// Creates options with all graph optimisations on. <paramref name="chosenProvider"/> starts with the provider
    /// that will run ("CUDA" or "CPU"); when <see cref="ExecutionDevice.Auto"/> fell back to the CPU it goes on with
    /// the reason, e.g. <c>CPU (CUDA unavailable: EntryPointNotFoundException: …)</c>. The caller owns the result.
    /// </summary>
    /// <exception cref="InvalidOperationException"><see cref="ExecutionDevice.Cuda"/> was asked for and CUDA cannot be used.</exception>
    public static SessionOptions Create(ExecutionDevice device, int? intraOpThreads, out string chosenProvider)
    {
        if (intraOpThreads is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(intraOpThreads), $"Intra-op thread count must be at least 1 (or null for ONNX Runtime's default), got {intraOpThreads}.");
        }
        switch (device)
        {
            case ExecutionDevice.Cpu:
                chosenProvider = CpuProvider;
                return CreateBase(intraOpThreads);
            case ExecutionDevice.Cuda:
                if (TryCreateCuda(intraOpThreads, out var cuda, out string reason, out var failure))
                {
                    chosenProvider = CudaProvider;
                    return cuda;
                }
                throw new InvalidOperationException(
                    $"The CUDA execution provider is not available: {reason}. The host needs the Microsoft.ML.OnnxRuntime.Gpu.Linux " +
                    "native package with its CUDA and cuDNN libraries and a visible GPU; use device 'auto' or 'cpu' to run on the CPU instead.", failure);
            case ExecutionDevice.Auto:
                if (TryCreateCuda(intraOpThreads, out var auto, out string why, out _))
                {
                    chosenProvider = CudaProvider;
                    return auto;
                }
                chosenProvider = $"{CpuProvider} (CUDA unavailable: {why})";
                return CreateBase(intraOpThreads);
            default:
                throw new ArgumentOutOfRangeException(nameof(device), device, "Unknown execution device.");
        }
    }

    private static SessionOptions CreateBase(int? intraOpThreads)
    {
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        // ONNX Runtime's worker threads spin for a while after each Run by default. The pipeline runs its own
        // parallel loops (resize, warp, blend, encode) right after the network and the detector, and on a 2-core
        // machine the spinning threads took the cores from them: the background resize measured 42 ms instead of 8.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        // No CPU memory arena: with it, ONNX Runtime keeps the largest activation memory a Run ever needed for the life
        // of the session (about 900 MiB for CodeFormer at one 512² face; 510–590 MiB while a Run lasts without it), and that memory then sits under the photo's own
        // peak (the upscaled canvas and the encode) that comes after the network. Without it the activations are
        // allocated per Run and given back to the system when the Run ends. Measured by `bench memory` (docs/benchmarks.md).
        options.EnableCpuMemArena = false;
        if (intraOpThreads is { } threads)
        {
            options.IntraOpNumThreads = threads;
        }
        return options;
    }

    private static bool TryCreateCuda(int? intraOpThreads, out SessionOptions options, out string reason, out Exception? failure)
    {
        var candidate = CreateBase(intraOpThreads);
        try
        {
            candidate.AppendExecutionProvider_CUDA(0);
            options = candidate;
            reason = "";
            failure = null;
            return true;
        }
        // The CPU-only native package lacks the entry point; the GPU package without CUDA libraries fails to load
        // the provider library; a host without natives at all has no onnxruntime library. All mean "no CUDA here".
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            // The failed append may have left provider state half-registered: start the fallback from fresh options.
            candidate.Dispose();
            options = null!;
            failure = ex;
            reason = $"{ex.GetType().Name}: {FirstLine(ex.Message)}";
            return false;
        }
    }

    private static string FirstLine(string message)
    {
        int end = message.IndexOfAny(['\r', '\n']);
        return (end < 0 ? message : message[..end]).Trim();
    }
}
