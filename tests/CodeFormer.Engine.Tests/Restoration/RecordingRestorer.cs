using CodeFormer.Engine.Restoration;

namespace CodeFormer.Engine.Tests.Restoration;

/// <summary>
/// A fake network through the public <see cref="IFaceRestorer"/> seam that records every batch it is given (each face
/// as a fingerprint: the sum of its values), can hold the "device" behind a gate, and fails any batch holding a poisoned
/// face. Output = −0.8·input + 0.1 per value, so each face's result depends on that face only.
/// </summary>
internal sealed class RecordingRestorer(int faceSize, Func<float[], bool>? isPoisoned = null) : IFaceRestorer
{
    private readonly List<double[]> _batches = [];
    private readonly List<double> _fidelities = [];
    private int _calls;

    public int FaceSize { get; } = faceSize;

    /// <summary>While reset, every call waits here after being recorded (the device is "busy").</summary>
    public ManualResetEventSlim Gate { get; } = new(initialState: true);

    /// <summary>Calls that have started (recorded), including one waiting at the gate.</summary>
    public int Calls => Volatile.Read(ref _calls);

    public IReadOnlyList<double[]> Batches
    {
        get
        {
            lock (_batches)
            {
                return [.. _batches];
            }
        }
    }

    public IReadOnlyList<double> Fidelities
    {
        get
        {
            lock (_batches)
            {
                return [.. _fidelities];
            }
        }
    }

    public static double Fingerprint(ReadOnlySpan<float> face)
    {
        double sum = 0;
        foreach (float v in face)
        {
            sum += v;
        }
        return sum;
    }

    public void Restore(ReadOnlySpan<float> input, int count, double fidelity, Span<float> output, CancellationToken cancellationToken = default)
    {
        int length = 3 * FaceSize * FaceSize;
        var all = input.ToArray();
        var faces = Enumerable.Range(0, count).Select(i => all.AsSpan(i * length, length).ToArray()).ToList();
        lock (_batches)
        {
            _batches.Add(faces.Select(f => Fingerprint(f)).ToArray());
            _fidelities.Add(fidelity);
        }
        Interlocked.Increment(ref _calls);
        Gate.Wait(cancellationToken);
        if (isPoisoned is not null && faces.Any(isPoisoned))
        {
            throw new InvalidOperationException("the fake network cannot run a poisoned face");
        }
        for (int i = 0; i < input.Length; i++)
        {
            output[i] = -0.8f * input[i] + 0.1f;
        }
    }

    public void Dispose() => Gate.Dispose();
}

internal static class Waiting
{
    /// <summary>Polls until the condition holds; fails the test after 30 s instead of hanging it.</summary>
    public static void Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }
            Thread.Sleep(5);
        }
    }
}
