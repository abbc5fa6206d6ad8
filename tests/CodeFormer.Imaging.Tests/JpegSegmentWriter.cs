using System.Buffers.Binary;

namespace CodeFormer.Imaging.Tests;

/// <summary>
/// Writes small JPEG files segment by segment, so the tests can make colour models, frame kinds and scan layouts that
/// no C# encoder here writes (CMYK, YCCK, duplicate component IDs, thousands of progressive scans) without cjpeg or
/// ffmpeg at test time. Pixels are flat colours: with a quantization table of ones every block is its DC coefficient
/// alone (8 × (level − 128)) and decodes back to exactly that level, so the expected colours are known exactly.
/// </summary>
internal static class JpegSegmentWriter
{
    /// <summary>
    /// One colour component of a frame: its ID, the flat level its blocks hold, its sampling factors, and optionally
    /// another level for every other unit (so an image is not one flat colour, which any grey test calls grey).
    /// </summary>
    public sealed record Component(byte Id, byte Level, byte Horizontal = 1, byte Vertical = 1, byte? OddUnitLevel = null);

    // The standard luminance DC table (ITU T.81 K.3): difference categories 0..11.
    private static readonly byte[] DcCounts = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
    private static readonly byte[] DcValues = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

    // An AC table holding only end-of-band symbols EOB0..EOB14 (run lengths 1..32767), 4 bits each: flat blocks need
    // nothing else. Fifteen, not sixteen, 4-bit codes: libjpeg refuses a table whose codes overflow their length.
    private static readonly byte[] AcCounts = [0, 0, 0, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    private static readonly byte[] AcValues = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xA0, 0xB0, 0xC0, 0xD0, 0xE0];

    public static byte[] Segment(byte marker, ReadOnlySpan<byte> payload)
    {
        var segment = new byte[4 + payload.Length];
        segment[0] = 0xFF;
        segment[1] = marker;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(payload.Length + 2));
        payload.CopyTo(segment.AsSpan(4));
        return segment;
    }

    /// <summary>Adobe's APP14 segment; its transform says how 3- and 4-component data is coded (0 none, 1 YCbCr, 2 YCCK).</summary>
    public static byte[] Adobe(byte transform) =>
        Segment(0xEE, [(byte)'A', (byte)'d', (byte)'o', (byte)'b', (byte)'e', 0, 100, 0, 0, 0, 0, transform]);

    public static byte[] QuantizationTableOfOnes()
    {
        var payload = new byte[65];
        Array.Fill(payload, (byte)1, 1, 64);
        return Segment(0xDB, payload);
    }

    public static byte[] HuffmanTables() => Segment(0xC4, [0x00, .. DcCounts, .. DcValues, 0x10, .. AcCounts, .. AcValues]);

    public static byte[] Frame(byte marker, int width, int height, IReadOnlyList<Component> components, byte precision = 8)
    {
        var payload = new byte[6 + 3 * components.Count];
        payload[0] = precision;
        BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(1), (ushort)height);
        BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(3), (ushort)width);
        payload[5] = (byte)components.Count;
        for (var c = 0; c < components.Count; c++)
        {
            payload[6 + 3 * c] = components[c].Id;
            payload[7 + 3 * c] = (byte)(components[c].Horizontal << 4 | components[c].Vertical);
            payload[8 + 3 * c] = 0;
        }
        return Segment(marker, payload);
    }

    /// <summary>
    /// A baseline (or, with <paramref name="frameMarker"/>, any other) flat-colour JPEG: one interleaved scan of all
    /// components, every block its DC level and an end of block.
    /// </summary>
    public static byte[] FlatJpeg(int width, int height, IReadOnlyList<Component> components, byte? adobeTransform = null,
        byte frameMarker = 0xC0, byte precision = 8, IEnumerable<byte[]>? extraSegments = null)
    {
        var parts = new List<byte[]> { new byte[] { 0xFF, 0xD8 } };
        if (adobeTransform is { } transform)
        {
            parts.Add(Adobe(transform));
        }
        parts.AddRange(extraSegments ?? []);
        parts.Add(QuantizationTableOfOnes());
        parts.Add(Frame(frameMarker, width, height, components, precision));
        parts.Add(HuffmanTables());
        parts.Add(ScanHeader(components.Select(c => c.Id).ToArray(), 0, 63, 0, 0));
        parts.Add(InterleavedFlatScan(width, height, components));
        parts.Add([0xFF, 0xD9]);
        return [.. parts.SelectMany(p => p)];
    }

    /// <summary>
    /// A progressive one-component (grey) flat JPEG whose AC coefficients 1..63 are split into <paramref name="bands"/>
    /// spectral bands, each sent in every step of successive approximation the format allows (first at bit 13, then
    /// refined bit by bit to 0: 14 scans per band). So 1 + 14 × bands scans (63 bands: 883, the most a legal file can
    /// have per component), each a few end-of-band runs long but, for a decoder, a pass over every block of the image.
    /// <paramref name="acScans"/> keeps only the first so many AC scans (a file whose later scans are missing).
    /// </summary>
    public static byte[] ProgressiveGreyWithManyScans(int width, int height, byte level, int bands = 63, int acScans = int.MaxValue)
    {
        var grey = new Component(1, level);
        var blocks = (long)((width + 7) / 8) * ((height + 7) / 8);
        var parts = new List<byte[]>
        {
            new byte[] { 0xFF, 0xD8 },
            QuantizationTableOfOnes(),
            Frame(0xC2, width, height, [grey]),
            HuffmanTables(),
            ScanHeader([grey.Id], 0, 0, 0, 0),
            DcFirstScan(blocks, 8 * (level - 128)),
        };
        var written = 0;
        for (var band = 0; band < bands && written < acScans; band++)
        {
            var first = 1 + band * (63 / bands);
            var last = band == bands - 1 ? 63 : first + 63 / bands - 1;
            for (var low = 13; low >= 0 && written < acScans; low--, written++)
            {
                parts.Add(ScanHeader([grey.Id], first, last, low == 13 ? 0 : low + 1, low));
                parts.Add(EndOfBandRuns(blocks));
            }
        }
        parts.Add([0xFF, 0xD9]);
        return [.. parts.SelectMany(p => p)];
    }

    public static byte[] ScanHeader(byte[] componentIds, int spectralStart, int spectralEnd, int approximationHigh, int approximationLow)
    {
        var payload = new List<byte> { (byte)componentIds.Length };
        foreach (var id in componentIds)
        {
            payload.Add(id);
            payload.Add(0x00); // DC table 0, AC table 0
        }
        payload.Add((byte)spectralStart);
        payload.Add((byte)spectralEnd);
        payload.Add((byte)(approximationHigh << 4 | approximationLow));
        return Segment(0xDA, payload.ToArray());
    }

    private static byte[] InterleavedFlatScan(int width, int height, IReadOnlyList<Component> components)
    {
        // Impossible factors (0, or none at all) are written as given in the frame; the scan is laid out as if 1.
        int maxH = Math.Max(1, components.Select(c => (int)c.Horizontal).DefaultIfEmpty(1).Max());
        int maxV = Math.Max(1, components.Select(c => (int)c.Vertical).DefaultIfEmpty(1).Max());
        var units = (long)((width + 8 * maxH - 1) / (8 * maxH)) * ((height + 8 * maxV - 1) / (8 * maxV));
        if (components.Count == 1)
        {
            units = (long)((width + 7) / 8) * ((height + 7) / 8);
        }
        var dc = Codes(DcCounts, DcValues);
        var ac = Codes(AcCounts, AcValues);
        var bits = new BitWriter();
        var previous = new int[components.Count];
        for (long unit = 0; unit < units; unit++)
        {
            for (var c = 0; c < components.Count; c++)
            {
                var blocksInUnit = components.Count == 1 ? 1 : Math.Max(1, components[c].Horizontal * components[c].Vertical);
                var level = unit % 2 == 1 && components[c].OddUnitLevel is { } odd ? odd : components[c].Level;
                var value = 8 * (level - 128);
                for (var b = 0; b < blocksInUnit; b++)
                {
                    WriteDifference(bits, dc, value - previous[c]);
                    previous[c] = value;
                    bits.Write(ac[0x00]); // end of block
                }
            }
        }
        return bits.Finish();
    }

    private static byte[] DcFirstScan(long blocks, int value)
    {
        var dc = Codes(DcCounts, DcValues);
        var bits = new BitWriter();
        for (long block = 0; block < blocks; block++)
        {
            WriteDifference(bits, dc, block == 0 ? value : 0);
        }
        return bits.Finish();
    }

    /// <summary>A progressive AC scan in which no block has a coefficient: end-of-band runs of up to 32767 blocks.</summary>
    private static byte[] EndOfBandRuns(long blocks)
    {
        var ac = Codes(AcCounts, AcValues);
        var bits = new BitWriter();
        while (blocks > 0)
        {
            var run = (int)Math.Min(blocks, 32767);
            var size = 31 - int.LeadingZeroCount(run);
            bits.Write(ac[(byte)(size << 4)]);
            bits.Write((run - (1 << size), size));
            blocks -= run;
        }
        return bits.Finish();
    }

    private static void WriteDifference(BitWriter bits, Dictionary<byte, (int Code, int Length)> dc, int difference)
    {
        var magnitude = Math.Abs(difference);
        var size = magnitude == 0 ? 0 : 32 - int.LeadingZeroCount(magnitude);
        bits.Write(dc[(byte)size]);
        if (size > 0)
        {
            bits.Write((difference < 0 ? difference - 1 + (1 << size) : difference, size));
        }
    }

    /// <summary>Canonical Huffman codes (ITU T.81 C.2) for the given code-length counts and symbols.</summary>
    private static Dictionary<byte, (int Code, int Length)> Codes(byte[] counts, byte[] values)
    {
        var codes = new Dictionary<byte, (int, int)>();
        int code = 0, k = 0;
        for (var length = 1; length <= 16; length++, code <<= 1)
        {
            for (var i = 0; i < counts[length - 1]; i++, code++)
            {
                codes[values[k++]] = (code, length);
            }
        }
        return codes;
    }

    private sealed class BitWriter
    {
        private readonly List<byte> _bytes = [];
        private int _accumulator;
        private int _count;

        public void Write((int Code, int Length) bits)
        {
            for (var i = bits.Length - 1; i >= 0; i--)
            {
                _accumulator = (_accumulator << 1) | ((bits.Code >> i) & 1);
                if (++_count == 8)
                {
                    Emit();
                }
            }
        }

        /// <summary>Pads the last byte with one-bits, as T.81 asks, and returns the stuffed bytes.</summary>
        public byte[] Finish()
        {
            while (_count != 0)
            {
                Write((1, 1));
            }
            return [.. _bytes];
        }

        private void Emit()
        {
            _bytes.Add((byte)_accumulator);
            if (_accumulator == 0xFF)
            {
                _bytes.Add(0x00); // a stuffed zero, so the byte is not read as a marker
            }
            _accumulator = 0;
            _count = 0;
        }
    }
}
