using System.Buffers.Binary;
using System.Runtime.InteropServices;
using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Checkpoints;

/// <summary>
/// Turns a tensor reference into a dense float32 <see cref="Tensor"/>: reads the bytes the view covers,
/// converts float16/bfloat16/float64 to float32 and gathers strided (non-contiguous) views into C order.
/// </summary>
internal static class TorchTensorDecoder
{
    public static Tensor Decode(string name, TorchTensorReference tensor, ITorchStorageSource source)
    {
        var type = tensor.Storage.Type;
        if (!type.IsFloatingPoint)
        {
            throw new CheckpointFormatException($"Tensor '{name}' holds {type} values, not floating point.");
        }
        long count = tensor.ElementCount;
        if (count > Array.MaxLength)
        {
            throw new CheckpointFormatException($"Tensor '{name}' {tensor.ShapeText} has {count} elements, more than one array can hold.");
        }
        var data = new float[count];
        if (count == 0)
        {
            return new Tensor(tensor.Shape, data);
        }
        long lastIndex = tensor.StorageOffset + tensor.Shape.Select((d, i) => (d - 1L) * tensor.Stride[i]).Sum();
        if (lastIndex >= tensor.Storage.ElementCount)
        {
            throw new CheckpointFormatException(
                $"Tensor '{name}' {tensor.ShapeText} at offset {tensor.StorageOffset} with stride ({string.Join(", ", tensor.Stride)}) " +
                $"reaches element {lastIndex}, past the end of its storage '{tensor.Storage.Key}' of {tensor.Storage.ElementCount} elements.");
        }
        long byteOffset = tensor.StorageOffset * type.ElementSize;
        if (IsContiguous(tensor))
        {
            if (type.ScalarType == TorchScalarType.Float32 && !source.IsBigEndian)
            {
                // The common case reads straight into the result: no second copy of a large tensor.
                source.Read(tensor.Storage, byteOffset, MemoryMarshal.AsBytes(data.AsSpan()));
            }
            else
            {
                var raw = new byte[count * type.ElementSize];
                source.Read(tensor.Storage, byteOffset, raw);
                Convert(raw, data, type.ScalarType, source.IsBigEndian);
            }
        }
        else
        {
            long span = lastIndex - tensor.StorageOffset + 1;
            if (span > Array.MaxLength / type.ElementSize)
            {
                throw new CheckpointFormatException($"Tensor '{name}' is a strided view over {span} elements, too many to gather.");
            }
            var raw = new byte[span * type.ElementSize];
            source.Read(tensor.Storage, byteOffset, raw);
            var window = new float[span];
            Convert(raw, window, type.ScalarType, source.IsBigEndian);
            Gather(window, tensor.Shape, tensor.Stride, data);
        }
        return new Tensor(tensor.Shape, data);
    }

    /// <summary>C order up to dimensions of size 1, whose stride torch leaves arbitrary.</summary>
    internal static bool IsContiguous(TorchTensorReference tensor)
    {
        long expected = 1;
        for (int i = tensor.Shape.Length - 1; i >= 0; i--)
        {
            if (tensor.Shape[i] != 1 && tensor.Stride[i] != expected)
            {
                return false;
            }
            expected *= tensor.Shape[i];
        }
        return true;
    }

    /// <summary>Walks the output in C order with an odometer over the indices, reading source[Σ index·stride].</summary>
    private static void Gather(float[] window, int[] shape, long[] stride, float[] output)
    {
        int rank = shape.Length;
        var index = new int[rank];
        long source = 0;
        for (long written = 0; written < output.LongLength; written++)
        {
            output[written] = window[source];
            for (int axis = rank - 1; axis >= 0; axis--)
            {
                if (++index[axis] < shape[axis])
                {
                    source += stride[axis];
                    break;
                }
                source -= (shape[axis] - 1L) * stride[axis];
                index[axis] = 0;
            }
        }
    }

    /// <summary>float64 is narrowed to float32 on purpose: the network runs in float32 (or float16) anyway.</summary>
    private static void Convert(ReadOnlySpan<byte> raw, Span<float> output, TorchScalarType type, bool bigEndian)
    {
        for (int i = 0; i < output.Length; i++)
        {
            output[i] = type switch
            {
                TorchScalarType.Float32 => bigEndian
                    ? BinaryPrimitives.ReadSingleBigEndian(raw.Slice(i * 4, 4))
                    : BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(i * 4, 4)),
                TorchScalarType.Float16 => (float)(bigEndian
                    ? BinaryPrimitives.ReadHalfBigEndian(raw.Slice(i * 2, 2))
                    : BinaryPrimitives.ReadHalfLittleEndian(raw.Slice(i * 2, 2))),
                TorchScalarType.BFloat16 => BitConverter.Int32BitsToSingle((bigEndian
                    ? BinaryPrimitives.ReadUInt16BigEndian(raw.Slice(i * 2, 2))
                    : BinaryPrimitives.ReadUInt16LittleEndian(raw.Slice(i * 2, 2))) << 16),
                TorchScalarType.Float64 => (float)(bigEndian
                    ? BinaryPrimitives.ReadDoubleBigEndian(raw.Slice(i * 8, 8))
                    : BinaryPrimitives.ReadDoubleLittleEndian(raw.Slice(i * 8, 8))),
                _ => throw new CheckpointFormatException($"{type} is not a floating-point type."),
            };
        }
    }
}
