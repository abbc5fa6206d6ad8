namespace CodeFormer.Imaging;

/// <summary>The PNG Paeth scanline filter (filter type 4), the one <see cref="PngWriter"/> uses for every row.</summary>
internal static class RowFilter
{
    public const byte Paeth = 4;

    /// <summary>Filters <paramref name="row"/> against the unfiltered <paramref name="previous"/> row (empty for the first row).</summary>
    public static void ApplyPaeth(ReadOnlySpan<byte> row, ReadOnlySpan<byte> previous, int bytesPerPixel, Span<byte> output)
    {
        int n = row.Length;
        int head = Math.Min(bytesPerPixel, n);
        if (previous.IsEmpty)
        {
            // First row: "up" and "up-left" are zero, so Paeth predicts the left byte (the Sub filter).
            row[..head].CopyTo(output);
            for (int i = bytesPerPixel; i < n; i++)
            {
                output[i] = (byte)(row[i] - row[i - bytesPerPixel]);
            }
            return;
        }
        // First pixel: no "left" or "up-left", so Paeth predicts the byte above.
        for (int i = 0; i < head; i++)
        {
            output[i] = (byte)(row[i] - previous[i]);
        }
        for (int i = bytesPerPixel; i < n; i++)
        {
            output[i] = (byte)(row[i] - PaethPredictor(row[i - bytesPerPixel], previous[i], previous[i - bytesPerPixel]));
        }
    }

    /// <summary>PNG specification 9.4: the neighbour (left a, up b, up-left c) closest to a + b − c, ties to a, then b.</summary>
    public static int PaethPredictor(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
