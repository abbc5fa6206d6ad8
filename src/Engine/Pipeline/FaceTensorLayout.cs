using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Pipeline;

/// <summary>
/// Converts aligned crops to and from the network's layout: NCHW float32 RGB in [-1, 1]
/// (crop/255 → normalise(0.5, 0.5), reference doc B.5), and back with the reference's clamp to [-1, 1].
/// The restored face stays float (0..255) until the final encode instead of being rounded to uint8 per
/// face as the reference does; the difference is below half a grey level and avoids rounding twice.
/// </summary>
public static class FaceTensorLayout
{
    public static void Pack(IReadOnlyList<RgbImage> crops, Span<float> destination)
    {
        if (crops.Count == 0)
        {
            return;
        }
        int size = crops[0].Width;
        int plane = size * size;
        if (destination.Length < crops.Count * 3 * plane)
        {
            throw new ArgumentException($"Destination holds {destination.Length} values; {crops.Count} faces of {size}² need {crops.Count * 3 * plane}.");
        }
        for (int n = 0; n < crops.Count; n++)
        {
            var crop = crops[n];
            if (crop.Width != size || crop.Height != size)
            {
                throw new ArgumentException($"Face {n} is {crop.Width}×{crop.Height}; every face of a batch must be {size}×{size}.");
            }
            var pixels = crop.Pixels;
            var batchItem = destination.Slice(n * 3 * plane, 3 * plane);
            for (int i = 0; i < plane; i++)
            {
                batchItem[i] = pixels[3 * i] / 127.5f - 1f;
                batchItem[plane + i] = pixels[3 * i + 1] / 127.5f - 1f;
                batchItem[2 * plane + i] = pixels[3 * i + 2] / 127.5f - 1f;
            }
        }
    }

    public static RgbImage Unpack(ReadOnlySpan<float> source, int index, int size)
    {
        var image = new RgbImage(size, size);
        UnpackInto(source, index, image);
        return image;
    }

    /// <summary>Face <paramref name="index"/> of the batch into an existing square image (reused across video frames).</summary>
    public static void UnpackInto(ReadOnlySpan<float> source, int index, RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int size = image.Width;
        if (image.Height != size)
        {
            throw new ArgumentException($"A face image must be square, this one is {image.Width}×{image.Height}.", nameof(image));
        }
        int plane = size * size;
        var item = source.Slice(index * 3 * plane, 3 * plane);
        var pixels = image.Pixels;
        for (int i = 0; i < plane; i++)
        {
            pixels[3 * i] = ToLevel(item[i]);
            pixels[3 * i + 1] = ToLevel(item[plane + i]);
            pixels[3 * i + 2] = ToLevel(item[2 * plane + i]);
        }
    }

    private static float ToLevel(float value) => (Math.Clamp(value, -1f, 1f) + 1f) * 127.5f;
}
