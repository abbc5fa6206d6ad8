namespace CodeFormer.Engine.Imaging;

/// <summary>
/// A single-channel float image (row-major), used for blend masks: the square soft mask of paste-back,
/// an optional face-parsing mask, the draw-box border. Values are nominally in [0, 1].
/// </summary>
public sealed class FloatPlane
{
    public int Width { get; }
    public int Height { get; }
    public float[] Values { get; }

    public FloatPlane(int width, int height, float[]? values = null)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Plane size {width}×{height} is not positive.");
        }
        if ((long)width * height > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"Plane size {width}×{height} is too large.");
        }
        Width = width;
        Height = height;
        Values = values ?? new float[width * height];
        if (Values.Length != width * height)
        {
            throw new ArgumentException($"A {width}×{height} plane needs {width * height} values, got {Values.Length}.", nameof(values));
        }
    }

    public static FloatPlane Filled(int width, int height, float value)
    {
        var plane = new FloatPlane(width, height);
        Array.Fill(plane.Values, value);
        return plane;
    }

    public float this[int x, int y] => Values[y * Width + x];
}
