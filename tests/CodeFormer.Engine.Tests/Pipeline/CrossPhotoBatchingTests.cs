using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Tests.Restoration;
using CodeFormer.Testing;
using static CodeFormer.Engine.Tests.Pipeline.PipelineFixture;

namespace CodeFormer.Engine.Tests.Pipeline;

/// <summary>One engine, many photos at once: faces of different photos share network batches, results do not change.</summary>
[Collection(PipelineCollection.Name)]
public sealed class CrossPhotoBatchingTests(PipelineFixture fixture)
{
    [AssetFact(YuNet, Astronaut, HopperJpeg, Bryan)]
    public async Task Faces_from_two_concurrent_photos_share_one_network_batch_and_each_result_equals_its_result_alone()
    {
        var network = new RecordingRestorer(512);
        using var engine = new RestorationEngine(network, new YuNetDetector(TestAssets.PathOf(YuNet), fixture.SessionOptions), upsampler: null,
            new EngineSettings { BatchSize = 8 })
        {
            // The recording "device" keeps no activations in host memory, as CUDA does not: only the packed batches.
            NetworkBytesPerFace = EngineMemoryProfile.HostTensorBytesPerFace(512),
        };
        var options = new RestorationOptions { Upscale = 1 };

        var astronautAlone = await engine.RestoreAsync(fixture.Photo(Astronaut), options);
        var astronautFaces = network.Batches.SelectMany(b => b).ToHashSet();
        int callsBefore = network.Calls;
        var hopperAlone = await engine.RestoreAsync(fixture.Photo(HopperJpeg), options);
        var hopperFaces = network.Batches.Skip(callsBefore).SelectMany(b => b).ToHashSet();
        Assert.NotEmpty(astronautFaces);
        Assert.NotEmpty(hopperFaces);
        Assert.Empty(astronautFaces.Intersect(hopperFaces));

        // A third photo holds the device; meanwhile both photos' faces queue, and on release they leave as one batch.
        network.Gate.Reset();
        int callsBeforeBlocker = network.Calls;
        var blocker = engine.RestoreAsync(fixture.Photo(Bryan), options);
        Waiting.Until(() => network.Calls > callsBeforeBlocker, "the blocking photo's face is on the device");
        var astronaut = engine.RestoreAsync(fixture.Photo(Astronaut), options);
        var hopper = engine.RestoreAsync(fixture.Photo(HopperJpeg), options);
        Waiting.Until(() => engine.Batching.QueuedFaces == astronautFaces.Count + hopperFaces.Count, "both photos' faces wait");
        network.Gate.Set();
        await Task.WhenAll(blocker, astronaut, hopper);

        var shared = network.Batches[callsBeforeBlocker + 1];
        Assert.Equal(astronautFaces.Union(hopperFaces).Order(), shared.Order());
        Assert.Equal(astronautAlone.Image, astronaut.Result.Image);
        Assert.Equal(hopperAlone.Image, hopper.Result.Image);
        Assert.Equal(astronautAlone.Faces.Select(f => f.Affine), astronaut.Result.Faces.Select(f => f.Affine));
    }

    [AssetFact(YuNet, Solvay, Astronaut, HopperJpeg, Bryan)]
    public async Task Many_photos_through_one_engine_at_once_give_the_same_bytes_as_one_at_a_time()
    {
        // The tiny random CodeFormer on ONNX Runtime, batches of 4: a real network, so batch composition could show.
        var engine = fixture.TinyBatch4;
        string[] photos = [Solvay, Astronaut, HopperJpeg, Bryan, Astronaut, HopperJpeg, Bryan, Solvay];
        var options = new RestorationOptions { Upscale = 1, IncludeFaceImages = true };
        var alone = new Dictionary<string, RestorationResult>();
        foreach (var photo in photos.Distinct())
        {
            alone[photo] = engine.Restore(fixture.Photo(photo), options);
        }

        var before = engine.Batching;
        var together = await Task.WhenAll(photos.Select(p => Task.Run(() => engine.RestoreAsync(fixture.Photo(p), options))));
        var work = engine.Batching.Since(before);

        for (int i = 0; i < photos.Length; i++)
        {
            var expected = alone[photos[i]];
            Assert.True(expected.Image.AsSpan().SequenceEqual(together[i].Image), $"photo {i} ({photos[i]}) differs from its result alone");
            Assert.Equal(expected.FaceImages.Select(f => f.RestoredPng), together[i].FaceImages.Select(f => f.RestoredPng));
        }
        Assert.Equal(photos.Sum(p => alone[p].Faces.Count), work.Faces);
    }

    [AssetFact(YuNet, Astronaut)]
    public async Task A_network_fault_reaches_the_host_as_a_model_fault_and_the_engine_keeps_serving()
    {
        bool broken = true;
        var network = new RecordingRestorer(512, isPoisoned: _ => Volatile.Read(ref broken));
        using var engine = new RestorationEngine(network, new YuNetDetector(TestAssets.PathOf(YuNet), fixture.SessionOptions), upsampler: null,
            new EngineSettings { BatchSize = 4 })
        {
            NetworkBytesPerFace = EngineMemoryProfile.HostTensorBytesPerFace(512),
        };

        var error = await Assert.ThrowsAsync<ModelFaultException>(() => engine.RestoreAsync(fixture.Photo(Astronaut), new RestorationOptions()));
        Assert.Equal(RestorationFailureKind.ModelFault, RestorationFailure.Classify(error));
        Assert.Contains("poisoned", error.Message);

        Volatile.Write(ref broken, false);
        var result = await engine.RestoreAsync(fixture.Photo(Astronaut), new RestorationOptions());
        Assert.Single(result.Faces);
    }
}
