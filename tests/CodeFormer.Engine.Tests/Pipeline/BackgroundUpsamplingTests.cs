using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Testing;
using Xunit.Abstractions;
using static CodeFormer.Engine.Tests.Pipeline.PhotoAssertions;
using static CodeFormer.Engine.Tests.Pipeline.PipelineFixture;

namespace CodeFormer.Engine.Tests.Pipeline;

/// <summary>
/// Background and face upsampling through the engine, with a nearest-neighbour ×2 model of Real-ESRGAN's contract:
/// its answer is known, so where the background comes from (the original photo, reference B.2) can be checked exactly.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class BackgroundUpsamplingTests(PipelineFixture fixture, ITestOutputHelper output)
{
    private static RgbImage NearestX2(RgbImage image)
    {
        var result = new RgbImage(image.Width * 2, image.Height * 2);
        for (int y = 0; y < result.Height; y++)
        {
            for (int x = 0; x < result.Width; x++)
            {
                Array.Copy(image.Pixels, ((y / 2) * image.Width + x / 2) * 3, result.Pixels, (y * result.Width + x) * 3, 3);
            }
        }
        return result;
    }

    [AssetFact(YuNet, HopperTiny)]
    public void The_background_of_a_small_photo_is_upsampled_from_the_original_then_resized_to_the_canvas()
    {
        var input = Decode(fixture.Photo(HopperTiny));
        var result = fixture.IdentityWithUpsampler.Restore(fixture.Photo(HopperTiny), new RestorationOptions { Upscale = 2, BackgroundUpsample = true });

        Assert.Equal((1024, 1024), (result.Width, result.Height));
        var face = Assert.Single(result.Faces);
        // Real-ESRGAN ×2 on the 128² original gives 256²; Lanczos-4 takes it to the 1024² canvas (2 × the 512² working copy).
        var expected = AsEncoded(LanczosResizer.Resize(NearestX2(input), 1024, 1024));
        var footprint = PasteFootprint(face, 512, 1024 / 128, 96, 1024, 1024);
        long compared = AssertIdenticalOutside(expected, Decode(result.Image), [footprint]);
        output.WriteLine($"footprint {footprint}; {compared} pixels identical");
        Assert.True(compared > 1024 * 1024 / 4);
    }

    [AssetFact(YuNet, Astronaut)]
    public void Face_upsampling_pastes_a_face_s_times_larger_in_the_same_place()
    {
        var input = Decode(fixture.Photo(Astronaut));
        var options = new RestorationOptions { Upscale = 2, BackgroundUpsample = true, FaceUpsample = true, IncludeFaceImages = true };
        var result = fixture.IdentityWithUpsampler.Restore(fixture.Photo(Astronaut), options);
        var restored = Decode(result.Image);

        var face = Assert.Single(result.Faces);
        Assert.Equal((1024, 1024), (result.Width, result.Height));
        var restoredFace = Decode(Assert.Single(result.FaceImages).RestoredPng);
        Assert.Equal((1024, 1024), (restoredFace.Width, restoredFace.Height));
        var background = AsEncoded(NearestX2(input));
        double faceError = MeanAbsDifference(background, restored,
            (int)(2 * face.Box[0]), (int)(2 * face.Box[1]), (int)Math.Ceiling(2 * face.Box[2]), (int)Math.Ceiling(2 * face.Box[3]));
        var footprint = PasteFootprint(face, 512, 2, 96, 1024, 1024);
        AssertIdenticalOutside(background, restored, [footprint]);
        output.WriteLine($"face box mean |error| against the nearest ×2 photo: {faceError:F3} levels");
        // Identity network, nearest ×2 face: the face lands where the photo's own pixels are, up to resampling
        // (with the reference's unshifted face-upsample placement this measured 3.77 levels).
        Assert.InRange(faceError, 0, 5.0);
    }
}
