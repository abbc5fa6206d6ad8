using System.Numerics;
using CodeFormer.Engine.Compositing;
using CodeFormer.Engine.Geometry;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Tests.Geometry;

namespace CodeFormer.Engine.Tests.Compositing;

public sealed class GreyscaleFacesTests
{
    private static RgbImage GreyVersion(RgbImage image)
    {
        var grey = image.Clone();
        for (int i = 0; i < grey.Pixels.Length; i += 3)
        {
            float v = grey.Pixels[i + 1];
            grey.Pixels[i] = grey.Pixels[i + 2] = v;
        }
        return grey;
    }

    [Fact]
    public void DetectsGreyAndColourImages()
    {
        var colour = RgbImages.Smooth(64, 48);
        var grey = GreyVersion(colour);
        Assert.False(GreyscaleDetector.LooksGreyscale(colour));
        Assert.True(GreyscaleDetector.LooksGreyscale(grey));

        // A constant tint has zero variance of channel differences: still "grey" by the reference's test.
        var tinted = grey.Clone();
        for (int i = 0; i < tinted.Pixels.Length; i += 3)
        {
            tinted.Pixels[i] += 20;
        }
        Assert.True(GreyscaleDetector.LooksGreyscale(tinted));

        // Channel noise of variance ≈ 9 per channel gives difference variances ≈ 18: over the threshold of 10.
        var random = new Random(1);
        var noisy = grey.Clone();
        for (int i = 0; i < noisy.Pixels.Length; i++)
        {
            noisy.Pixels[i] += (float)((random.NextDouble() - 0.5) * Math.Sqrt(12 * 9));
        }
        Assert.False(GreyscaleDetector.LooksGreyscale(noisy));
        Assert.True(GreyscaleDetector.LooksGreyscale(noisy, threshold: 25));
    }

    [Fact]
    public void ToGreyUsesTheReferenceWeights()
    {
        var image = RgbImages.Filled(2, 1, 100, 150, 200);
        var grey = GreyscaleFaces.ToGrey(image);
        float expected = (float)(0.2989 * 100 + 0.587 * 150 + 0.114 * 200);
        Assert.All(grey.Pixels, v => Assert.Equal(expected, v, 3));
    }

    [Fact]
    public void ColourTransferMatchesStatisticsAndNeverLeavesTheByteRange()
    {
        // Uniform content and a narrower uniform style: nothing reaches the clamp, so the statistics carry over exactly.
        var content = RgbImages.Noise(40, 40, 1);
        var style = RgbImages.Noise(30, 20, 2);
        for (int i = 0; i < style.Pixels.Length; i++)
        {
            style.Pixels[i] = style.Pixels[i] * 0.5f + 60 + 10 * (i % 3);
        }
        var moved = GreyscaleFaces.TransferColourStatistics(content, style);
        for (int c = 0; c < 3; c++)
        {
            var (targetMean, targetStd) = Stats(style.Pixels.Where((_, i) => i % 3 == c));
            var (mean, std) = Stats(moved.Pixels.Where((_, i) => i % 3 == c));
            Assert.Equal(targetMean, mean, 3);
            Assert.Equal(targetStd, std, 3);
        }

        // The #222 trigger: a style with a huge spread and a content with outliers pushes AdaIN far past 255.
        var extreme = RgbImages.Filled(10, 10, 0, 0, 0);
        for (int i = 0; i < extreme.Pixels.Length; i += 6)
        {
            extreme.Pixels[i] = extreme.Pixels[i + 1] = extreme.Pixels[i + 2] = 255;
        }
        var outlier = RgbImages.Filled(10, 10, 100, 100, 100);
        RgbImages.Set(outlier, 3, 3, 255, 255, 255);
        var clamped = GreyscaleFaces.TransferColourStatistics(outlier, extreme);
        Assert.All(clamped.Pixels, v => Assert.InRange(v, 0f, 255f));
        Assert.Equal(255f, RgbImages.At(clamped, 3, 3, 0));
    }

    private static (double Mean, double Std) Stats(IEnumerable<float> values)
    {
        var v = values.Select(x => (double)x).ToArray();
        double mean = v.Average();
        return (mean, Math.Sqrt(v.Average(x => (x - mean) * (x - mean))));
    }

    [Fact]
    public void ColourInputsLeaveTheRestoredFaceAlone()
    {
        var face = RgbImages.Smooth(16, 16);
        Assert.Same(face, GreyscaleFaces.PrepareRestoredFace(face, inputIsGreyscale: false, inputCrop: face));
    }

    [Fact]
    public void AGreyInputStaysGreyAndIsNotBlackAfterRestorationAndPasteBack()
    {
        var input = GreyVersion(RgbImages.Smooth(240, 220));
        Assert.True(GreyscaleDetector.LooksGreyscale(input));
        double a = 0.3;
        var faceToImage = new AffineTransform(a, 0, 120 - a * 256, 0, a, 110 - a * 256);
        var landmarks = FfhqTemplate.ForFaceSize().Select(p => faceToImage.Apply(p)).ToArray();
        var aligned = new FaceAligner().Align(input, landmarks);

        // A "restored" face with a strong colour cast and an overbright spot, like a network's output might have.
        var restored = aligned.Crop.Clone();
        for (int i = 0; i < restored.Pixels.Length; i += 3)
        {
            restored.Pixels[i] = Math.Min(255, restored.Pixels[i] * 1.4f);
            restored.Pixels[i + 2] *= 0.5f;
        }
        for (int y = 200; y < 230; y++)
        {
            for (int x = 200; x < 230; x++)
            {
                RgbImages.Set(restored, x, y, 255, 255, 255);
            }
        }

        var prepared = GreyscaleFaces.PrepareRestoredFace(restored, GreyscaleDetector.LooksGreyscale(input), aligned.Crop);
        var result = new FacePaster().Paste(input, [new FaceToPaste(prepared, aligned.ImageToFace)], new PasteOptions());

        Assert.True(GreyscaleDetector.LooksGreyscale(result, threshold: 0.01));
        double inputMean = 0, resultMean = 0;
        for (int y = 80; y < 140; y++)
        {
            for (int x = 90; x < 150; x++)
            {
                inputMean += RgbImages.At(input, x, y, 1);
                resultMean += RgbImages.At(result, x, y, 1);
                Assert.InRange(RgbImages.At(result, x, y, 0), 0f, 255f);
            }
        }
        inputMean /= 3600;
        resultMean /= 3600;
        Assert.True(resultMean > 40, $"face region mean {resultMean:F1}: the result went dark");
        Assert.True(Math.Abs(resultMean - inputMean) < 20, $"face region mean {resultMean:F1} vs input {inputMean:F1}");
    }
}
