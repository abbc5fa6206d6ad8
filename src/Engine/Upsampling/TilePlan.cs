namespace CodeFormer.Engine.Upsampling;

/// <summary>One tile along one axis: the core it writes, [Core0, Core1), and the window it runs on, [Window0, Window1).</summary>
internal readonly record struct TileSpan(int Core0, int Core1, int Window0, int Window1);

/// <summary>Where tiles go along one axis of the (padded) image.</summary>
internal static class TilePlan
{
    /// <summary>
    /// RealESRGANer.tile_process: cores of <paramref name="tileSize"/> from 0, windows grown by <paramref name="tilePad"/>
    /// and clipped to the image. Tile size 0 means one tile over the whole axis.
    /// </summary>
    public static TileSpan[] Reference(int size, int tileSize, int tilePad)
    {
        if (tileSize <= 0)
        {
            return [new TileSpan(0, size, 0, size)];
        }
        var spans = new TileSpan[(size + tileSize - 1) / tileSize];
        for (int t = 0; t < spans.Length; t++)
        {
            int core0 = t * tileSize, core1 = Math.Min(core0 + tileSize, size);
            spans[t] = new TileSpan(core0, core1, Math.Max(core0 - tilePad, 0), Math.Min(core1 + tilePad, size));
        }
        return spans;
    }

    /// <summary>
    /// For models exported with a fixed input size: every window is exactly <paramref name="window"/> wide (the image
    /// is at least that wide), cores are window − 2·pad, and windows slide back inside the image at the edges, so
    /// every core pixel still has at least pad pixels of context or the image edge. The pad is capped at a quarter
    /// of the window so cores stay at least half of it (e.g. 64-pixel exports: pad 16, cores 32).
    /// </summary>
    public static TileSpan[] Fixed(int size, int window, int tilePad)
    {
        if (size < window)
        {
            throw new ArgumentOutOfRangeException(nameof(size), $"The padded image ({size}) is smaller than the model's fixed window ({window}).");
        }
        int pad = Math.Min(tilePad, window / 4);
        int core = window - 2 * pad;
        var spans = new TileSpan[(size + core - 1) / core];
        for (int t = 0; t < spans.Length; t++)
        {
            int core0 = t * core, core1 = Math.Min(core0 + core, size);
            int window0 = Math.Clamp(core0 - pad, 0, size - window);
            spans[t] = new TileSpan(core0, core1, window0, window0 + window);
        }
        return spans;
    }
}
