using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Tests;

/// <summary>Images for the engine tests: smooth synthetic patterns, noise, flat colours, and decoded photos.</summary>
internal static class RgbImages
{
    /// <summary>A smooth, non-periodic colour pattern in [0, 255] (bilinear round trips are near-exact on it).</summary>
    public static RgbImage Smooth(int width, int height)
    {
        var image = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int i = (y * width + x) * 3;
                image.Pixels[i] = (float)(127.5 + 100 * Math.Sin(x * 0.037 + y * 0.011));
                image.Pixels[i + 1] = (float)(127.5 + 100 * Math.Cos(x * 0.013 - y * 0.029));
                image.Pixels[i + 2] = (float)(127.5 + 100 * Math.Sin((x + y) * 0.021 + 1));
            }
        }
        return image;
    }

    public static RgbImage Noise(int width, int height, int seed)
    {
        var random = new Random(seed);
        var image = new RgbImage(width, height);
        for (int i = 0; i < image.Pixels.Length; i++)
        {
            image.Pixels[i] = (float)(random.NextDouble() * 255);
        }
        return image;
    }

    public static RgbImage Filled(int width, int height, float r, float g, float b)
    {
        var image = new RgbImage(width, height);
        for (int i = 0; i < image.Pixels.Length; i += 3)
        {
            image.Pixels[i] = r;
            image.Pixels[i + 1] = g;
            image.Pixels[i + 2] = b;
        }
        return image;
    }

    /// <summary>A photo decoded by the engine's own decoder (EXIF orientation applied), as the pipeline sees it.</summary>
    public static RgbImage Load(string path) => new ImageDecoder().Decode(File.ReadAllBytes(path)).Image;

    public static RgbImage FlipHorizontally(RgbImage source)
    {
        var flipped = new RgbImage(source.Width, source.Height);
        for (int y = 0; y < source.Height; y++)
        {
            for (int x = 0; x < source.Width; x++)
            {
                int from = (y * source.Width + x) * 3;
                int to = (y * source.Width + (source.Width - 1 - x)) * 3;
                flipped.Pixels[to] = source.Pixels[from];
                flipped.Pixels[to + 1] = source.Pixels[from + 1];
                flipped.Pixels[to + 2] = source.Pixels[from + 2];
            }
        }
        return flipped;
    }

    public static RgbImage Uniform(int width, int height, float value) => Filled(width, height, value, value, value);

    public static float At(RgbImage image, int x, int y, int channel) => image.Pixels[(y * image.Width + x) * 3 + channel];

    public static void Set(RgbImage image, int x, int y, float r, float g, float b)
    {
        int i = (y * image.Width + x) * 3;
        image.Pixels[i] = r;
        image.Pixels[i + 1] = g;
        image.Pixels[i + 2] = b;
    }
}
