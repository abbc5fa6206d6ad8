using CodeFormer.Engine.Tasks;

namespace CodeFormer.Engine.Tests.Tasks;

public sealed class InpaintingMaskTests
{
    /// <summary>
    /// The reference, written out as torch computes it: img / 255 (float32), normalize(0.5, 0.5) in place, sum over the
    /// channel dim, mask where the sum == 3. Checked on every near-white combination, not just a white and a black pixel.
    /// </summary>
    [Fact]
    public void White_pixel_rule_equals_the_reference_normalised_channel_sum()
    {
        float[] levels = [255f, 254.999f, 254.5f, 254f, 253f, 128f, 0f, 255.0001f - 0.0001f];
        var image = new RgbImage(levels.Length * levels.Length, levels.Length);
        for (int r = 0; r < levels.Length; r++)
        {
            for (int g = 0; g < levels.Length; g++)
            {
                for (int b = 0; b < levels.Length; b++)
                {
                    int x = r * levels.Length + g, y = b;
                    RgbImages.Set(image, x, y, levels[r], levels[g], levels[b]);
                }
            }
        }

        float[] mask = InpaintingMask.FromWhitePixels(image);

        int expectedWhite = 0;
        for (int i = 0; i < mask.Length; i++)
        {
            float sum = 0;
            for (int c = 0; c < 3; c++)
            {
                float scaled = image.Pixels[3 * i + c] / 255f;
                sum += (scaled - 0.5f) / 0.5f;
            }
            float reference = sum == 3f ? 1f : 0f;
            expectedWhite += (int)reference;
            Assert.Equal(reference, mask[i]);
        }
        // Only the all-255 combinations are holes: 2 of the 8 levels are exactly 255, so 2³ of the 8³ pixels.
        Assert.Equal(8, expectedWhite);
    }

    [Fact]
    public void Composite_keeps_unmasked_pixels_exactly_and_takes_the_network_inside()
    {
        var input = RgbImages.Noise(16, 16, seed: 3);
        var network = RgbImages.Noise(16, 16, seed: 4);
        var mask = new float[16 * 16];
        for (int i = 0; i < mask.Length; i += 3)
        {
            mask[i] = 1;
        }

        var result = InpaintingMask.Composite(input, network, mask);

        for (int i = 0; i < mask.Length; i++)
        {
            var source = mask[i] > 0 ? network : input;
            for (int c = 0; c < 3; c++)
            {
                Assert.Equal(source.Pixels[3 * i + c], result.Pixels[3 * i + c]);
            }
        }
    }

    [Fact]
    public void An_explicit_mask_of_another_size_is_refused_naming_both_sizes()
    {
        var error = Assert.Throws<ArgumentException>(() => InpaintingMask.FromMaskImage(RgbImages.Uniform(10, 12, 255), 512, 512));

        Assert.Contains("10 × 12", error.Message);
        Assert.Contains("512 × 512", error.Message);
    }

    [Fact]
    public void An_explicit_mask_fills_where_it_is_light()
    {
        var maskImage = RgbImages.Uniform(4, 1, 0);
        RgbImages.Set(maskImage, 1, 0, 255, 255, 255);
        RgbImages.Set(maskImage, 2, 0, 200, 180, 190);
        RgbImages.Set(maskImage, 3, 0, 100, 120, 110);

        Assert.Equal([0f, 1f, 1f, 0f], InpaintingMask.FromMaskImage(maskImage, 4, 1));
    }
}
