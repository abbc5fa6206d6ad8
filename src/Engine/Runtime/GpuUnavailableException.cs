namespace CodeFormer.Engine.Runtime;

/// <summary>
/// CUDA was required (<c>Engine:device=cuda</c> or <c>Engine:requireGpu=true</c>) but cannot be used here.
/// <see cref="Reason"/> says why (missing native package, missing CUDA or cuDNN library, no visible GPU), so a worker
/// that refuses to start can log exactly that instead of silently running minutes per photo on the CPU.
/// </summary>
public sealed class GpuUnavailableException(string reason, Exception? innerException = null)
    : InvalidOperationException(
        $"The CUDA execution provider is not available: {reason}. The host needs the Microsoft.ML.OnnxRuntime.Gpu.Linux " +
        "native package with its CUDA and cuDNN libraries and a visible GPU; set device 'auto' or 'cpu' (and requireGpu false) to run on the CPU instead.",
        innerException)
{
    public string Reason { get; } = reason;
}
