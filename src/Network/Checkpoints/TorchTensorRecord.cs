using System.Runtime.InteropServices;

namespace CodeFormer.Network.Checkpoints;

/// <summary>
/// A tensor to write: a strided view (offset, shape, stride in elements) into a storage array of
/// float, double, Half or long. Tensors given the same array share one storage, as views do in torch.
/// </summary>
internal sealed record TorchTensorRecord(string Name, Array Storage, long StorageOffset, int[] Shape, long[] Stride)
{
    /// <summary>A contiguous float32 tensor that owns its storage: what a state dict usually holds.</summary>
    public static TorchTensorRecord Contiguous(string name, float[] data, int[] shape) =>
        new(name, data, 0, shape, ContiguousStride(shape));

    public static long[] ContiguousStride(int[] shape)
    {
        var stride = new long[shape.Length];
        long step = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            stride[i] = step;
            step *= shape[i];
        }
        return stride;
    }

    public TorchStorageType StorageType => TorchStorageType.Of(Storage switch
    {
        float[] => TorchScalarType.Float32,
        double[] => TorchScalarType.Float64,
        Half[] => TorchScalarType.Float16,
        long[] => TorchScalarType.Int64,
        _ => throw new ArgumentException($"Tensor '{Name}': storage of {Storage.GetType().Name} cannot be written; use float[], double[], Half[] or long[]."),
    });

    /// <summary>The storage's bytes in little-endian order (the machine order here; .NET on big-endian hosts is not a target).</summary>
    public ReadOnlySpan<byte> StorageBytes => Storage switch
    {
        float[] f => MemoryMarshal.AsBytes(f.AsSpan()),
        double[] d => MemoryMarshal.AsBytes(d.AsSpan()),
        Half[] h => MemoryMarshal.AsBytes(h.AsSpan()),
        long[] l => MemoryMarshal.AsBytes(l.AsSpan()),
        _ => throw new ArgumentException($"Tensor '{Name}': unsupported storage {Storage.GetType().Name}."),
    };
}
