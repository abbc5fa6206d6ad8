using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.PixelFormats;

namespace CodeFormer.Imaging.Tests;

/// <summary>Small images built in memory so limit and format tests need no files.</summary>
internal static class EncodedImages
{
    /// <summary>A colour gradient, so nothing about it is accidentally grey or uniform.</summary>
    public static Image<Rgb24> Gradient(int width, int height)
    {
        var image = new Image<Rgb24>(width, height);
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
            {
                image[x, y] = new Rgb24((byte)(x * 255 / Math.Max(1, width - 1)), (byte)(y * 255 / Math.Max(1, height - 1)), (byte)((x + y) % 256));
            }
        }
        return image;
    }

    public static byte[] Encode(Image image, IImageEncoder encoder)
    {
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }

    public static byte[] GradientPng(int width, int height)
    {
        using var image = Gradient(width, height);
        return Encode(image, new SixLabors.ImageSharp.Formats.Png.PngEncoder());
    }
}
