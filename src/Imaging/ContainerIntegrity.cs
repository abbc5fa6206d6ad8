namespace CodeFormer.Imaging;

/// <summary>
/// The container walk as a yes/no question on bytes in memory: the problem <see cref="ContainerWalker"/> finds (truncation,
/// a duplicate or contradictory header, animation, a damaged chunk), or null when the structure is whole. Used by
/// tests and the fuzzing bench to ask about structure alone, without size limits.
/// </summary>
internal static class ContainerIntegrity
{
    private static readonly ImageLimits Unlimited = new()
    {
        MaxBytes = long.MaxValue,
        MaxWidth = int.MaxValue,
        MaxHeight = int.MaxValue,
        MaxPixels = long.MaxValue,
        MaxAspectRatio = double.MaxValue,
    };

    public static string? FindStructuralProblem(ImageFileFormat format, ReadOnlySpan<byte> data)
    {
        using var stream = new MemoryStream(data.ToArray(), writable: false);
        try
        {
            var (walker, _) = ContainerWalker.OpenAsync(stream, Unlimited, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            walker.WalkAsync(format).AsTask().GetAwaiter().GetResult();
            return null;
        }
        catch (ImageRejectedException e)
        {
            return e.Message;
        }
    }
}
