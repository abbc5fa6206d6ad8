using System.Numerics;
using CodeFormer.Engine.Geometry;
using CodeFormer.Engine.Imaging;

namespace CodeFormer.Engine.Tests.Geometry;

public sealed class FaceAlignerTests
{
    /// <summary>An image → face similarity: a face about 150 px wide, turned by 12°, inside a 300×280 image.</summary>
    private static readonly AffineTransform ImageToFace = MakeSimilarity(scale: 3.4, degrees: 12, tx: -300, ty: -220);

    private static AffineTransform MakeSimilarity(double scale, double degrees, double tx, double ty)
    {
        double a = scale * Math.Cos(degrees * Math.PI / 180), b = scale * Math.Sin(degrees * Math.PI / 180);
        return new AffineTransform(a, -b, tx, b, a, ty);
    }

    private static Vector2[] LandmarksFor(AffineTransform imageToFace, int faceSize = 512) =>
        FfhqTemplate.ForFaceSize(faceSize).Select(p => imageToFace.Invert().Apply(p)).ToArray();

    /// <summary>Exact bilinear sampling in double precision with a constant border, written independently of the warper.</summary>
    private static double Sample(RgbImage image, double x, double y, int c, double border)
    {
        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
        double fx = x - x0, fy = y - y0;
        double Get(int px, int py) => px >= 0 && py >= 0 && px < image.Width && py < image.Height ? RgbImages.At(image, px, py, c) : border;
        return (1 - fy) * ((1 - fx) * Get(x0, y0) + fx * Get(x0 + 1, y0)) + fy * ((1 - fx) * Get(x0, y0 + 1) + fx * Get(x0 + 1, y0 + 1));
    }

    [Fact]
    public void FindsTheAlignmentAndSamplesTheImageThroughIt()
    {
        var image = RgbImages.Smooth(300, 280);
        var aligned = new FaceAligner().Align(image, LandmarksFor(ImageToFace));

        Assert.Equal(512, aligned.Crop.Width);
        Assert.Equal(512, aligned.Crop.Height);
        foreach (var (e, a) in ImageToFace.ToArray().Zip(aligned.ImageToFace.ToArray()))
        {
            Assert.True(Math.Abs(e - a) < 1e-4, $"{ImageToFace} vs {aligned.ImageToFace}");
        }
        var faceToImage = aligned.ImageToFace.Invert();
        double worst = 0;
        for (int v = 0; v < 512; v += 7)
        {
            for (int u = 0; u < 512; u += 7)
            {
                var (x, y) = faceToImage.Apply(u, v);
                for (int c = 0; c < 3; c++)
                {
                    double expected = Sample(image, x, y, c, c == 0 ? 132 : c == 1 ? 133 : 135);
                    worst = Math.Max(worst, Math.Abs(expected - RgbImages.At(aligned.Crop, u, v, c)));
                }
            }
        }
        // Only OpenCV's 1/32-pixel quantisation of the sampling position separates the two (at most 1/64 px here).
        Assert.True(worst < 0.5, $"worst deviation from exact bilinear sampling: {worst}");
    }

    [Fact]
    public void LandmarksLandOnTheTemplate()
    {
        var landmarks = LandmarksFor(ImageToFace);
        var aligned = new FaceAligner().Align(RgbImages.Smooth(300, 280), landmarks);
        var template = FfhqTemplate.ForFaceSize();
        for (int k = 0; k < 5; k++)
        {
            var mapped = aligned.ImageToFace.Apply(landmarks[k]);
            Assert.True(Vector2.Distance(template[k], mapped) < 1e-3, $"landmark {k} maps to {mapped}, template {template[k]}");
        }
    }

    [Fact]
    public void OutsideTheImageTheCropIsTheReferenceGreyInRgb()
    {
        // A face hanging off the top-left corner: the crop's corner samples nothing.
        var landmarks = LandmarksFor(MakeSimilarity(3, 0, 150, 150));
        var aligned = new FaceAligner().Align(RgbImages.Smooth(300, 280), landmarks);
        Assert.Equal([132f, 133f, 135f], [RgbImages.At(aligned.Crop, 0, 0, 0), RgbImages.At(aligned.Crop, 0, 0, 1), RgbImages.At(aligned.Crop, 0, 0, 2)]);
        Assert.NotEqual(132f, RgbImages.At(aligned.Crop, 500, 500, 0));
    }

    [Fact]
    public void OtherFaceSizesScaleTheTemplate()
    {
        var imageToFace256 = MakeSimilarity(1.7, 12, -150, -110);
        var aligned = new FaceAligner().Align(RgbImages.Smooth(300, 280), LandmarksFor(imageToFace256, 256), faceSize: 256);
        Assert.Equal(256, aligned.Crop.Width);
        Assert.True(Math.Abs(aligned.ImageToFace.A - imageToFace256.A) < 1e-5);
    }

    [Fact]
    public void RejectsAnythingButFiveLandmarks()
    {
        var error = Assert.Throws<ArgumentException>(() => new FaceAligner().Align(RgbImages.Smooth(10, 10), FfhqTemplate.ForFaceSize().Take(3).ToArray()));
        Assert.Contains("got 3", error.Message);
    }

    [Fact]
    public void AlignedInputIsResizedWithInterLinear()
    {
        var crop = RgbImages.Smooth(256, 256);
        var aligned = new FaceAligner().FromAlignedInput(crop);
        Assert.Equal(ImageResizer.ResizeBilinear(crop, 512, 512).Pixels, aligned.Crop.Pixels);
        Assert.Equal(new AffineTransform(2, 0, 0.5, 0, 2, 0.5), aligned.ImageToFace);

        var already = RgbImages.Smooth(512, 512);
        var same = new FaceAligner().FromAlignedInput(already);
        Assert.Equal(already.Pixels, same.Crop.Pixels);
        Assert.NotSame(already.Pixels, same.Crop.Pixels);
    }
}
