using System.Buffers.Binary;
using System.Text;

namespace CodeFormer.Network.Checkpoints;

/// <summary>
/// Writes an uncompressed ("stored") zip the way PyTorch's own writer does: each entry's data starts on
/// a 64-byte boundary, padded with an extra field 'FB' of 'Z' bytes, so readers can map storages
/// directly. No zip64: a file past 4 GiB is refused rather than written wrongly.
/// </summary>
internal sealed class StoredZipWriter(Stream output)
{
    private const int Alignment = 64;
    private const ushort DosDate1980 = (1 << 5) | 1; // 1980-01-01, the zero of DOS dates
    private const ushort PaddingFieldId = 0x4246; // "FB", the id PyTorch uses for its padding field

    private readonly List<(string Name, uint Crc, uint Size, uint Offset)> _written = [];

    public void AddEntry(string name, ReadOnlySpan<byte> data)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        long offset = output.Position;
        long dataStartWithoutPadding = offset + 30 + nameBytes.Length + 4;
        int padding = (int)((Alignment - dataStartWithoutPadding % Alignment) % Alignment);
        uint crc = System.IO.Hashing.Crc32.HashToUInt32(data);
        CheckedSize(dataStartWithoutPadding + padding + data.Length, name);
        uint size = (uint)data.Length;

        Span<byte> header = stackalloc byte[30];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0x04034b50);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 20); // version needed: 2.0
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 0); // flags
        BinaryPrimitives.WriteUInt16LittleEndian(header[8..], 0); // method: stored
        BinaryPrimitives.WriteUInt16LittleEndian(header[10..], 0); // time
        BinaryPrimitives.WriteUInt16LittleEndian(header[12..], DosDate1980);
        BinaryPrimitives.WriteUInt32LittleEndian(header[14..], crc);
        BinaryPrimitives.WriteUInt32LittleEndian(header[18..], size);
        BinaryPrimitives.WriteUInt32LittleEndian(header[22..], size);
        BinaryPrimitives.WriteUInt16LittleEndian(header[26..], (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(header[28..], (ushort)(4 + padding));
        output.Write(header);
        output.Write(nameBytes);

        Span<byte> extra = stackalloc byte[4 + Alignment];
        BinaryPrimitives.WriteUInt16LittleEndian(extra, PaddingFieldId);
        BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], (ushort)padding);
        extra[4..].Fill((byte)'Z');
        output.Write(extra[..(4 + padding)]);
        output.Write(data);
        _written.Add((name, crc, size, (uint)offset));
    }

    /// <summary>Writes the central directory; the zip is not readable before this.</summary>
    public void Finish()
    {
        long directoryOffset = output.Position;
        Span<byte> header = stackalloc byte[46];
        foreach (var (name, crc, size, offset) in _written)
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            header.Clear();
            BinaryPrimitives.WriteUInt32LittleEndian(header, 0x02014b50);
            BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 20); // version made by
            BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 20); // version needed
            BinaryPrimitives.WriteUInt16LittleEndian(header[8..], 0);
            BinaryPrimitives.WriteUInt16LittleEndian(header[10..], 0);
            BinaryPrimitives.WriteUInt16LittleEndian(header[12..], 0);
            BinaryPrimitives.WriteUInt16LittleEndian(header[14..], DosDate1980);
            BinaryPrimitives.WriteUInt32LittleEndian(header[16..], crc);
            BinaryPrimitives.WriteUInt32LittleEndian(header[20..], size);
            BinaryPrimitives.WriteUInt32LittleEndian(header[24..], size);
            BinaryPrimitives.WriteUInt16LittleEndian(header[28..], (ushort)nameBytes.Length);
            // extra length, comment length, disk, internal and external attributes stay 0
            BinaryPrimitives.WriteUInt32LittleEndian(header[42..], offset);
            output.Write(header);
            output.Write(nameBytes);
        }
        long directorySize = output.Position - directoryOffset;
        CheckedSize(output.Position, "central directory");
        Span<byte> end = stackalloc byte[22];
        BinaryPrimitives.WriteUInt32LittleEndian(end, 0x06054b50);
        BinaryPrimitives.WriteUInt16LittleEndian(end[8..], (ushort)_written.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(end[10..], (ushort)_written.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(end[12..], (uint)directorySize);
        BinaryPrimitives.WriteUInt32LittleEndian(end[16..], (uint)directoryOffset);
        output.Write(end);
    }

    private void CheckedSize(long endPosition, string what)
    {
        if (endPosition > uint.MaxValue || _written.Count >= ushort.MaxValue)
        {
            throw new NotSupportedException($"Writing '{what}' would pass 4 GiB or 65535 entries, which needs zip64; this writer is for test checkpoints.");
        }
    }
}
