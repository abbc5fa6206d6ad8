using System.Buffers.Binary;

namespace CodeFormer.Imaging;

/// <summary>
/// Counts the blocks in every Huffman-coded scan of a JPEG, to refuse a file whose scans stop early. Why: a JPEG cut
/// short and closed with an end-of-image marker, or one whose frame header claims more pixels than its data holds, is
/// decoded by libjpeg-turbo (and ImageSharp) with only a warning, the missing blocks filled grey. Only the entropy
/// decoding is done (Huffman symbols and their extra bits, no IDCT), so this is cheap next to the decode.
/// Covered: baseline and extended sequential scans, and every progressive scan (DC, AC first, AC refinement; the
/// refinement scans with a one-bit-per-coefficient history of which coefficients earlier scans made nonzero). Then, at
/// the end of the image, that the scans together sent every coefficient of every component to full precision: a
/// progressive file cut between two scans, or a sequential one missing a component's scan, has only whole scans.
/// </summary>
internal static class JpegScanCompleteness
{
    private sealed class HuffmanTable
    {
        public readonly int[] MaxCode = new int[18];
        public readonly int[] ValueOffset = new int[17];
        public readonly byte[] Values;

        public HuffmanTable(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> values)
        {
            Values = values.ToArray();
            int code = 0, k = 0;
            for (var length = 1; length <= 16; length++)
            {
                ValueOffset[length] = k - code;
                code += counts[length - 1];
                k += counts[length - 1];
                MaxCode[length] = counts[length - 1] == 0 ? -1 : code - 1;
                code <<= 1;
            }
            MaxCode[17] = int.MaxValue;
        }
    }

    private ref struct BitReader
    {
        private readonly ReadOnlySpan<byte> _data;
        private int _position;
        private int _bits;
        private int _count;
        public bool RanOut;

        /// <summary>A Huffman code no table entry has was read: libjpeg-turbo warns, zeroes the rest and reports success.</summary>
        public bool BadCode;

        public BitReader(ReadOnlySpan<byte> data, int position)
        {
            _data = data;
            _position = position;
        }

        public readonly int Position => _position;

        public int Bit()
        {
            if (_count == 0)
            {
                if (_position >= _data.Length || (_data[_position] == 0xFF && (_position + 1 >= _data.Length || _data[_position + 1] != 0x00)))
                {
                    RanOut = true; // the next byte is a marker: the data for this block is not in the file
                    return 0;
                }
                _bits = _data[_position];
                _position += _data[_position] == 0xFF ? 2 : 1;
                _count = 8;
            }
            _count--;
            return (_bits >> _count) & 1;
        }

        public int Bits(int n)
        {
            var value = 0;
            for (var i = 0; i < n; i++)
            {
                value = (value << 1) | Bit();
            }
            return value;
        }

        /// <summary>Drops the rest of the current byte and steps over a restart marker; false when none is there.</summary>
        public bool Restart()
        {
            _count = 0;
            if (_position + 1 < _data.Length && _data[_position] == 0xFF && _data[_position + 1] is >= 0xD0 and <= 0xD7)
            {
                _position += 2;
                return true;
            }
            return false;
        }
    }

    /// <summary>A refusal naming the missing blocks, or null when every counted scan is whole.</summary>
    public static ImageRejectedException? FindMissingData(ReadOnlySpan<byte> data)
    {
        var tables = new HuffmanTable?[8]; // DC 0..3, AC 4..7
        (int Id, int H, int V)[]? components = null;
        int width = 0, height = 0, restartInterval = 0, scanNumber = 0;
        var progressive = false;
        Coverage? coverage = null;
        var position = 2;
        while (position + 4 <= data.Length)
        {
            if (data[position] != 0xFF)
            {
                return null; // the container walk has already judged the structure
            }
            var marker = data[position + 1];
            if (marker == 0xFF)
            {
                position++;
                continue;
            }
            if (marker == 0xD9)
            {
                return coverage?.FindMissing(progressive);
            }
            if (marker is 0x01 or >= 0xD0 and <= 0xD8)
            {
                position += 2;
                continue;
            }
            var length = BinaryPrimitives.ReadUInt16BigEndian(data[(position + 2)..]);
            var segment = data.Slice(position + 4, Math.Min(Math.Max(length - 2, 0), data.Length - position - 4));
            position += 2 + length;
            switch (marker)
            {
                case 0xC0 or 0xC1 or 0xC2:
                    progressive = marker == 0xC2;
                    height = BinaryPrimitives.ReadUInt16BigEndian(segment[1..]);
                    width = BinaryPrimitives.ReadUInt16BigEndian(segment[3..]);
                    components = new (int, int, int)[segment[5]];
                    coverage = new Coverage(components.Length);
                    for (var c = 0; c < components.Length; c++)
                    {
                        components[c] = (segment[6 + 3 * c], segment[7 + 3 * c] >> 4, segment[7 + 3 * c] & 15);
                    }
                    break;
                case 0xC4:
                    var at = 0;
                    while (at + 17 <= segment.Length)
                    {
                        int classAndId = segment[at];
                        var counts = segment.Slice(at + 1, 16);
                        var total = 0;
                        foreach (var count in counts)
                        {
                            total += count;
                        }
                        if (at + 17 + total > segment.Length || (classAndId & 15) > 3)
                        {
                            return Damaged("a Huffman table segment is damaged");
                        }
                        tables[((classAndId >> 4) & 1) * 4 + (classAndId & 15)] = new HuffmanTable(counts, segment.Slice(at + 17, total));
                        at += 17 + total;
                    }
                    break;
                case 0xDD:
                    restartInterval = segment.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(segment) : 0;
                    break;
                case 0xDA:
                    if (components is null)
                    {
                        return null;
                    }
                    scanNumber++;
                    var problem = CheckScan(data, ref position, segment, components, width, height, progressive, restartInterval, tables, scanNumber, coverage!);
                    if (problem is not null)
                    {
                        return problem;
                    }
                    break;
            }
        }
        // The end-of-image marker in the file's last 2 bytes ends the loop above without being seen.
        return coverage?.FindMissing(progressive);
    }

    private static ImageRejectedException? CheckScan(
        ReadOnlySpan<byte> data, ref int position, ReadOnlySpan<byte> header, (int Id, int H, int V)[] frame,
        int width, int height, bool progressive, int restartInterval, HuffmanTable?[] tables, int scanNumber, Coverage coverage)
    {
        int count = header.IsEmpty ? 0 : header[0];
        if (count == 0 || header.Length < 1 + 2 * count + 3)
        {
            return Damaged($"scan {scanNumber} has a damaged header");
        }
        int spectralStart = header[1 + 2 * count], spectralEnd = header[2 + 2 * count];
        int approximationHigh = header[3 + 2 * count] >> 4, approximationLow = header[3 + 2 * count] & 15;
        if (progressive && (spectralEnd > 63 || spectralStart > spectralEnd || (spectralStart == 0) != (spectralEnd == 0)
            || (spectralStart > 0 && count != 1)))
        {
            return Damaged($"scan {scanNumber} codes coefficients {spectralStart}..{spectralEnd} of {count} components, which a progressive JPEG cannot");
        }
        var acRefinement = progressive && spectralStart > 0 && approximationHigh > 0;
        int maxH = 1, maxV = 1;
        foreach (var c in frame)
        {
            maxH = Math.Max(maxH, c.H);
            maxV = Math.Max(maxV, c.V);
        }
        var blocksPerUnit = new List<(int Dc, int Ac)>();
        long units;
        for (var i = 0; i < count; i++)
        {
            int id = header[1 + 2 * i], selectors = header[2 + 2 * i];
            var index = IndexOf(frame, id);
            if (index < 0 || (selectors >> 4) > 3 || (selectors & 15) > 3)
            {
                return Damaged($"scan {scanNumber} names a component the frame does not have");
            }
            var repeat = count == 1 ? 1 : frame[index].H * frame[index].V;
            for (var r = 0; r < repeat; r++)
            {
                blocksPerUnit.Add((selectors >> 4, 4 + (selectors & 15)));
            }
        }
        if (count == 1)
        {
            var component = frame[IndexOf(frame, header[1])];
            long componentWidth = (width * (long)component.H + maxH - 1) / maxH;
            long componentHeight = (height * (long)component.V + maxV - 1) / maxV;
            units = ((componentWidth + 7) / 8) * ((componentHeight + 7) / 8);
        }
        else
        {
            units = (long)((width + 8 * maxH - 1) / (8 * maxH)) * ((height + 8 * maxV - 1) / (8 * maxV));
        }
        var needsDc = !progressive || spectralStart == 0;
        var dcRefinement = progressive && spectralStart == 0 && approximationHigh > 0;
        foreach (var (dc, ac) in blocksPerUnit)
        {
            if ((needsDc && !dcRefinement && tables[dc] is null) || ((!progressive || spectralStart > 0) && tables[ac] is null))
            {
                return ImageRefusals.Malformed("JPEG", $"scan {scanNumber} uses a Huffman table the file never defines");
            }
        }

        // Progressive AC scans need, per block, which coefficients earlier scans made nonzero: a refinement scan sends a
        // correction bit for each of those, so its blocks can be counted only with that history (one bit per coefficient).
        var nonzero = progressive && spectralStart > 0 ? coverage.NonzeroHistory(IndexOf(frame, header[1]), units) : null;
        var reader = new BitReader(data, position);
        var endOfBandRun = 0;
        for (long unit = 0; unit < units; unit++)
        {
            if (restartInterval > 0 && unit > 0 && unit % restartInterval == 0)
            {
                if (!reader.Restart())
                {
                    return Incomplete(scanNumber, unit, units);
                }
                endOfBandRun = 0;
            }
            foreach (var (dc, ac) in blocksPerUnit)
            {
                if (!progressive)
                {
                    reader.Bits(Decode(ref reader, tables[dc]!));
                    for (var k = 1; k < 64;)
                    {
                        var rs = Decode(ref reader, tables[ac]!);
                        if (rs < 0)
                        {
                            break;
                        }
                        int run = rs >> 4, size = rs & 15;
                        if (size == 0)
                        {
                            if (run != 15)
                            {
                                break;
                            }
                            k += 16;
                            continue;
                        }
                        k += run;
                        reader.Bits(size);
                        k++;
                    }
                }
                else if (spectralStart == 0)
                {
                    if (dcRefinement)
                    {
                        reader.Bit();
                    }
                    else
                    {
                        reader.Bits(Decode(ref reader, tables[dc]!));
                    }
                }
                else if (acRefinement)
                {
                    RefineBlock(ref reader, tables[ac]!, spectralStart, spectralEnd, ref endOfBandRun, ref nonzero![unit]);
                }
                else if (endOfBandRun > 0)
                {
                    endOfBandRun--;
                }
                else
                {
                    for (var k = spectralStart; k <= spectralEnd;)
                    {
                        var rs = Decode(ref reader, tables[ac]!);
                        if (rs < 0)
                        {
                            break;
                        }
                        int run = rs >> 4, size = rs & 15;
                        if (size == 0)
                        {
                            if (run < 15)
                            {
                                endOfBandRun = (1 << run) - 1 + (run > 0 ? reader.Bits(run) : 0);
                                break;
                            }
                            k += 16;
                            continue;
                        }
                        k += run;
                        reader.Bits(size);
                        nonzero![unit] |= 1UL << k; // a shift count past 63 (damaged data) wraps harmlessly
                        k++;
                    }
                }
                if (reader.RanOut)
                {
                    return Incomplete(scanNumber, unit, units);
                }
                if (reader.BadCode)
                {
                    // The rest of the segment would be decoded as zeros (grey blocks) by libjpeg-turbo, with only a warning.
                    return ImageRefusals.DamagedData("JPEG",
                        $"its compressed data (scan {scanNumber}) holds a code its Huffman table does not define, in block {unit + 1} of {units}; the decoder would fill the rest grey");
                }
            }
        }
        position = reader.Position;
        SkipToMarker(data, ref position);
        for (var i = 0; i < count; i++)
        {
            coverage.Record(IndexOf(frame, header[1 + 2 * i]), spectralStart, progressive ? spectralEnd : 63, progressive ? approximationLow : 0);
        }
        return null;
    }

    /// <summary>
    /// One block of a progressive AC refinement scan (ITU T.81 G.1.2.3, as libjpeg's decode_mcu_AC_refine): new
    /// coefficients are ±1 with a sign bit, and every coefficient already nonzero gets one correction bit, also inside
    /// zero runs and end-of-band runs.
    /// </summary>
    private static void RefineBlock(ref BitReader reader, HuffmanTable table, int start, int end, ref int endOfBandRun, ref ulong nonzero)
    {
        var k = start;
        if (endOfBandRun == 0)
        {
            for (; k <= end; k++)
            {
                var rs = Decode(ref reader, table);
                if (rs < 0 || reader.RanOut)
                {
                    return;
                }
                int zeros = rs >> 4, size = rs & 15;
                if (size != 0)
                {
                    reader.Bit(); // the sign of a new coefficient
                }
                else if (zeros != 15)
                {
                    endOfBandRun = (1 << zeros) + (zeros > 0 ? reader.Bits(zeros) : 0);
                    break;
                }
                do
                {
                    if ((nonzero & (1UL << k)) != 0)
                    {
                        reader.Bit(); // correction bit of a coefficient already nonzero
                    }
                    else if (--zeros < 0)
                    {
                        break; // the new coefficient goes here
                    }
                    k++;
                }
                while (k <= end);
                if (size != 0)
                {
                    nonzero |= 1UL << k;
                }
            }
        }
        if (endOfBandRun > 0)
        {
            for (; k <= end; k++)
            {
                if ((nonzero & (1UL << k)) != 0)
                {
                    reader.Bit();
                }
            }
            endOfBandRun--;
        }
    }

    /// <summary>
    /// Which coefficients of which components the scans so far have sent, and to what precision: a progressive JPEG
    /// cut between two scans and closed with EOI (or a sequential one whose later component scans are missing) has
    /// every scan whole, yet libjpeg-turbo decodes it without a word, blurred or without colour.
    /// </summary>
    private sealed class Coverage
    {
        private const int NeverSent = -1;
        private readonly int[][] _precision; // per component and zig-zag coefficient: the last scan's Al, or NeverSent
        private readonly ulong[]?[] _nonzero;

        public Coverage(int components)
        {
            _precision = new int[components][];
            for (var c = 0; c < components; c++)
            {
                _precision[c] = Enumerable.Repeat(NeverSent, 64).ToArray();
            }
            _nonzero = new ulong[components][];
        }

        public ulong[] NonzeroHistory(int component, long blocks) => _nonzero[component] ??= new ulong[blocks];

        public void Record(int component, int start, int end, int approximationLow)
        {
            for (var k = start; k <= Math.Min(end, 63); k++)
            {
                _precision[component][k] = approximationLow;
            }
        }

        public ImageRejectedException? FindMissing(bool progressive)
        {
            for (var c = 0; c < _precision.Length; c++)
            {
                var levels = _precision[c];
                var first = Array.IndexOf(levels, NeverSent);
                if (first >= 0)
                {
                    var last = Array.LastIndexOf(levels, NeverSent);
                    return ImageRefusals.IncompleteScans(first == 0
                        ? $"colour component {c + 1} of {_precision.Length} is never sent (its scan is missing)"
                        : $"coefficients {first} to {last} of colour component {c + 1} are never sent (its later scans are missing)");
                }
                if (levels.Any(level => level > 0))
                {
                    return ImageRefusals.IncompleteScans(
                        $"colour component {c + 1} is never refined to full precision (its last progressive scans are missing)");
                }
            }
            return null;
        }
    }

    private static int IndexOf((int Id, int H, int V)[] frame, int id)
    {
        for (var i = 0; i < frame.Length; i++)
        {
            if (frame[i].Id == id)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>One Huffman symbol, bit by bit; -1 for a code no table entry has (damaged data).</summary>
    private static int Decode(ref BitReader reader, HuffmanTable table)
    {
        var code = 0;
        for (var length = 1; length <= 16; length++)
        {
            code = (code << 1) | reader.Bit();
            if (reader.RanOut)
            {
                return 0;
            }
            if (code <= table.MaxCode[length])
            {
                var index = table.ValueOffset[length] + code;
                if (index >= 0 && index < table.Values.Length)
                {
                    return table.Values[index];
                }
                break;
            }
        }
        reader.BadCode = true;
        return -1;
    }

    private static void SkipToMarker(ReadOnlySpan<byte> data, ref int position)
    {
        while (position + 1 < data.Length)
        {
            if (data[position] == 0xFF && data[position + 1] != 0x00 && data[position + 1] is not (>= 0xD0 and <= 0xD7) && data[position + 1] != 0xFF)
            {
                return;
            }
            position++;
        }
        position = data.Length;
    }

    private static ImageRejectedException Incomplete(int scan, long unit, long units) =>
        ImageRefusals.IncompleteData("JPEG", $"its compressed data (scan {scan}) stops after {unit} of {units} blocks");

    private static ImageRejectedException Damaged(string what) =>
        ImageRefusals.NotDecodable($"the JPEG's compressed data is damaged: {what}");
}
