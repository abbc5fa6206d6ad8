using CodeFormer.Engine.Pipeline;
using CodeFormer.Testing;
using Xunit.Abstractions;
using static CodeFormer.Engine.Tests.Pipeline.PhotoAssertions;
using static CodeFormer.Engine.Tests.Pipeline.PipelineFixture;

namespace CodeFormer.Engine.Tests.Pipeline;

/// <summary>
/// A real (tiny, random-weight) CodeFormer network: 64² faces instead of 512², so every size the pipeline derives
/// from the face size is exercised, and faces go through in batches.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class BatchingTests(PipelineFixture fixture, ITestOutputHelper output)
{
    internal static RestorationResult SolvayWithTiny(PipelineFixture fixture, int batchSize) => fixture.Cached($"solvay-tiny-{batchSize}", () =>
        (batchSize == 1 ? fixture.TinyBatch1 : fixture.TinyBatch4).Restore(fixture.Photo(Solvay), new RestorationOptions { IncludeFaceImages = true }));

    [AssetFact(YuNet, Solvay)]
    public void Batch_size_does_not_change_the_result()
    {
        var one = SolvayWithTiny(fixture, batchSize: 1);
        var four = SolvayWithTiny(fixture, batchSize: 4);
        output.WriteLine($"{one.Faces.Count} faces; restore {one.Timings.Milliseconds[RestorationStage.Restore]:F0} ms at batch 1, " +
            $"{four.Timings.Milliseconds[RestorationStage.Restore]:F0} ms at batch 4");

        Assert.True(one.Faces.Count >= 27);
        Assert.Equal(one.Faces.Select(f => f.Box), four.Faces.Select(f => f.Box));
        for (int i = 0; i < one.FaceImages.Count; i++)
        {
            Assert.True(one.FaceImages[i].RestoredPng.AsSpan().SequenceEqual(four.FaceImages[i].RestoredPng), $"restored face {i} differs between batch 1 and batch 4");
        }
        Assert.Equal(one.Image, four.Image);
    }

    [AssetFact(YuNet, Solvay)]
    public void A_64_pixel_network_is_aligned_to_and_pasted_from_64_pixel_faces()
    {
        Assert.Equal(64, fixture.TinyBatch4.FaceSize);
        var result = SolvayWithTiny(fixture, batchSize: 4);
        var identity = fixture.Cached("solvay-identity", () => fixture.Identity.Restore(fixture.Photo(Solvay), new RestorationOptions { Upscale = 1 }));

        Assert.Equal((2560, 1852), (result.Width, result.Height));
        Assert.Equal(result.Faces.Count, result.FaceImages.Count);
        foreach (var images in result.FaceImages)
        {
            var crop = Decode(images.CroppedPng);
            var restored = Decode(images.RestoredPng);
            Assert.Equal((64, 64), (crop.Width, crop.Height));
            Assert.Equal((64, 64), (restored.Width, restored.Height));
        }
        // Same landmarks, template scaled by 64/512: the matrices are the 512 ones scaled by 1/8.
        for (int i = 0; i < result.Faces.Count; i++)
        {
            var small = result.Faces[i].Affine;
            var large = identity.Faces[i].Affine;
            for (int k = 0; k < 6; k++)
            {
                Assert.Equal(large[k] / 8, small[k], 6);
            }
        }
    }
}
