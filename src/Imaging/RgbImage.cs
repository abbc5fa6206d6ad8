namespace CodeFormer.Imaging;

/// <summary>
/// An RGB image as interleaved float32 in 0..255 (HWC), the working format of the whole pipeline.
/// Float keeps 16-bit inputs' precision through warps and blends; alpha, when the input had one,
/// travels beside it untouched by restoration.
/// </summary>
public sealed class RgbImage
{
    public int Width { get; }
    public int Height { get; }
    /// <summary>Pixels as R,G,B triples, row-major, values nominally in [0, 255].</summary>
    public float[] Pixels { get; }
    /// <summary>Alpha plane in [0, 255], or null for opaque images.</summary>
    public float[]? Alpha { get; init; }

    public RgbImage(int width, int height, float[]? pixels = null)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Image size {width}×{height} is not positive.");
        }
        Width = width;
        Height = height;
        Pixels = pixels ?? new float[checked(width * height * 3)];
        if (Pixels.Length != width * height * 3)
        {
            throw new ArgumentException($"A {width}×{height} RGB image needs {width * height * 3} values, got {Pixels.Length}.");
        }
    }

    public int Stride => Width * 3;

    public RgbImage Clone() => new(Width, Height, (float[])Pixels.Clone()) { Alpha = (float[]?)Alpha?.Clone() };
}
