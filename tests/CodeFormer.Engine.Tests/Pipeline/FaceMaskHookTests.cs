using CodeFormer.Engine.Compositing;
using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Restoration;
using CodeFormer.Testing;
using static CodeFormer.Engine.Tests.Pipeline.PhotoAssertions;
using static CodeFormer.Engine.Tests.Pipeline.PipelineFixture;

namespace CodeFormer.Engine.Tests.Pipeline;

/// <summary>
/// The parsing-mask hook of the paste-back (reference ParseNet; no parsing model ships): the engine hands every
/// restored face to the provider and blends through min(square mask, provider mask).
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class FaceMaskHookTests(PipelineFixture fixture)
{
    private sealed class ConstantMask(float value) : IFaceMaskProvider
    {
        public List<(int Width, int Height)> Faces { get; } = [];

        public FloatPlane? MaskFor(RgbImage restoredFace)
        {
            Faces.Add((restoredFace.Width, restoredFace.Height));
            return FloatPlane.Filled(restoredFace.Width, restoredFace.Height, value);
        }
    }

    private RestorationResult RestoreWith(IFaceMaskProvider provider)
    {
        using var engine = new RestorationEngine(
            CodeFormerSession.Open(fixture.TinyModelPath, fixture.SessionOptions),
            new YuNetDetector(TestAssets.PathOf(YuNet), fixture.SessionOptions),
            upsampler: null,
            new EngineSettings(),
            provider);
        return engine.Restore(fixture.Photo(Astronaut), new RestorationOptions { Upscale = 2 });
    }

    [AssetFact(YuNet, Astronaut)]
    public void A_zero_mask_keeps_every_face_out_and_a_full_mask_changes_nothing()
    {
        var input = Decode(fixture.Photo(Astronaut));
        var background = AsEncoded(ImageResizer.ResizeBilinear(input, 1024, 1024));
        var withoutProvider = fixture.TinyBatch4.Restore(fixture.Photo(Astronaut), new RestorationOptions { Upscale = 2 });
        var zero = new ConstantMask(0f);
        var one = new ConstantMask(1f);

        var masked = Decode(RestoreWith(zero).Image);
        var unmasked = RestoreWith(one);

        Assert.Equal([(64, 64)], zero.Faces);
        Assert.Equal([(64, 64)], one.Faces);
        // The random network's face differs from the photo, so only the zero mask can explain an untouched background.
        Assert.NotEqual(background.Pixels, Decode(withoutProvider.Image).Pixels);
        Assert.Equal(background.Pixels, masked.Pixels);
        Assert.Equal(withoutProvider.Image, unmasked.Image);
    }
}
