using System.Buffers.Binary;
using System.IO.Compression;

namespace CodeFormer.Imaging;

/// <summary>
/// Refuses a palette PNG whose pixels name palette entries the palette (PLTE) does not have. libpng only warns (Skia
/// reports success) and paints them black: a photo with silently wrong pixels. PNG calls such an index an error.
/// Only images whose palette is shorter than their bit depth allows can have one, so only those are read: their image
/// data inflated once more and unfiltered row by row (bytes per pixel 1), never held whole.
/// </summary>
internal static class PaletteIndexCheck
{
    public static void RequireIndicesInPalette(byte[] data, CancellationToken cancellationToken)
    {
        int width = 0, height = 0, bitDepth = 8, colourType = 0, interlace = 0, paletteEntries = 0;
        var idat = new MemoryStream();
        var position = 8;
        while (position + 12 <= data.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(position));
            var type = data.AsSpan(position + 4, 4);
            if (type.SequenceEqual("IHDR"u8))
            {
                width = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(position + 8));
                height = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(position + 12));
                bitDepth = data[position + 16];
                colourType = data[position + 17];
                interlace = data[position + 20];
            }
            else if (type.SequenceEqual("PLTE"u8))
            {
                paletteEntries = length / 3;
            }
            else if (type.SequenceEqual("IDAT"u8))
            {
                if (colourType != 3 || paletteEntries >= 1 << bitDepth)
                {
                    return; // every index the bit depth can hold has a colour
                }
                idat.Write(data, position + 8, length);
            }
            else if (type.SequenceEqual("IEND"u8))
            {
                break;
            }
            position += 12 + length;
        }
        if (colourType != 3 || idat.Length == 0)
        {
            return;
        }
        idat.Position = 0;
        using var inflater = new ZLibStream(idat, CompressionMode.Decompress);
        // Adam7 passes (start and step in x, then y), or the whole image as one pass.
        int[][] passes = interlace == 0
            ? [[0, 1, 0, 1]]
            : [[0, 8, 0, 8], [4, 8, 0, 8], [0, 4, 4, 8], [2, 4, 0, 4], [0, 2, 2, 4], [1, 2, 0, 2], [0, 1, 1, 2]];
        foreach (var pass in passes)
        {
            var passWidth = (width - pass[0] + pass[1] - 1) / pass[1];
            var passHeight = (height - pass[2] + pass[3] - 1) / pass[3];
            if (passWidth <= 0 || passHeight <= 0)
            {
                continue;
            }
            var rowBytes = (int)(((long)passWidth * bitDepth + 7) / 8);
            var row = new byte[1 + rowBytes];
            var previous = new byte[rowBytes];
            var current = new byte[rowBytes];
            for (var y = 0; y < passHeight; y++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    inflater.ReadExactly(row);
                }
                catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException)
                {
                    return; // missing or damaged data is the decoder's and the completeness check's to name
                }
                Unfilter(row[0], row.AsSpan(1), previous, current);
                for (var x = 0; x < passWidth; x++)
                {
                    var bit = x * bitDepth;
                    var index = (current[bit >> 3] >> (8 - bitDepth - (bit & 7))) & ((1 << bitDepth) - 1);
                    if (index >= paletteEntries)
                    {
                        throw ImageRefusals.DamagedData("PNG",
                            $"pixel ({pass[0] + x * pass[1]}, {pass[2] + y * pass[3]}) uses palette entry {index}, but its palette (PLTE) has only {paletteEntries} colours (a decoder would paint it black)");
                    }
                }
                (previous, current) = (current, previous);
            }
        }
    }

    /// <summary>PNG filters 0–4 with one byte per pixel (every palette bit depth); an unknown filter type is the decoder's to refuse.</summary>
    private static void Unfilter(byte filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> previous, Span<byte> output)
    {
        for (var i = 0; i < row.Length; i++)
        {
            int left = i > 0 ? output[i - 1] : 0, up = previous[i], upLeft = i > 0 ? previous[i - 1] : 0;
            output[i] = (byte)(row[i] + filter switch
            {
                1 => left,
                2 => up,
                3 => (left + up) / 2,
                4 => RowFilter.PaethPredictor(left, up, upLeft),
                _ => 0,
            });
        }
    }
}
