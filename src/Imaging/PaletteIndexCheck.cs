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
        var png = PngImageData.Read(data);
        if (png.ColourType != 3 || png.PaletteEntries >= 1 << png.BitDepth || png.ImageDataChunkCount == 0)
        {
            return; // not a palette image, or every index the bit depth can hold has a colour
        }
        int bitDepth = png.BitDepth, paletteEntries = png.PaletteEntries;
        using var inflater = new ZLibStream(png.OpenCompressedImageData(), CompressionMode.Decompress);
        foreach (var pass in png.Passes())
        {
            var rowBytes = (int)png.RowBytes(pass.Width);
            var row = new byte[1 + rowBytes];
            var previous = new byte[rowBytes];
            var current = new byte[rowBytes];
            for (var y = 0; y < pass.Height; y++)
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
                for (var x = 0; x < pass.Width; x++)
                {
                    var bit = x * bitDepth;
                    var index = (current[bit >> 3] >> (8 - bitDepth - (bit & 7))) & ((1 << bitDepth) - 1);
                    if (index >= paletteEntries)
                    {
                        throw ImageRefusals.DamagedData("PNG",
                            $"pixel ({pass.XStart + x * pass.XStep}, {pass.YStart + y * pass.YStep}) uses palette entry {index}, but its palette (PLTE) has only {paletteEntries} colours (a decoder would paint it black)");
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
