using System.Buffers.Binary;

namespace CodeFormer.Bench;

/// <summary>
/// Structure-aware mutations of a seed file: bit flips, truncation, duplication of a whole chunk or segment (or of a
/// random slice), edits of a length field to a boundary value, and "cutclose": the file cut short and closed again the
/// way its format ends (a JPEG's EOI marker after a cut anywhere; a PNG's IEND after a cut between chunks inside its
/// image data), so the container is whole but data is missing. A cutclose mutant that decodes is a finding: the gap was
/// filled silently. Seeded: the same seed gives the same cases.
/// </summary>
internal sealed class FuzzMutator(Random random)
{
    public static readonly string[] Kinds = ["bitflip", "truncate", "duplicate", "length", CutClose];

    /// <summary>The kind whose mutants lost data inside a whole container: decoding one is a finding.</summary>
    public const string CutClose = "cutclose";

    private static readonly long[] BoundaryLengths = [0, 1, 2, 7, 13, 0x7F, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF];

    public (string Kind, byte[] Bytes) Mutate(byte[] seed)
    {
        var kind = Kinds[random.Next(Kinds.Length)];
        var bytes = kind switch
        {
            "bitflip" => FlipBits(seed),
            "truncate" => seed[..random.Next(0, seed.Length)],
            "duplicate" => Duplicate(seed),
            CutClose => CutAndClose(seed),
            _ => EditLength(seed),
        };
        // A seed that cannot be cut and closed (not a JPEG, or a PNG with one image data chunk) is truncated instead.
        return bytes is null ? ("truncate", seed[..random.Next(0, seed.Length)]) : (kind, bytes);
    }

    private byte[]? CutAndClose(byte[] seed)
    {
        if (seed.Length > 4 && seed[0] == 0xFF && seed[1] == 0xD8)
        {
            // Cut after the first scan starts (a cut in the headers is only a structural refusal), before the EOI.
            var firstScan = seed.AsSpan().IndexOf([(byte)0xFF, (byte)0xDA]);
            if (firstScan < 0 || firstScan + 4 >= seed.Length - 2)
            {
                return null;
            }
            return [.. seed.AsSpan(0, random.Next(firstScan + 4, seed.Length - 2)), 0xFF, 0xD9];
        }
        if (seed.Length > 8 && seed[0] == 0x89 && seed[1] == (byte)'P')
        {
            // Chunk boundaries after the first IDAT, up to the last IDAT: keep the first k image data chunks.
            var boundaries = new List<int>();
            var position = 8;
            var seenIdat = false;
            while (position + 12 <= seed.Length)
            {
                var length = (int)BinaryPrimitives.ReadUInt32BigEndian(seed.AsSpan(position));
                var isIdat = seed.AsSpan(position + 4, 4).SequenceEqual("IDAT"u8);
                if (seenIdat && isIdat)
                {
                    boundaries.Add(position);
                }
                seenIdat |= isIdat;
                position += 12 + length;
            }
            if (boundaries.Count == 0)
            {
                return null;
            }
            byte[] iend = [0, 0, 0, 0, (byte)'I', (byte)'E', (byte)'N', (byte)'D', 0xAE, 0x42, 0x60, 0x82];
            return [.. seed.AsSpan(0, boundaries[random.Next(boundaries.Count)]), .. iend];
        }
        return null;
    }

    private byte[] FlipBits(byte[] seed)
    {
        var bytes = (byte[])seed.Clone();
        var flips = 1 + random.Next(8);
        for (var i = 0; i < flips; i++)
        {
            // Half the flips land in the first 4 KB, where the headers are.
            var at = random.Next(2) == 0 ? random.Next(Math.Min(4096, bytes.Length)) : random.Next(bytes.Length);
            bytes[at] ^= (byte)(1 << random.Next(8));
        }
        return bytes;
    }

    private byte[] Duplicate(byte[] seed)
    {
        var fields = LengthFields(seed);
        (int Start, int Length) range;
        if (fields.Count > 0 && random.Next(3) > 0)
        {
            var field = fields[random.Next(fields.Count)];
            range = (field.RecordStart, Math.Min(field.RecordLength, seed.Length - field.RecordStart));
        }
        else
        {
            var start = random.Next(seed.Length);
            range = (start, random.Next(1, Math.Min(4096, seed.Length - start) + 1));
        }
        var insertAt = random.Next(2) == 0 ? range.Start + range.Length : random.Next(seed.Length);
        return [.. seed[..insertAt], .. seed.AsSpan(range.Start, range.Length), .. seed[insertAt..]];
    }

    private byte[] EditLength(byte[] seed)
    {
        var fields = LengthFields(seed);
        if (fields.Count == 0)
        {
            return FlipBits(seed);
        }
        var bytes = (byte[])seed.Clone();
        var field = fields[random.Next(fields.Count)];
        long value = random.Next(3) == 0
            ? field.Value + random.Next(-2, 3)
            : BoundaryLengths[random.Next(BoundaryLengths.Length)];
        var span = bytes.AsSpan(field.Offset, field.Size);
        switch (field.Size, field.BigEndian)
        {
            case (2, true): BinaryPrimitives.WriteUInt16BigEndian(span, (ushort)value); break;
            case (2, false): BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)value); break;
            case (4, true): BinaryPrimitives.WriteUInt32BigEndian(span, (uint)value); break;
            default: BinaryPrimitives.WriteUInt32LittleEndian(span, (uint)value); break;
        }
        return bytes;
    }

    private sealed record LengthField(int Offset, int Size, bool BigEndian, long Value, int RecordStart, int RecordLength);

    /// <summary>The length fields of PNG chunks, JPEG segments, RIFF/WebP chunks and zip local headers.</summary>
    private static List<LengthField> LengthFields(byte[] data)
    {
        var fields = new List<LengthField>();
        if (data.Length > 8 && data[0] == 137 && data[1] == 'P')
        {
            for (var at = 8; at + 12 <= data.Length && fields.Count < 10000;)
            {
                var length = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at));
                fields.Add(new LengthField(at, 4, true, length, at, (int)Math.Min(12L + length, data.Length - at)));
                if (length > int.MaxValue)
                {
                    break;
                }
                at += 12 + (int)length;
            }
        }
        else if (data.Length > 4 && data[0] == 0xFF && data[1] == 0xD8)
        {
            for (var at = 2; at + 4 <= data.Length && data[at] == 0xFF && fields.Count < 10000;)
            {
                var marker = data[at + 1];
                if (marker is 0xD9 or 0xDA)
                {
                    if (marker == 0xDA)
                    {
                        var length = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(at + 2));
                        fields.Add(new LengthField(at + 2, 2, true, length, at, 2 + length));
                    }
                    break;
                }
                var segment = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(at + 2));
                fields.Add(new LengthField(at + 2, 2, true, segment, at, Math.Min(2 + segment, data.Length - at)));
                at += 2 + segment;
            }
        }
        else if (data.Length > 12 && data.AsSpan(0, 4).SequenceEqual("RIFF"u8))
        {
            fields.Add(new LengthField(4, 4, false, BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(4)), 0, data.Length));
            for (var at = 12; at + 8 <= data.Length;)
            {
                var size = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at + 4));
                fields.Add(new LengthField(at + 4, 4, false, size, at, (int)Math.Min(8L + size, data.Length - at)));
                if (size > int.MaxValue - 16)
                {
                    break;
                }
                at += 8 + (int)size + (int)(size & 1);
            }
        }
        else if (data.Length > 30 && BinaryPrimitives.ReadUInt32LittleEndian(data) == 0x04034b50)
        {
            for (var at = 0; at + 30 <= data.Length && BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at)) == 0x04034b50;)
            {
                var size = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at + 18));
                int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(at + 26));
                int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(at + 28));
                var recordLength = (int)Math.Min(30L + nameLength + extraLength + size, data.Length - at);
                fields.Add(new LengthField(at + 18, 4, false, size, at, recordLength));
                fields.Add(new LengthField(at + 22, 4, false, BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at + 22)), at, recordLength));
                at += recordLength;
            }
        }
        return fields;
    }
}
