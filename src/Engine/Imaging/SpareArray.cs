namespace CodeFormer.Engine.Imaging;

/// <summary>
/// A one-slot cache of an array, for buffers that the same caller needs again at the same length (a video's frames all
/// have one size; a service's photos mostly do not). <see cref="Take"/> hands out the spare when its length is exactly
/// the one asked for, else a new array; <see cref="Give"/> keeps one for next time. Thread-safe without a lock: callers
/// that overlap simply get fresh arrays. It holds at most one array, so its cost is bounded by the largest request.
/// </summary>
internal sealed class SpareArray<T>
{
    private T[]? _spare;

    /// <summary>An array of exactly <paramref name="length"/> elements; its content is whatever the last user left (or zeros).</summary>
    public T[] Take(int length)
    {
        var spare = Interlocked.Exchange(ref _spare, null);
        return spare is not null && spare.Length == length ? spare : new T[length];
    }

    public void Give(T[] array) => Volatile.Write(ref _spare, array);
}
