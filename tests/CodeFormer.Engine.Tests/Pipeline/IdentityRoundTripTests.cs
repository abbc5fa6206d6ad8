using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Testing;
using Xunit.Abstractions;
using static CodeFormer.Engine.Tests.Pipeline.PhotoAssertions;
using static CodeFormer.Engine.Tests.Pipeline.PipelineFixture;

namespace CodeFormer.Engine.Tests.Pipeline;

/// <summary>
/// With a network that returns its input, align → restore → paste back must give the photo back: nearly exactly on
/// the face (two bilinear resamplings apart), exactly everywhere the paste-back does not reach.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class IdentityRoundTripTests(PipelineFixture fixture, ITestOutputHelper output)
{
    /// <summary>Feather (w_edge ≤ √area/20), first erosion 2s and the bilinear fringe all stay well inside this margin.</summary>
    private const int FootprintMargin = 48;

    [AssetFact(YuNet, Astronaut)]
    public void Astronaut_at_scale_1_comes_back_as_it_went_in()
    {
        var input = Decode(fixture.Photo(Astronaut));
        var result = fixture.Identity.Restore(fixture.Photo(Astronaut), new RestorationOptions { Upscale = 1 });
        var restored = Decode(result.Image);

        var face = Assert.Single(result.Faces);
        Assert.Equal((512, 512), (result.Width, result.Height));
        double faceError = MeanAbsDifference(input, restored, (int)face.Box[0], (int)face.Box[1], (int)Math.Ceiling(face.Box[2]), (int)Math.Ceiling(face.Box[3]));
        var footprint = PasteFootprint(face, 512, 1, FootprintMargin, 512, 512);
        long untouched = AssertIdenticalOutside(input, restored, [footprint]);
        output.WriteLine($"face box mean |error| {faceError:F3} levels; footprint {footprint}; {untouched} pixels compared exactly");

        // Two bilinear resamplings (photo → 512² crop → photo) of a face magnified about 3.5× soften its finest
        // detail a little: measured 1.01 levels on average over the box.
        Assert.InRange(faceError, 0, 1.5);
        Assert.True(untouched > 512 * 512 / 4, $"only {untouched} pixels lie outside the face footprint {footprint}");
    }

    [AssetFact(YuNet, Astronaut)]
    public void Astronaut_at_scale_2_is_a_bilinear_2x_enlargement_with_the_face_pasted_back_in_place()
    {
        var input = Decode(fixture.Photo(Astronaut));
        var result = fixture.Identity.Restore(fixture.Photo(Astronaut), new RestorationOptions { Upscale = 2 });
        var restored = Decode(result.Image);
        var expected = AsEncoded(ImageResizer.ResizeBilinear(input, 1024, 1024));

        var face = Assert.Single(result.Faces);
        Assert.Equal((1024, 1024), (result.Width, result.Height));
        Assert.Equal((512, 512), (result.InputWidth, result.InputHeight));
        double faceError = MeanAbsDifference(expected, restored,
            (int)(2 * face.Box[0]), (int)(2 * face.Box[1]), (int)Math.Ceiling(2 * face.Box[2]), (int)Math.Ceiling(2 * face.Box[3]));
        var footprint = PasteFootprint(face, 512, 2, 2 * FootprintMargin, 1024, 1024);
        long untouched = AssertIdenticalOutside(expected, restored, [footprint]);
        output.WriteLine($"face box mean |error| {faceError:F3} levels; footprint {footprint}; {untouched} pixels compared exactly");

        // FacePaster.FaceToCanvas keeps pixel centres aligned (0.5·s − 0.5, not the reference's 0.5·s), so the pasted
        // face agrees with the bilinear background; with the reference's offset this measured 2.93 levels.
        Assert.InRange(faceError, 0, 0.5);
        Assert.True(untouched > 1024 * 1024 / 4, $"only {untouched} pixels lie outside the face footprint {footprint}");
    }

    [AssetFact(YuNet, Astronaut)]
    public void Aligned_input_is_restored_as_a_512_crop_without_detection()
    {
        var input = Decode(fixture.Photo(Astronaut));
        var result = fixture.Identity.Restore(fixture.Photo(Astronaut), new RestorationOptions { InputIsAligned = true, Upscale = 2 });

        Assert.Equal((512, 512), (result.Width, result.Height));
        Assert.Empty(result.Faces);
        Assert.False(result.Timings.Milliseconds.ContainsKey(RestorationStage.Detect));
        // Identity network, no resize (the crop already is 512²), no paste-back: the very same pixels.
        Assert.Equal(input.Pixels, Decode(result.Image).Pixels);
    }

    [AssetFact(YuNet, Astronaut)]
    public void An_engine_without_a_detector_restores_aligned_crops_and_refuses_whole_photos()
    {
        var engine = fixture.IdentityWithoutDetector;
        var result = engine.Restore(fixture.Photo(Astronaut), new RestorationOptions { InputIsAligned = true });
        Assert.Equal((512, 512), (result.Width, result.Height));

        var error = Assert.Throws<PhotoRefusedException>(() => engine.Restore(fixture.Photo(Astronaut), new RestorationOptions()));
        Assert.Contains("detector", error.Message);
    }
}
