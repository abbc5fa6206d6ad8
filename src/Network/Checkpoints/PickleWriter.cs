using System.Buffers.Binary;
using System.Text;

namespace CodeFormer.Network.Checkpoints;

/// <summary>
/// Emits protocol-2 pickle opcodes, the subset <c>torch.save</c> uses for a state dict. Nothing is
/// memoised: the memo only saves space for repeated objects, and a state dict repeats none that matter.
/// </summary>
internal sealed class PickleWriter(Stream output)
{
    public void Protocol(byte version) => Write(0x80, version);

    public void Stop() => Write((byte)'.');

    public void Mark() => Write((byte)'(');

    public void EmptyDict() => Write((byte)'}');

    public void EmptyTuple() => Write((byte)')');

    public void EmptyList() => Write((byte)']');

    public void Appends() => Write((byte)'e');

    public void None() => Write((byte)'N');

    public void Bool(bool value) => Write(value ? (byte)0x88 : (byte)0x89);

    public void Global(string module, string name) => Write(Encoding.ASCII.GetBytes($"c{module}\n{name}\n"));

    public void Reduce() => Write((byte)'R');

    public void PersistentId() => Write((byte)'Q');

    public void SetItems() => Write((byte)'u');

    /// <summary>Closes a tuple: the short forms for up to three items (which need no MARK), else TUPLE after a MARK.</summary>
    public void Tuple(int count) => Write(count switch
    {
        0 => (byte)')',
        1 => (byte)0x85,
        2 => (byte)0x86,
        3 => (byte)0x87,
        _ => (byte)'t',
    });

    /// <summary>A tuple of integers, e.g. a tensor's size or stride.</summary>
    public void IntTuple(IReadOnlyList<long> values)
    {
        if (values.Count > 3)
        {
            Mark();
        }
        foreach (long value in values)
        {
            Int(value);
        }
        Tuple(values.Count);
    }

    public void String(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Span<byte> header = stackalloc byte[5];
        header[0] = (byte)'X'; // BINUNICODE
        BinaryPrimitives.WriteUInt32LittleEndian(header[1..], (uint)bytes.Length);
        output.Write(header);
        output.Write(bytes);
    }

    /// <summary>The smallest encoding Python's pickler would pick: BININT1, BININT2, BININT or LONG1.</summary>
    public void Int(long value)
    {
        Span<byte> buffer = stackalloc byte[10];
        if (value is >= 0 and <= byte.MaxValue)
        {
            Write((byte)'K', (byte)value);
        }
        else if (value is >= 0 and <= ushort.MaxValue)
        {
            buffer[0] = (byte)'M';
            BinaryPrimitives.WriteUInt16LittleEndian(buffer[1..], (ushort)value);
            output.Write(buffer[..3]);
        }
        else if (value is >= int.MinValue and <= int.MaxValue)
        {
            buffer[0] = (byte)'J';
            BinaryPrimitives.WriteInt32LittleEndian(buffer[1..], (int)value);
            output.Write(buffer[..5]);
        }
        else
        {
            buffer[0] = 0x8a; // LONG1 with 8 bytes of two's complement
            buffer[1] = 8;
            BinaryPrimitives.WriteInt64LittleEndian(buffer[2..], value);
            output.Write(buffer);
        }
    }

    /// <summary>LONG1 with the minimal two's-complement bytes, for integers beyond 64 bits (torch's magic number).</summary>
    public void Long(System.Numerics.BigInteger value)
    {
        var bytes = value.ToByteArray(isUnsigned: false, isBigEndian: false);
        Write(0x8a, (byte)bytes.Length);
        output.Write(bytes);
    }

    private void Write(params ReadOnlySpan<byte> bytes) => output.Write(bytes);
}
