namespace CodeFormer.Engine.Runtime;

/// <summary>Where ONNX Runtime sessions run.</summary>
public enum ExecutionDevice
{
    /// <summary>CUDA when the host ships the CUDA provider and a GPU answers, otherwise CPU.</summary>
    Auto,
    Cpu,
    /// <summary>CUDA or a clear failure: never a silent fallback to a CPU that would take minutes per image.</summary>
    Cuda,
}
