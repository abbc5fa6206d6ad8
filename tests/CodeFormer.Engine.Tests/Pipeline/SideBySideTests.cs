using CodeFormer.Engine.Pipeline;

namespace CodeFormer.Engine.Tests.Pipeline;

public sealed class SideBySideTests
{
    /// <summary>
    /// The comparison is encoded band by band (the enlarged "before" made a band at a time) instead of composed whole:
    /// the pixels must be those of the composed image. 2000 px rows make PNG bands of ~700 rows, so three bands here.
    /// </summary>
    [Theory]
    [InlineData(1000, 750, 2000, 1500)] // s = 2: the before is enlarged
    [InlineData(900, 1500, 900, 1500)] // s = 1: copied as is
    public void Band_by_band_comparison_has_the_pixels_of_the_composed_one(int beforeWidth, int beforeHeight, int afterWidth, int afterHeight)
    {
        var before = Pattern(beforeWidth, beforeHeight, 3);
        var after = Pattern(afterWidth, afterHeight, 5);
        var encoder = new ImageEncoder();

        var streamed = new ImageDecoder().Decode(SideBySide.EncodePng(before, after, encoder)).Image;
        var composed = new ImageDecoder().Decode(encoder.Encode(SideBySide.Compose(before, after), ImageFileFormat.Png)).Image;

        Assert.Equal((composed.Width, composed.Height), (streamed.Width, streamed.Height));
        Assert.Equal(composed.Pixels, streamed.Pixels);
    }

    private static RgbImage Pattern(int width, int height, int seed)
    {
        var image = new RgbImage(width, height);
        for (int i = 0; i < image.Pixels.Length; i++)
        {
            image.Pixels[i] = (i * seed * 7 % 997) * 255f / 996;
        }
        return image;
    }
}
