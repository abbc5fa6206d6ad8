using System.Numerics;
using CodeFormer.Engine.Compositing;
using CodeFormer.Engine.Geometry;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Tests.Geometry;
using CodeFormer.Testing;

namespace CodeFormer.Engine.Tests.Compositing;

public sealed class FacePasterTests
{
    /// <summary>Plausible 5-point landmarks for the face in astronaut.png (eyes, nose tip, mouth corners).</summary>
    private static readonly Vector2[] AstronautLandmarks = [new(203, 101), new(246, 101), new(225, 124), new(207, 146), new(242, 146)];

    /// <summary>Landmarks of a face centred at (cx, cy) spanning about 512·scale px, turned by the given angle.</summary>
    private static Vector2[] LandmarksAround(double cx, double cy, double scale, double degrees = 0)
    {
        double a = scale * Math.Cos(degrees * Math.PI / 180), b = scale * Math.Sin(degrees * Math.PI / 180);
        var faceToImage = new AffineTransform(a, -b, cx - (a * 256 - b * 256), b, a, cy - (b * 256 + a * 256));
        return FfhqTemplate.ForFaceSize().Select(p => faceToImage.Apply(p)).ToArray();
    }

    /// <summary>True where the canvas pixel maps into the face square shrunk by <paramref name="inset"/> face pixels.</summary>
    private static bool InFace(AffineTransform canvasToFace, int x, int y, double inset)
    {
        var (u, v) = canvasToFace.Apply(x, y);
        return u >= inset && v >= inset && u <= 511 - inset && v <= 511 - inset;
    }

    [Fact]
    public void FaceToCanvasKeepsPixelCentresAligned()
    {
        var m = new AffineTransform(2.1, -0.4, -150, 0.4, 2.1, -90);
        var inverse = m.Invert();
        Assert.Equal(inverse, FacePaster.FaceToCanvas(m, 1, faceUpsampled: false));
        Assert.Equal(inverse, FacePaster.FaceToCanvas(m, 1, faceUpsampled: true));

        // Deliberate deviation from the reference (+0.5·s): a photo pixel centre x sits at s·x + 0.5·s − 0.5 on the
        // INTER_LINEAR-upscaled canvas, so the translation gains 0.5·s − 0.5 (1.0 at s = 3, reference 1.5).
        var three = FacePaster.FaceToCanvas(m, 3, faceUpsampled: false);
        var expected = inverse.Scale(3);
        Assert.Equal(expected.A, three.A, 12);
        Assert.Equal(expected.C + 1.0, three.C, 9);
        Assert.Equal(expected.F + 1.0, three.F, 9);

        // An upsampled face pixel u' is face pixel (u' + 0.5)/s − 0.5: the same canvas point as before for every u'.
        var upsampled = FacePaster.FaceToCanvas(m, 3, faceUpsampled: true);
        foreach (var (u, v) in new[] { (0.0, 0.0), (100.0, 300.0), (511.0, 7.5) })
        {
            var viaFace = three.Apply(u, v);
            var viaUpsampled = upsampled.Apply(3 * u + 1, 3 * v + 1);
            Assert.Equal(viaFace.X, viaUpsampled.X, 9);
            Assert.Equal(viaFace.Y, viaUpsampled.Y, 9);
        }
        Assert.Equal(inverse.A, upsampled.A, 12);
        Assert.Equal(inverse.B, upsampled.B, 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => FacePaster.FaceToCanvas(m, 0, false));
    }

    [AssetFact("images/astronaut.png")]
    public void PastingTheUnchangedCropBackReproducesThePhoto()
    {
        var photo = RgbImages.Load(TestAssets.PathOf("images/astronaut.png"));
        var aligned = new FaceAligner().Align(photo, AstronautLandmarks);
        var result = new FacePaster().Paste(photo, [new FaceToPaste(aligned.Crop, aligned.ImageToFace)], new PasteOptions());
        var canvasToFace = FacePaster.FaceToCanvas(aligned.ImageToFace, 1, false).Invert();

        double sumInside = 0;
        var deepErrors = new List<float>();
        int countInside = 0, changedFarAway = 0;
        for (int y = 0; y < photo.Height; y++)
        {
            for (int x = 0; x < photo.Width; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    float diff = Math.Abs(RgbImages.At(result, x, y, c) - RgbImages.At(photo, x, y, c));
                    if (InFace(canvasToFace, x, y, 0))
                    {
                        sumInside += diff;
                        countInside++;
                    }
                    if (InFace(canvasToFace, x, y, 100))
                    {
                        deepErrors.Add(diff);
                    }
                    if (!InFace(canvasToFace, x, y, -20) && diff != 0)
                    {
                        changedFarAway++;
                    }
                }
            }
        }
        double meanInside = sumInside / countInside;
        deepErrors.Sort();
        float p99 = deepErrors[(int)(deepErrors.Count * 0.99)], max = deepErrors[^1];
        // The face covers ~170² px; the round trip is two bilinear resamplings (×3 up, ÷3 down): a blur of up to
        // ~⅓ px. Measured: mean 0.92 levels, and away from the feather p99 6.7 and max 26 (eyelash/teeth edges).
        Assert.True(meanInside < 2, $"mean abs error inside the face {meanInside:F3}");
        Assert.True(p99 < 10 && max < 40, $"away from the feathered edge: p99 {p99:F2}, max {max:F2}");
        Assert.Equal(0, changedFarAway);
        Assert.True(countInside > 3 * 150 * 150);
    }

    [AssetFact("images/astronaut.png")]
    public void AtScaleTwoTheFaceLandsOnTheUpscaledFace()
    {
        var photo = RgbImages.Load(TestAssets.PathOf("images/astronaut.png"));
        var aligned = new FaceAligner().Align(photo, AstronautLandmarks);
        var background = ImageResizer.ResizeBilinear(photo, 1024, 1024);
        var result = new FacePaster().Paste(background, [new FaceToPaste(aligned.Crop, aligned.ImageToFace)], new PasteOptions { Upscale = 2 });
        var canvasToFace = FacePaster.FaceToCanvas(aligned.ImageToFace, 2, false).Invert();

        double sum = 0;
        int count = 0, changedFarAway = 0;
        for (int y = 0; y < 1024; y++)
        {
            for (int x = 0; x < 1024; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    float diff = Math.Abs(RgbImages.At(result, x, y, c) - RgbImages.At(background, x, y, c));
                    if (InFace(canvasToFace, x, y, 0))
                    {
                        sum += diff;
                        count++;
                    }
                    else if (!InFace(canvasToFace, x, y, -20) && diff != 0)
                    {
                        changedFarAway++;
                    }
                }
            }
        }
        // With pixel centres aligned (FaceToCanvasKeepsPixelCentresAligned) the pasted face matches the INTER_LINEAR
        // background up to the two resamplings; the reference's +0.5·s offset measured 2.26 levels here.
        Assert.True(sum / count < 1.5, $"mean abs error inside the face {sum / count:F3}");
        Assert.Equal(0, changedFarAway);
    }

    /// <summary>
    /// The centroid of (image − level) in channel 0 within <paramref name="radius"/> of a point (the feather's rim,
    /// where the reference multiplies by a partly eroded mask, would otherwise add its own small mass).
    /// </summary>
    private static (double X, double Y) Centroid(RgbImage image, float level, double cx, double cy, int radius)
    {
        double mass = 0, mx = 0, my = 0;
        for (int y = Math.Max(0, (int)cy - radius); y <= Math.Min(image.Height - 1, (int)cy + radius); y++)
        {
            for (int x = Math.Max(0, (int)cx - radius); x <= Math.Min(image.Width - 1, (int)cx + radius); x++)
            {
                double v = RgbImages.At(image, x, y, 0) - level;
                mass += v;
                mx += v * x;
                my += v * y;
            }
        }
        return (mx / mass, my / mass);
    }

    private static RgbImage BlobImage(int size, double bx, double by)
    {
        var image = RgbImages.Filled(size, size, 50, 50, 50);
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                float v = 50 + (float)(200 * Math.Exp(-((x - bx) * (x - bx) + (y - by) * (y - by)) / (2 * 4.0 * 4.0)));
                RgbImages.Set(image, x, y, v, v, v);
            }
        }
        return image;
    }

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(2, 0.0)]
    [InlineData(3, 0.0)]
    [InlineData(4, 0.0)]
    public void PastedFaceLandsExactlyOnTheUpscaledBackground(int upscale, double shiftBeyondExact)
    {
        // A blob at p in the input sits at s·p + 0.5·s − 0.5 on an INTER_LINEAR-upscaled canvas. The reference maps
        // the face back with +0.5·s, which would land the pasted blob 0.5 canvas px further right and down for every
        // s > 1; we correct that on purpose (FacePaster.FaceToCanvas), so the blob lands exactly.
        (double X, double Y) blob = (100.3, 90.7);
        var input = BlobImage(200, blob.X, blob.Y);
        var aligned = new FaceAligner().Align(input, LandmarksAround(100, 95, 0.25));
        var flat = RgbImages.Filled(200 * upscale, 200 * upscale, 50, 50, 50);
        var result = new FacePaster().Paste(flat, [new FaceToPaste(aligned.Crop, aligned.ImageToFace)], new PasteOptions { Upscale = upscale });

        double exactX = upscale * blob.X + 0.5 * upscale - 0.5, exactY = upscale * blob.Y + 0.5 * upscale - 0.5;
        var (cx, cy) = Centroid(result, 50, exactX, exactY, 28 * upscale);
        Assert.True(Math.Abs(cx - (exactX + shiftBeyondExact)) < 0.05, $"blob x {cx:F3}, exact {exactX:F3}, expected shift {shiftBeyondExact}");
        Assert.True(Math.Abs(cy - (exactY + shiftBeyondExact)) < 0.05, $"blob y {cy:F3}, exact {exactY:F3}, expected shift {shiftBeyondExact}");
    }

    [Theory]
    [InlineData(150, 120, 0.3, 1)]   // well inside
    [InlineData(20, 200, 0.35, 1)]   // hanging off the left edge
    [InlineData(280, 230, 0.3, 2)]   // off the bottom-right corner, upscaled
    public void WorkingOnTheFaceFootprintGivesTheSameAsTheWholeCanvas(double cx, double cy, double scale, int upscale)
    {
        // The reference warps, erodes and blurs the whole canvas; the paster only the face's block. Recompute the
        // reference way from the public pieces and compare, including where the face leaves the canvas (OpenCV's
        // erosion ignores outside pixels and its blur reflects at the canvas edge, not at the block's edge).
        var input = RgbImages.Smooth(300, 250);
        var aligned = new FaceAligner().Align(input, LandmarksAround(cx, cy, scale, 7));
        var restored = RgbImages.Noise(512, 512, 3);
        var canvas = ImageResizer.ResizeBilinear(input, 300 * upscale, 250 * upscale);
        var pasted = new FacePaster().Paste(canvas, [new FaceToPaste(restored, aligned.ImageToFace)], new PasteOptions { Upscale = upscale });

        var faceToCanvas = FacePaster.FaceToCanvas(aligned.ImageToFace, upscale, false);
        var warped = AffineWarper.Warp(restored, faceToCanvas, canvas.Width, canvas.Height, WarpBorder.Zero);
        var square = AffineWarper.Warp(FloatPlane.Filled(512, 512, 1f), faceToCanvas, canvas.Width, canvas.Height, WarpBorder.Zero);
        var mask = FeatherMask.Build(square, upscale);
        for (int i = 0; i < canvas.Width * canvas.Height; i++)
        {
            float m = mask.Soft.Values[i], e = mask.Eroded.Values[i];
            for (int c = 0; c < 3; c++)
            {
                float expected = m * (e * warped.Pixels[i * 3 + c]) + (1 - m) * canvas.Pixels[i * 3 + c];
                Assert.True(Math.Abs(expected - pasted.Pixels[i * 3 + c]) < 1e-3, $"pixel {i % canvas.Width}, {i / canvas.Width}: {pasted.Pixels[i * 3 + c]} vs {expected}");
            }
        }
        Assert.True(mask.Area > 1000);
    }

    [Fact]
    public void TwoFacesPastedOneAfterTheOtherBothLand()
    {
        var input = RgbImages.Smooth(400, 300);
        var left = new FaceAligner().Align(input, LandmarksAround(100, 150, 0.2, 10));
        var right = new FaceAligner().Align(input, LandmarksAround(300, 150, 0.25, -15));
        var red = RgbImages.Filled(512, 512, 255, 0, 0);
        var blue = RgbImages.Filled(512, 512, 0, 0, 255);

        var result = new FacePaster().Paste(input, [new FaceToPaste(red, left.ImageToFace), new FaceToPaste(blue, right.ImageToFace)], new PasteOptions());

        AssertColour(result, 100, 150, 255, 0, 0);
        AssertColour(result, 300, 150, 0, 0, 255);
        Assert.Equal(RgbImages.At(input, 200, 20, 1), RgbImages.At(result, 200, 20, 1));
        Assert.Equal(RgbImages.At(input, 200, 150, 0), RgbImages.At(result, 200, 150, 0));

        // Same place twice: the later face is blended over the earlier one.
        var both = new FacePaster().Paste(input, [new FaceToPaste(red, left.ImageToFace), new FaceToPaste(blue, left.ImageToFace)], new PasteOptions());
        AssertColour(both, 100, 150, 0, 0, 255);
    }

    /// <summary>Deep inside a face the soft mask is 1 up to float rounding of the blur (≈1e-7).</summary>
    private static void AssertColour(RgbImage image, int x, int y, float r, float g, float b)
    {
        float[] actual = [RgbImages.At(image, x, y, 0), RgbImages.At(image, x, y, 1), RgbImages.At(image, x, y, 2)];
        float[] expected = [r, g, b];
        for (int c = 0; c < 3; c++)
        {
            Assert.True(Math.Abs(actual[c] - expected[c]) < 1e-3, $"pixel ({x}, {y}) is ({string.Join(", ", actual)}), expected ({r}, {g}, {b})");
        }
    }

    [Fact]
    public void TheBackgroundAlphaIsKeptAndTheInputIsNotModified()
    {
        var input = RgbImages.Smooth(200, 200);
        var alpha = Enumerable.Range(0, 200 * 200).Select(i => (float)(i % 256)).ToArray();
        var background = new RgbImage(200, 200, (float[])input.Pixels.Clone()) { Alpha = alpha };
        var aligned = new FaceAligner().Align(input, LandmarksAround(100, 100, 0.25));
        var result = new FacePaster().Paste(background, [new FaceToPaste(RgbImages.Filled(512, 512, 9, 9, 9), aligned.ImageToFace)], new PasteOptions());

        Assert.Equal(alpha, result.Alpha);
        Assert.Equal(input.Pixels, background.Pixels);
        AssertColour(result, 100, 100, 9, 9, 9);
    }

    [Fact]
    public void DrawBoxPaintsAGreenFrameOverTheFaceEdge()
    {
        var input = RgbImages.Smooth(300, 300);
        var aligned = new FaceAligner().Align(input, LandmarksAround(150, 150, 0.4));
        var face = new FaceToPaste(aligned.Crop, aligned.ImageToFace);
        var boxed = new FacePaster().Paste(input, [face], new PasteOptions { DrawBox = true });
        var plain = new FacePaster().Paste(input, [face], new PasteOptions());

        // Face ≈ 205 px on the canvas → area ≈ 204², frame int(1400/204) = 6 face px ≈ 2.4 canvas px.
        float[] Rgb(RgbImage i, int x, int y) => [RgbImages.At(i, x, y, 0), RgbImages.At(i, x, y, 1), RgbImages.At(i, x, y, 2)];
        var faceToCanvas = FacePaster.FaceToCanvas(aligned.ImageToFace, 1, false);
        var (ex, ey) = faceToCanvas.Apply(256, 3);
        AssertColour(boxed, (int)Math.Round(ex), (int)Math.Round(ey), 0, 255, 0);
        Assert.Equal(Rgb(plain, 150, 150), Rgb(boxed, 150, 150));
        Assert.NotEqual(255f, RgbImages.At(plain, (int)Math.Round(ex), (int)Math.Round(ey), 1));
    }

    [Fact]
    public void BoxBorderFollowsNumpySlicing()
    {
        var frame = FacePaster.BoxBorder(20, 20, area: 1400.0 * 1400 / 9); // thickness 3
        Assert.Equal(1f, frame[2, 10]);
        Assert.Equal(0f, frame[3, 10]);
        Assert.Equal(0f, frame[16, 16]);
        Assert.Equal(1f, frame[17, 16]);
        Assert.All(FacePaster.BoxBorder(20, 20, area: 1e12).Values, v => Assert.Equal(0f, v)); // thickness 0 clears all
        Assert.All(FacePaster.BoxBorder(20, 20, area: 1400.0 * 1400 / 100).Values, v => Assert.Equal(1f, v)); // 10: nothing left inside
    }

    [Fact]
    public void FaceUpsampledFacesAreMappedWithoutTheOffsetAtTheirOwnSize()
    {
        var input = RgbImages.Smooth(200, 200);
        var aligned = new FaceAligner().Align(input, LandmarksAround(100, 100, 0.25));
        var upsampledFace = ImageResizer.ResizeBilinear(RgbImages.Filled(512, 512, 10, 200, 30), 1024, 1024);
        var canvas = ImageResizer.ResizeBilinear(input, 400, 400);
        var result = new FacePaster().Paste(canvas, [new FaceToPaste(upsampledFace, aligned.ImageToFace)],
            new PasteOptions { Upscale = 2, FaceUpsampled = true });
        AssertColour(result, 200, 200, 10, 200, 30);
        Assert.Equal(RgbImages.At(canvas, 5, 5, 1), RgbImages.At(result, 5, 5, 1));

        var error = Assert.Throws<ArgumentException>(() => new FacePaster().Paste(canvas, [new FaceToPaste(aligned.Crop, aligned.ImageToFace)],
            new PasteOptions { Upscale = 2, FaceUpsampled = true }));
        Assert.Contains("expected 1024×1024", error.Message);
    }

    [Fact]
    public void AParsingMaskIsCombinedByMinimum()
    {
        var input = RgbImages.Smooth(200, 200);
        var aligned = new FaceAligner().Align(input, LandmarksAround(100, 100, 0.3));
        var white = RgbImages.Filled(512, 512, 255, 255, 255);
        var face = new FaceToPaste(white, aligned.ImageToFace);

        var none = new FacePaster(new FixedMask(FloatPlane.Filled(512, 512, 0f))).Paste(input, [face], new PasteOptions());
        Assert.Equal(input.Pixels, none.Pixels);

        // An all-ones parse mask, warped, is 1 wherever the square soft mask is not already smaller, so it changes
        // nothing but the outermost rim (where the soft mask's blur tail exceeds the warped mask's bilinear edge).
        var full = new FacePaster(new FixedMask(FloatPlane.Filled(512, 512, 1f))).Paste(input, [face], new PasteOptions());
        var square = new FacePaster().Paste(input, [face], new PasteOptions());
        Assert.True(full.Pixels.Zip(square.Pixels).Max(p => Math.Abs(p.First - p.Second)) < 1f);
        Assert.Equal(RgbImages.At(square, 100, 100, 0), RgbImages.At(full, 100, 100, 0));

        var leftHalf = FloatPlane.Filled(512, 512, 0f);
        for (int y = 0; y < 512; y++)
        {
            leftHalf.Values.AsSpan(y * 512, 256).Fill(1f);
        }
        var half = new FacePaster(new FixedMask(leftHalf)).Paste(input, [face], new PasteOptions());
        AssertColour(half, 80, 100, 255, 255, 255);
        Assert.Equal(RgbImages.At(input, 120, 100, 0), RgbImages.At(half, 120, 100, 0));

        Assert.Throws<InvalidOperationException>(() => new FacePaster(new FixedMask(FloatPlane.Filled(256, 256, 1f))).Paste(input, [face], new PasteOptions()));
        Assert.Throws<InvalidOperationException>(() => new FacePaster(new FixedMask(FloatPlane.Filled(512, 512, 2f))).Paste(input, [face], new PasteOptions()));
    }

    [Fact]
    public void FacesOffTheCanvasChangeNothingAndBadInputIsRejected()
    {
        var input = RgbImages.Smooth(100, 100);
        var offCanvas = new AffineTransform(4, 0, 3000, 0, 4, 3000); // face → image far to the top-left
        var result = new FacePaster().Paste(input, [new FaceToPaste(RgbImages.Filled(512, 512, 1, 2, 3), offCanvas)], new PasteOptions());
        Assert.Equal(input.Pixels, result.Pixels);

        var wrongSize = Assert.Throws<ArgumentException>(() =>
            new FacePaster().Paste(input, [new FaceToPaste(RgbImages.Filled(300, 300, 0, 0, 0), AffineTransform.Identity)], new PasteOptions()));
        Assert.Contains("300×300, expected 512×512", wrongSize.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new FacePaster().Paste(input, [], new PasteOptions { Upscale = 0 }));
        Assert.Contains("singular", Assert.Throws<ArgumentException>(() =>
            new FacePaster().Paste(input, [new FaceToPaste(RgbImages.Filled(512, 512, 0, 0, 0), new AffineTransform(0, 0, 0, 0, 0, 0))], new PasteOptions())).Message);
    }

    private sealed class FixedMask(FloatPlane mask) : IFaceMaskProvider
    {
        public FloatPlane? MaskFor(RgbImage restoredFace) => mask;
    }
}
