using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Restoration;

namespace CodeFormer.Engine.Tests.Restoration;

/// <summary>The face batcher alone, with a recording fake network whose device can be held busy.</summary>
public sealed class FaceBatcherTests
{
    private const int Size = 4;
    private const int Length = 3 * Size * Size;

    private static float[] Face(float value) => Enumerable.Repeat(value, Length).ToArray();

    private static float[] Expected(float value) => Enumerable.Repeat(-0.8f * value + 0.1f, Length).ToArray();

    /// <summary>Holds the device with one face, so that what is queued next is taken as one batch on release.</summary>
    private static Task<float[]> HoldDevice(FaceBatcher batcher, RecordingRestorer network)
    {
        network.Gate.Reset();
        var blocker = batcher.RestoreAsync(Face(9f), 0.5);
        Waiting.Until(() => network.Calls == 1, "the blocking face is on the device");
        return blocker;
    }

    [Fact]
    public async Task A_failing_batch_is_retried_face_by_face_so_one_jobs_bad_face_cannot_fail_another_job()
    {
        const float poison = 0.25f;
        using var network = new RecordingRestorer(Size, isPoisoned: face => face[0] == poison);
        using var batcher = new FaceBatcher(network, maxBatch: 4);
        var blocker = HoldDevice(batcher, network);

        var goodJob = batcher.RestoreAsync(Face(0.5f), 0.5);
        var badJob = batcher.RestoreAsync(Face(poison), 0.5);
        var otherGoodJob = batcher.RestoreAsync(Face(-0.5f), 0.5);
        Waiting.Until(() => batcher.Statistics.QueuedFaces == 3, "three faces wait");
        network.Gate.Set();

        Assert.Equal(Expected(0.5f), await goodJob);
        Assert.Equal(Expected(-0.5f), await otherGoodJob);
        var error = await Assert.ThrowsAsync<ModelFaultException>(() => badJob);
        Assert.Contains("poisoned", error.Message);
        Assert.Equal(RestorationFailureKind.ModelFault, RestorationFailure.Classify(error));
        await blocker;
        // The shared batch of three failed once; then each face ran alone.
        var sizes = network.Batches.Select(b => b.Length).ToArray();
        Assert.Equal([1, 3, 1, 1, 1], sizes);
    }

    [Fact]
    public async Task Faces_waiting_together_go_through_as_one_batch_up_to_the_batch_size()
    {
        using var network = new RecordingRestorer(Size);
        using var batcher = new FaceBatcher(network, maxBatch: 4);
        var blocker = HoldDevice(batcher, network);

        var faces = Enumerable.Range(1, 6).Select(i => batcher.RestoreAsync(Face(i / 10f), 0.5)).ToArray();
        Waiting.Until(() => batcher.Statistics.QueuedFaces == 6, "six faces wait");
        network.Gate.Set();
        await Task.WhenAll(faces.Append(blocker));

        Assert.Equal([1, 4, 2], network.Batches.Select(b => b.Length));
        for (int i = 0; i < faces.Length; i++)
        {
            Assert.Equal(Expected((i + 1) / 10f), await faces[i]);
        }
        var statistics = batcher.Statistics;
        Assert.Equal(3, statistics.Batches);
        Assert.Equal(7, statistics.Faces);
        Assert.Equal([0L, 1, 1, 0, 1], statistics.BatchSizeCounts);
    }

    [Fact]
    public async Task Faces_asking_for_different_fidelities_never_share_a_batch()
    {
        using var network = new RecordingRestorer(Size);
        using var batcher = new FaceBatcher(network, maxBatch: 8);
        var blocker = HoldDevice(batcher, network);

        var jobs = new[] { (0.1f, 0.5), (0.2f, 0.7), (0.3f, 0.5), (0.4f, 0.7) }
            .Select(j => batcher.RestoreAsync(Face(j.Item1), j.Item2)).ToArray();
        Waiting.Until(() => batcher.Statistics.QueuedFaces == 4, "four faces wait");
        network.Gate.Set();
        await Task.WhenAll(jobs.Append(blocker));

        Assert.Equal([1, 2, 2], network.Batches.Select(b => b.Length));
        Assert.Equal([0.5, 0.5, 0.7], network.Fidelities);
    }

    [Fact]
    public async Task Cancelling_a_waiting_face_takes_it_out_of_the_queue_and_leaves_the_others()
    {
        using var network = new RecordingRestorer(Size);
        using var batcher = new FaceBatcher(network, maxBatch: 8);
        var blocker = HoldDevice(batcher, network);
        using var cancellation = new CancellationTokenSource();

        var kept = batcher.RestoreAsync(Face(0.1f), 0.5);
        var cancelled = batcher.RestoreAsync(Face(0.2f), 0.5, cancellation.Token);
        Waiting.Until(() => batcher.Statistics.QueuedFaces == 2, "two faces wait");
        cancellation.Cancel();
        Assert.Equal(1, batcher.Statistics.QueuedFaces);
        network.Gate.Set();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.Equal(Expected(0.1f), await kept);
        await blocker;
        Assert.Equal([1, 1], network.Batches.Select(b => b.Length));
    }

    [Fact]
    public async Task Disposing_fails_the_face_on_the_device_and_the_faces_waiting_instead_of_leaving_them_hanging()
    {
        using var network = new RecordingRestorer(Size);
        var batcher = new FaceBatcher(network, maxBatch: 1);
        var blocker = HoldDevice(batcher, network);
        var waiting = batcher.RestoreAsync(Face(0.1f), 0.5);
        Waiting.Until(() => batcher.Statistics.QueuedFaces == 1, "one face waits");

        // The fake's gate wait observes the batcher's token, as ONNX Runtime's Run does through RunOptions.Terminate.
        await Task.Run(batcher.Dispose);

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => blocker);
    }

    [Fact]
    public async Task Each_face_comes_back_in_its_own_array_so_no_face_sized_array_is_made_per_face()
    {
        using var network = new RecordingRestorer(Size);
        using var batcher = new FaceBatcher(network, maxBatch: 4);
        var blocker = HoldDevice(batcher, network);
        var faces = new[] { Face(0.1f), Face(0.2f), Face(0.3f) };

        var results = faces.Select(f => batcher.RestoreAsync(f, 0.5)).ToArray();
        Waiting.Until(() => batcher.Statistics.QueuedFaces == 3, "three faces wait");
        network.Gate.Set();
        await blocker;

        for (int i = 0; i < faces.Length; i++)
        {
            var result = await results[i];
            Assert.Same(faces[i], result);
            Assert.Equal(Expected((i + 1) / 10f), result);
        }
        Assert.Equal([1, 3], network.Batches.Select(b => b.Length));
    }

    [Fact]
    public void The_face_pool_hands_back_returned_arrays_and_keeps_no_more_than_its_capacity()
    {
        var pool = new FaceTensorPool(faceLength: Length, capacity: 2);
        var first = pool.Rent();
        var second = pool.Rent();
        var third = pool.Rent();
        Assert.Equal(Length, first.Length);
        Assert.Equal(3, new[] { first, second, third }.Distinct().Count());

        pool.Return(first);
        pool.Return(second);
        pool.Return(third); // over capacity: left to the GC
        Assert.Equal(2, pool.Count);
        var again = new[] { pool.Rent(), pool.Rent() };
        Assert.Equal(new[] { first, second }.OrderBy(a => a.GetHashCode()), again.OrderBy(a => a.GetHashCode()));
        Assert.NotSame(third, pool.Rent());
        Assert.Contains($"{Length} values", Assert.Throws<ArgumentException>(() => pool.Return(new float[Length + 1])).Message);
    }

    [Fact]
    public void A_face_of_the_wrong_length_is_refused_naming_the_expected_length()
    {
        using var network = new RecordingRestorer(Size);
        using var batcher = new FaceBatcher(network, maxBatch: 2);
        var error = Assert.Throws<ArgumentException>(() => { _ = batcher.RestoreAsync(new float[5], 0.5); });
        Assert.Contains($"{Length} values", error.Message);
    }
}
