using System.Diagnostics;
using CodeFormer.Engine.Restoration;

namespace CodeFormer.Bench;

/// <summary>
/// A stand-in for a GPU running CodeFormer: each call holds the "device" for a fixed time per batch (up to
/// <see cref="MaxBatch"/> faces) without using the CPU (it sleeps), and returns the faces unchanged. With it, the
/// worker benchmark measures how well the pipeline keeps a device busy, independent of any real network's speed.
/// </summary>
internal sealed class SyntheticDevice(int faceSize, TimeSpan perBatch, int maxBatch) : IFaceRestorer
{
    public int FaceSize { get; } = faceSize;
    public int MaxBatch { get; } = maxBatch;

    public void Restore(ReadOnlySpan<float> input, int count, double fidelity, Span<float> output, CancellationToken cancellationToken = default)
    {
        if (count > MaxBatch)
        {
            throw new ArgumentException($"The synthetic device takes at most {MaxBatch} faces per batch, got {count}.");
        }
        long start = Stopwatch.GetTimestamp();
        input.CopyTo(output);
        // The copy is part of the batch's fixed time, as the host-to-device copies are part of a real GPU batch.
        var left = perBatch - Stopwatch.GetElapsedTime(start);
        if (left > TimeSpan.Zero)
        {
            Thread.Sleep(left);
        }
    }

    public void Dispose()
    {
    }
}
