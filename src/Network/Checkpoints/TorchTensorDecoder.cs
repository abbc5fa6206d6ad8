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
    /// <param name="pieceElements">Elements read per piece (default 2^28, 1 GiB of float32); tests make it small.</param>
    public static Tensor Decode(string name, TorchTensorReference tensor, ITorchStorageSource source, int pieceElements = 1 << 28)
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
        if (count == 0)
        {
            return new Tensor(tensor.Shape, []);
        }
        // Checked when the pickle was read (TorchPickleGlobals); checked again here because a reference may be built elsewhere.
        long lastIndex;
        try
        {
            lastIndex = tensor.LastStorageIndex();
        }
        catch (OverflowException)
        {
            throw new CheckpointFormatException($"Tensor '{name}' {tensor.ShapeText} with stride ({string.Join(", ", tensor.Stride)}) overflows 64-bit arithmetic.");
        }
        if (lastIndex >= tensor.Storage.ElementCount)
        {
            throw new CheckpointFormatException(
                $"Tensor '{name}' {tensor.ShapeText} at offset {tensor.StorageOffset} with stride ({string.Join(", ", tensor.Stride)}) " +
                $"reaches element {lastIndex}, past the end of its storage '{tensor.Storage.Key}' of {tensor.Storage.ElementCount} elements.");
        }
        // A view that repeats its storage's elements (stride 0, or strides smaller than the extents) can describe
        // gigabytes over a few bytes: 40000 × 40000 with stride (0, 0) over 12 floats allocated 6.4 GB. torch.save writes
        // the tensors of a state dict over their own data, so more elements than the storage holds is refused here,
        // before the tensor is allocated.
        if (count > tensor.Storage.ElementCount)
        {
            throw new CheckpointFormatException(
                $"Tensor '{name}' {tensor.ShapeText} has {count} elements but its storage '{tensor.Storage.Key}' holds only {tensor.Storage.ElementCount}: " +
                "a view that repeats elements is not a weights tensor.");
        }
        // The storage's bytes must be in the file before the tensor is allocated: a storage that claims 1.5 G elements
        // over a 48-byte entry was allocated in full and only then found short.
        source.RequireStored(tensor.Storage);
        var data = new float[count];
        long byteOffset = checked(tensor.StorageOffset * type.ElementSize);
        if (IsContiguous(tensor))
        {
            ReadContiguous(source, tensor.Storage, byteOffset, data, type.ScalarType, type.ElementSize, pieceElements);
        }
        else
        {
            long span = lastIndex - tensor.StorageOffset + 1;
            if (span > Array.MaxLength / type.ElementSize)
            {
                throw new CheckpointFormatException($"Tensor '{name}' is a strided view over {span} elements, too many to gather.");
            }
            var window = new float[span];
            ReadContiguous(source, tensor.Storage, byteOffset, window, type.ScalarType, type.ElementSize, pieceElements);
            Gather(window, tensor.Shape, tensor.Stride, data);
        }
        return new Tensor(tensor.Shape, data);
    }

    /// <summary>
    /// Elements read in pieces of at most 2^28 (1 GiB as float32): a span of bytes is int-indexed, so viewing a float32
    /// tensor of 2 GiB or more as one byte span overflowed. Float32 little-endian reads straight into the result, with no
    /// second copy; other types go through one bounded scratch buffer.
    /// </summary>
    private static void ReadContiguous(ITorchStorageSource source, TorchStorageReference storage, long byteOffset, Span<float> output,
        TorchScalarType scalarType, int elementSize, int piece)
    {
        bool direct = scalarType == TorchScalarType.Float32 && !source.IsBigEndian;
        int step = direct ? piece : Math.Max(1, piece / 8);
        byte[]? raw = direct ? null : new byte[Math.Min(output.Length, step) * (long)elementSize];
        for (int start = 0; start < output.Length; start += Math.Min(step, output.Length - start))
        {
            int n = Math.Min(step, output.Length - start);
            long at = byteOffset + (long)start * elementSize;
            if (direct)
            {
                source.Read(storage, at, MemoryMarshal.AsBytes(output.Slice(start, n)));
            }
            else
            {
                var bytes = raw.AsSpan(0, n * elementSize);
                source.Read(storage, at, bytes);
                Convert(bytes, output.Slice(start, n), scalarType, source.IsBigEndian);
            }
        }
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
