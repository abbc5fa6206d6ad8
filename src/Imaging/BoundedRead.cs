namespace CodeFormer.Imaging;

/// <summary>
/// Reads a whole stream into memory, refusing as soon as more than the limit arrived. Why: a "photo" that is a symlink
/// to /dev/zero, or an endless request body, has no length to check up front; the cap must hold while reading.
/// </summary>
public static class BoundedRead
{
    private const int ChunkSize = 81920;

    public static byte[] ReadAll(Stream stream, long maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        RejectKnownLength(stream, maxBytes);
        using var buffer = new MemoryStream();
        var chunk = new byte[ChunkSize];
        int read;
        while ((read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, maxBytes - buffer.Length + 1))) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            buffer.Write(chunk, 0, read);
            RejectIfOver(buffer.Length, maxBytes);
        }
        return buffer.ToArray();
    }

    public static async Task<byte[]> ReadAllAsync(Stream stream, long maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        RejectKnownLength(stream, maxBytes);
        using var buffer = new MemoryStream();
        var chunk = new byte[ChunkSize];
        int read;
        while ((read = await stream.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, maxBytes - buffer.Length + 1)), cancellationToken).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, read);
            RejectIfOver(buffer.Length, maxBytes);
        }
        return buffer.ToArray();
    }

    /// <summary>Reads a file under the cap; a symlink to a device or an endless pipe is refused by the cap, not read whole.</summary>
    public static byte[] ReadFile(string path, long maxBytes, CancellationToken cancellationToken = default)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        return ReadAll(stream, maxBytes, cancellationToken);
    }

    private static void RejectKnownLength(Stream stream, long maxBytes)
    {
        if (stream.CanSeek)
        {
            RejectIfOver(stream.Length - stream.Position, maxBytes);
        }
    }

    private static void RejectIfOver(long length, long maxBytes)
    {
        if (length > maxBytes)
        {
            throw ImageRefusals.TooManyBytes(length, maxBytes, complete: false);
        }
    }
}
