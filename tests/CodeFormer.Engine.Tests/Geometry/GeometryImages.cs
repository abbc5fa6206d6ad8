using CodeFormer.Engine.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CodeFormer.Engine.Tests.Geometry;

/// <summary>Images for the geometry tests: smooth synthetic patterns, noise, and decoded photos.</summary>
internal static class GeometryImages
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

    public static RgbImage Load(string path)
    {
        using var decoded = Image.Load<Rgb24>(path);
        var image = new RgbImage(decoded.Width, decoded.Height);
        decoded.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    int i = (y * decoded.Width + x) * 3;
                    image.Pixels[i] = row[x].R;
                    image.Pixels[i + 1] = row[x].G;
                    image.Pixels[i + 2] = row[x].B;
                }
            }
        });
        return image;
    }

    public static float At(RgbImage image, int x, int y, int channel) => image.Pixels[(y * image.Width + x) * 3 + channel];

    public static void Set(RgbImage image, int x, int y, float r, float g, float b)
    {
        int i = (y * image.Width + x) * 3;
        image.Pixels[i] = r;
        image.Pixels[i + 1] = g;
        image.Pixels[i + 2] = b;
    }
}
