using CodeFormer.Imaging;

namespace CodeFormer.Imaging.Tests;

public sealed class GreyscaleDetectorTests
{
    [Fact]
    public void Variance_of_channel_differences_matches_a_hand_computation()
    {
        // Pixels (10,0,0) and (0,0,0): R−G = [10, 0] → var 25; G−B = [0, 0] → 0; B−R = [−10, 0] → 25. Mean 50/3.
        var image = new RgbImage(2, 1, [10f, 0f, 0f, 0f, 0f, 0f]);

        Assert.Equal(50.0 / 3.0, GreyscaleDetector.MeanChannelDifferenceVariance(image), 10);
        Assert.False(GreyscaleDetector.LooksGreyscale(image));
    }

    [Fact]
    public void Threshold_10_is_inclusive_as_in_the_reference()
    {
        // (x,0,0) and (0,0,0) give (x²/4 + 0 + x²/4)/3 = x²/6: x = 6 → 6 (grey), x = 8 → 10.67 (colour).
        var justGrey = new RgbImage(2, 1, [6f, 0f, 0f, 0f, 0f, 0f]);
        var justColour = new RgbImage(2, 1, [8f, 0f, 0f, 0f, 0f, 0f]);
        // A constant tint has differences that never vary: grey by this test, as in the reference.
        var tinted = new RgbImage(2, 1, [120f, 100f, 90f, 220f, 200f, 190f]);

        Assert.True(GreyscaleDetector.LooksGreyscale(justGrey));
        Assert.False(GreyscaleDetector.LooksGreyscale(justColour));
        Assert.True(GreyscaleDetector.LooksGreyscale(tinted));
        Assert.True(GreyscaleDetector.LooksGreyscale(justColour, threshold: 11));
    }
}
