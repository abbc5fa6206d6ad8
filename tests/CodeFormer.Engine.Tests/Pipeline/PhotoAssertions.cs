using CodeFormer.Engine.Geometry;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Pipeline;

namespace CodeFormer.Engine.Tests.Pipeline;

/// <summary>Pixel-level comparisons of pipeline outputs with what they are expected to be.</summary>
internal static class PhotoAssertions
{
    private static readonly ImageDecoder Decoder = new();

    public static RgbImage Decode(byte[] bytes) => Decoder.Decode(bytes).Image;

    /// <summary>Rounds to whole levels exactly as the encoder does, so float expectations compare with decoded outputs.</summary>
    public static RgbImage AsEncoded(RgbImage image) => Decode(new ImageEncoder().Encode(image, ImageFileFormat.Png));

    /// <summary>
    /// The canvas rectangle a face's paste-back may touch: the aligned crop's corners mapped back (face → canvas at
    /// upscale s), grown by <paramref name="margin"/> px for the feather and the bilinear fringe.
    /// </summary>
    public static PixelRegion PasteFootprint(FaceReport face, int faceSize, int upscale, int margin, int canvasWidth, int canvasHeight)
    {
        var affine = new AffineTransform(face.Affine[0], face.Affine[1], face.Affine[2], face.Affine[3], face.Affine[4], face.Affine[5]);
        var faceToImage = affine.Invert();
        var corners = new[] { (0.0, 0.0), (faceSize, 0.0), (0.0, faceSize), (faceSize, faceSize) }
            .Select(c => faceToImage.Apply(c.Item1, c.Item2))
            .ToList();
        int x0 = (int)Math.Floor(corners.Min(c => c.X) * upscale) - margin;
        int y0 = (int)Math.Floor(corners.Min(c => c.Y) * upscale) - margin;
        int x1 = (int)Math.Ceiling(corners.Max(c => c.X) * upscale) + margin;
        int y1 = (int)Math.Ceiling(corners.Max(c => c.Y) * upscale) + margin;
        x0 = Math.Clamp(x0, 0, canvasWidth);
        y0 = Math.Clamp(y0, 0, canvasHeight);
        x1 = Math.Clamp(x1, 0, canvasWidth);
        y1 = Math.Clamp(y1, 0, canvasHeight);
        return new PixelRegion(x0, y0, x1 - x0, y1 - y0);
    }

    public static bool Contains(PixelRegion region, int x, int y) =>
        x >= region.X && x < region.X + region.Width && y >= region.Y && y < region.Y + region.Height;

    /// <summary>Mean absolute difference over the channels of the pixels in [x0, x1)×[y0, y1).</summary>
    public static double MeanAbsDifference(RgbImage expected, RgbImage actual, int x0, int y0, int x1, int y1)
    {
        Assert.Equal(expected.Width, actual.Width);
        Assert.Equal(expected.Height, actual.Height);
        double sum = 0;
        long count = 0;
        for (int y = Math.Max(0, y0); y < Math.Min(expected.Height, y1); y++)
        {
            for (int x = Math.Max(0, x0); x < Math.Min(expected.Width, x1); x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    int i = (y * expected.Width + x) * 3 + c;
                    sum += Math.Abs(expected.Pixels[i] - actual.Pixels[i]);
                    count++;
                }
            }
        }
        Assert.True(count > 0, $"the region [{x0}, {x1})×[{y0}, {y1}) holds no pixel");
        return sum / count;
    }

    /// <summary>Asserts every pixel outside all <paramref name="untouchable"/> regions is bit-for-bit the expected one; returns how many were compared.</summary>
    public static long AssertIdenticalOutside(RgbImage expected, RgbImage actual, IReadOnlyList<PixelRegion> untouchable)
    {
        Assert.Equal(expected.Width, actual.Width);
        Assert.Equal(expected.Height, actual.Height);
        long compared = 0;
        for (int y = 0; y < expected.Height; y++)
        {
            for (int x = 0; x < expected.Width; x++)
            {
                if (untouchable.Any(r => Contains(r, x, y)))
                {
                    continue;
                }
                int i = (y * expected.Width + x) * 3;
                for (int c = 0; c < 3; c++)
                {
                    if (expected.Pixels[i + c] != actual.Pixels[i + c])
                    {
                        Assert.Fail($"pixel ({x}, {y}) channel {c} far from every face changed: expected {expected.Pixels[i + c]}, got {actual.Pixels[i + c]}");
                    }
                }
                compared++;
            }
        }
        return compared;
    }

    public static double MeanLevel(RgbImage image) => image.Pixels.Average(v => (double)v);
}
