using System.Buffers.Binary;
using System.Text;

namespace CodeFormer.Network.Onnx;

/// <summary>
/// Just enough of the protobuf wire format to write ONNX: varints, fixed32 and length-delimited fields.
/// Messages are built bottom-up into byte arrays; only the outermost graph streams its parts, so a
/// 376 MB model is never concatenated into one buffer twice.
/// </summary>
internal sealed class ProtobufWriter
{
    private readonly MemoryStream _buffer = new();

    public void WriteVarintField(int field, long value)
    {
        WriteTag(field, 0);
        WriteVarint(_buffer, (ulong)value);
    }

    public void WriteFloatField(int field, float value)
    {
        WriteTag(field, 5);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        _buffer.Write(bytes);
    }

    public void WriteStringField(int field, string value) => WriteBytesField(field, Encoding.UTF8.GetBytes(value));

    public void WriteBytesField(int field, ReadOnlySpan<byte> value)
    {
        WriteTag(field, 2);
        WriteVarint(_buffer, (ulong)value.Length);
        _buffer.Write(value);
    }

    public void WriteMessageField(int field, ProtobufWriter message) => WriteBytesField(field, message.ToArray());

    /// <summary>Repeated int64 as a packed field.</summary>
    public void WritePackedInt64(int field, IEnumerable<long> values)
    {
        var packed = new MemoryStream();
        foreach (var v in values)
        {
            WriteVarint(packed, (ulong)v);
        }
        WriteBytesField(field, packed.ToArray());
    }

    /// <summary>Repeated float as a packed field.</summary>
    public void WritePackedFloat(int field, IReadOnlyList<float> values)
    {
        var bytes = new byte[values.Count * 4];
        for (int i = 0; i < values.Count; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }
        WriteBytesField(field, bytes);
    }

    public byte[] ToArray() => _buffer.ToArray();

    public long Length => _buffer.Length;

    private void WriteTag(int field, int wireType) => WriteVarint(_buffer, (ulong)((field << 3) | wireType));

    public static void WriteVarint(Stream stream, ulong value)
    {
        while (value >= 0x80)
        {
            stream.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        stream.WriteByte((byte)value);
    }

    public static int VarintSize(ulong value)
    {
        int size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }
        return size;
    }
}
