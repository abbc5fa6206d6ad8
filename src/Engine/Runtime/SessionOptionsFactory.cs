using System.Globalization;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Network.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Engine.Runtime;

/// <summary>The provider an engine's sessions run on, and why the CPU was used when CUDA was asked for.</summary>
/// <param name="Description">"CUDA", "CPU", or "CPU (CUDA unavailable: …)" for the fallback.</param>
public sealed record ExecutionProviderChoice(bool IsGpu, string Description, string? FallbackReason);

/// <summary>
/// Builds the <see cref="SessionOptions"/> every model class of the engine takes. The engine references only
/// the managed ONNX Runtime API; whether CUDA exists depends on the native package the host ships, so it is
/// discovered here at run time rather than assumed.
/// </summary>
internal static class SessionOptionsFactory
{
    public const string CpuProvider = "CPU";
    public const string CudaProvider = "CUDA";

    /// <summary>
    /// Device and threads only, for benches and tests; engines build their options from the whole
    /// <see cref="EngineSettings"/> (CUDA options, requireGpu) with the other overload.
    /// Creates options with all graph optimisations on. <paramref name="chosenProvider"/> starts with the provider
    /// that will run ("CUDA" or "CPU"); when <see cref="ExecutionDevice.Auto"/> fell back to the CPU it goes on with
    /// the reason, e.g. <c>CPU (CUDA unavailable: EntryPointNotFoundException: …)</c>. The caller owns the result.
    /// </summary>
    /// <exception cref="GpuUnavailableException"><see cref="ExecutionDevice.Cuda"/> was asked for and CUDA cannot be used.</exception>
    public static SessionOptions Create(ExecutionDevice device, int? intraOpThreads, out string chosenProvider)
    {
        var options = Create(new EngineSettings { Device = device, IntraOpThreads = intraOpThreads }, out var choice);
        chosenProvider = choice.Description;
        return options;
    }

    /// <summary>
    /// Options for <paramref name="settings"/>: CUDA with the settings' provider options when CUDA is asked for or
    /// available, else the CPU. CUDA is proven usable by running a one-node probe graph on it, because a GPU package
    /// whose libraries load can still fail at the first session (no device visible, driver too old).
    /// </summary>
    /// <exception cref="GpuUnavailableException">Device is cuda, or <see cref="EngineSettings.RequireGpu"/> is set, and CUDA cannot be used.</exception>
    public static SessionOptions Create(EngineSettings settings, out ExecutionProviderChoice choice)
    {
        if (settings.IntraOpThreads is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), $"Intra-op thread count must be at least 1 (or null for ONNX Runtime's default), got {settings.IntraOpThreads}.");
        }
        switch (settings.Device)
        {
            case ExecutionDevice.Cpu when !settings.RequireGpu:
                choice = new ExecutionProviderChoice(false, CpuProvider, null);
                return CreateBase(settings.IntraOpThreads);
            case ExecutionDevice.Cpu:
                throw new GpuUnavailableException("requireGpu is set but the device is 'cpu'");
            case ExecutionDevice.Cuda:
            case ExecutionDevice.Auto:
                if (TryCreateCuda(settings, out var cuda, out string reason, out var failure))
                {
                    choice = new ExecutionProviderChoice(true, CudaProvider, null);
                    return cuda;
                }
                if (settings.Device == ExecutionDevice.Cuda || settings.RequireGpu)
                {
                    throw new GpuUnavailableException(reason, failure);
                }
                choice = new ExecutionProviderChoice(false, $"{CpuProvider} (CUDA unavailable: {reason})", reason);
                return CreateBase(settings.IntraOpThreads);
            default:
                throw new ArgumentOutOfRangeException(nameof(settings), settings.Device, "Unknown execution device.");
        }
    }

    /// <summary>
    /// Run-time configuration of a CodeFormer session for these settings and provider: on CUDA without the arena, the
    /// arena is shrunk after every Run (ONNX Runtime has no switch to turn the CUDA arena off). One place, so that the
    /// photo engine and the single-face engines (colorize, inpaint, video) run their sessions alike.
    /// </summary>
    public static Dictionary<string, string> CodeFormerRunConfig(EngineSettings settings, ExecutionProviderChoice provider)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(provider);
        var runConfig = new Dictionary<string, string>();
        if (provider.IsGpu && !settings.Cuda.UseArena)
        {
            runConfig["memory.enable_memory_arena_shrinkage"] = $"gpu:{settings.Cuda.DeviceId}";
        }
        return runConfig;
    }

    /// <summary>The CUDA provider options as ONNX Runtime names them (documented in its CUDA execution provider page).</summary>
    public static Dictionary<string, string> CudaProviderOptions(CudaSettings cuda)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["device_id"] = cuda.DeviceId.ToString(CultureInfo.InvariantCulture),
            ["arena_extend_strategy"] = cuda.ArenaExtendStrategy == CudaArenaExtendStrategy.SameAsRequested ? "kSameAsRequested" : "kNextPowerOfTwo",
            ["cudnn_conv_algo_search"] = cuda.CudnnConvAlgoSearch switch
            {
                CudnnConvAlgorithmSearch.Heuristic => "HEURISTIC",
                CudnnConvAlgorithmSearch.Default => "DEFAULT",
                _ => "EXHAUSTIVE",
            },
            ["do_copy_in_default_stream"] = cuda.CopyInDefaultStream ? "1" : "0",
            // The face batches are always the same 512² shape: let cuDNN use as much workspace as the fastest kernel wants.
            ["cudnn_conv_use_max_workspace"] = "1",
        };
        if (cuda.GpuMemoryLimitBytes is { } limit)
        {
            options["gpu_mem_limit"] = limit.ToString(CultureInfo.InvariantCulture);
        }
        return options;
    }

    private static SessionOptions CreateBase(int? intraOpThreads)
    {
        var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        // ONNX Runtime's worker threads spin for a while after each Run by default. The pipeline runs its own
        // parallel loops (resize, warp, blend, encode) right after the network and the detector, and on a 2-core
        // machine the spinning threads took the cores from them: the background resize measured 42 ms instead of 8.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        // The same for the inter-op pool, which exists only if a host turns on parallel execution of independent nodes:
        // in a worker where several photos' detectors run at once, a spinning pool burns cores the other jobs need.
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
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

    private static bool TryCreateCuda(EngineSettings settings, out SessionOptions options, out string reason, out Exception? failure)
    {
        var candidate = CreateBase(settings.IntraOpThreads);
        try
        {
            using (var cudaOptions = new OrtCUDAProviderOptions())
            {
                cudaOptions.UpdateOptions(CudaProviderOptions(settings.Cuda));
                candidate.AppendExecutionProvider_CUDA(cudaOptions);
            }
            Probe(candidate);
            options = candidate;
            reason = "";
            failure = null;
            return true;
        }
        // The CPU-only native package lacks the entry point; the GPU package without CUDA libraries fails to load
        // the provider library; a host without natives at all has no onnxruntime library; a GPU package whose libraries
        // load but that sees no device fails at the probe session. All mean "no CUDA here".
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException or TypeInitializationException)
        {
            // The failed append may have left provider state half-registered: start the fallback from fresh options.
            candidate.Dispose();
            options = null!;
            failure = ex;
            reason = $"{ex.GetType().Name}: {FirstLine(ex.Message)}";
            return false;
        }
    }

    /// <summary>Opens and runs a one-node graph (y = x + 1) with the options, so a CUDA that cannot run fails here, at start.</summary>
    private static void Probe(SessionOptions options)
    {
        var graph = new OnnxGraph("cuda_probe");
        string x = graph.AddInput("x", OnnxElementType.Float, 1, 4);
        graph.Alias(graph.Op("Add", "plus_one", [x, graph.AddScalarFloat("one", 1f)]), "y");
        graph.AddOutput("y", OnnxElementType.Float, 1, 4);
        using var stream = new MemoryStream();
        OnnxModelWriter.Write(graph, stream);
        using var session = new InferenceSession(stream.ToArray(), options);
        float[] input = [1, 2, 3, 4];
        using var value = OrtValue.CreateTensorValueFromMemory(input, [1, 4]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["x"], [value], ["y"]);
    }

    private static string FirstLine(string message)
    {
        int end = message.IndexOfAny(['\r', '\n']);
        return (end < 0 ? message : message[..end]).Trim();
    }
}
