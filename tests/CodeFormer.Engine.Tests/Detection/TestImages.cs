using CodeFormer.Engine.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace CodeFormer.Engine.Tests.Detection;

/// <summary>Decodes test photographs into the engine's RGB float 0..255 image, and makes simple variants.</summary>
internal static class TestImages
{
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

    public static RgbImage Uniform(int width, int height, float value)
    {
        var image = new RgbImage(width, height);
        Array.Fill(image.Pixels, value);
        return image;
    }
}
