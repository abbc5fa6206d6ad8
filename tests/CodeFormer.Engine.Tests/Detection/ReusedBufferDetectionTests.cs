using CodeFormer.Engine.Detection;
using CodeFormer.Testing;
using static CodeFormer.Engine.Tests.Detection.DetectorModels;

namespace CodeFormer.Engine.Tests.Detection;

/// <summary>
/// <see cref="FaceDetectionOptions.ReuseBuffers"/> (video) keeps the detector's resized copy, tensors and output copies
/// from image to image. Reused arrays hold the last image's values, so this checks that a detector that reuses finds
/// exactly what a fresh one finds, image after image, sizes changing in between (whole-image and tiled passes).
/// </summary>
public sealed class ReusedBufferDetectionTests(DetectorModels models) : IClassFixture<DetectorModels>
{
    [AssetTheory(YuNet2023Mar, RetinaFace, Astronaut, Hopper, HopperTiny, Solvay)]
    [InlineData(YuNet2023Mar)]
    [InlineData(RetinaFace)]
    public void A_detector_that_reuses_its_buffers_finds_what_a_fresh_one_finds(string model)
    {
        using var reusing = models.Create(model, new FaceDetectionOptions { ReuseBuffers = true });
        string[] sequence = [Hopper, Hopper, Astronaut, Solvay, HopperTiny, Hopper, Solvay];

        foreach (var photo in sequence)
        {
            var image = models.Image(photo);
            var expected = models.Default(model).Detect(image);
            var actual = reusing.Detect(image);
            Assert.Equal(expected.Count, actual.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Score, actual[i].Score);
                Assert.Equal(expected[i].X1, actual[i].X1);
                Assert.Equal(expected[i].Y2, actual[i].Y2);
                Assert.Equal(expected[i].Landmarks, actual[i].Landmarks);
            }
        }
    }
}
