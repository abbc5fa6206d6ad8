using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace CodeFormer.Network.Onnx;

/// <summary>ONNX tensor element types (TensorProto.DataType) that this project writes.</summary>
public enum OnnxElementType
{
    Float = 1,
    UInt8 = 2,
    Int32 = 6,
    Int64 = 7,
    Bool = 9,
    Float16 = 10,
    Double = 11,
}

/// <summary>A dimension of a graph input or output: a fixed size or a symbolic name such as "N".</summary>
public readonly record struct OnnxDim(long? Value, string? Symbol)
{
    public static implicit operator OnnxDim(long value) => new(value, null);
    public static implicit operator OnnxDim(string symbol) => new(null, symbol);
}

/// <summary>A node attribute; exactly one of the value properties is set.</summary>
public sealed record OnnxAttribute(string Name)
{
    public long? Int { get; init; }
    public float? Float { get; init; }
    public string? String { get; init; }
    public long[]? Ints { get; init; }
    public float[]? Floats { get; init; }
    public OnnxTensor? Tensor { get; init; }

    public static OnnxAttribute Of(string name, long value) => new(name) { Int = value };
    public static OnnxAttribute Of(string name, float value) => new(name) { Float = value };
    public static OnnxAttribute Of(string name, string value) => new(name) { String = value };
    public static OnnxAttribute Of(string name, params long[] values) => new(name) { Ints = values };
    public static OnnxAttribute Of(string name, OnnxTensor value) => new(name) { Tensor = value };
}

/// <summary>An initializer or constant: raw little-endian bytes with element type and shape.</summary>
public sealed record OnnxTensor(string Name, OnnxElementType ElementType, long[] Dims, byte[] RawData)
{
    public static OnnxTensor FromFloats(string name, long[] dims, ReadOnlySpan<float> values)
        => new(name, OnnxElementType.Float, dims, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>Float32 values stored as IEEE half precision (round to nearest even).</summary>
    public static OnnxTensor FromFloatsAsHalf(string name, long[] dims, ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), (Half)values[i]);
        }
        return new(name, OnnxElementType.Float16, dims, bytes);
    }

    public static OnnxTensor FromInt64s(string name, long[] dims, ReadOnlySpan<long> values)
        => new(name, OnnxElementType.Int64, dims, MemoryMarshal.AsBytes(values).ToArray());

    public static OnnxTensor FromDoubles(string name, long[] dims, ReadOnlySpan<double> values)
        => new(name, OnnxElementType.Double, dims, MemoryMarshal.AsBytes(values).ToArray());
}

public sealed record OnnxNode(string OpType, string[] Inputs, string[] Outputs, string Name, OnnxAttribute[] Attributes, string Domain = "");

public sealed record OnnxValueInfo(string Name, OnnxElementType ElementType, OnnxDim[] Shape);
