namespace CodeFormer.Network.Tests.Reference;

/// <summary>An NCHW float32 activation of the reference forward pass.</summary>
internal sealed class FeatureMap
{
    public int Batch { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public float[] Data { get; }

    public FeatureMap(int batch, int channels, int height, int width, float[]? data = null)
    {
        long count = (long)batch * channels * height * width;
        if (data is not null && data.LongLength != count)
        {
            throw new ArgumentException($"A [{batch},{channels},{height},{width}] feature map needs {count} values, got {data.LongLength}.");
        }
        Batch = batch;
        Channels = channels;
        Height = height;
        Width = width;
        Data = data ?? new float[count];
    }

    public int PlaneSize => Height * Width;

    /// <summary>Offset of channel <paramref name="c"/> of batch item <paramref name="b"/>.</summary>
    public int PlaneOffset(int b, int c) => (b * Channels + c) * PlaneSize;

    public FeatureMap EmptyLike(int channels) => new(Batch, channels, Height, Width);
}
