using System.Collections.Concurrent;

namespace CodeFormer.Engine.Restoration;

/// <summary>
/// Face-sized float arrays (one face in the network's layout, 3 MiB at 512²) handed out and taken back by the photos in
/// flight. Each face used to get four fresh arrays of this size on its way through the engine (crop, packed face, the
/// batcher's output copy, unpacked face); they are large-object allocations, and on this machine one cost ~5–16 ms of
/// CPU time (zeroing, page faults, the full collections the large-object budget triggers) against ~3 ms to warp a face.
/// <para>
/// Bounded: at most <see cref="Capacity"/> arrays are kept; an array given back to a full pool is left to the GC, and a
/// rent from an empty pool allocates. So the memory it keeps between photos is at most Capacity × 3 MiB.
/// An array handed to code that may still write into it (a face whose wait was cancelled while the device held it)
/// must not be given back.
/// </para>
/// </summary>
internal sealed class FaceTensorPool(int faceLength, int capacity)
{
    private readonly ConcurrentBag<float[]> _arrays = [];
    private int _count;

    public int FaceLength { get; } = faceLength > 0 ? faceLength : throw new ArgumentOutOfRangeException(nameof(faceLength), $"A face holds a positive number of values, got {faceLength}.");

    public int Capacity { get; } = capacity >= 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), $"Capacity must not be negative, got {capacity}.");

    /// <summary>Arrays kept now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>An array of <see cref="FaceLength"/> values; its content is whatever its last user left.</summary>
    public float[] Rent()
    {
        if (_arrays.TryTake(out var array))
        {
            Interlocked.Decrement(ref _count);
            return array;
        }
        return new float[FaceLength];
    }

    public void Return(float[] array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (array.Length != FaceLength)
        {
            throw new ArgumentException($"The pool keeps arrays of {FaceLength} values, this one has {array.Length}.", nameof(array));
        }
        if (Interlocked.Increment(ref _count) > Capacity)
        {
            Interlocked.Decrement(ref _count);
            return;
        }
        _arrays.Add(array);
    }
}
