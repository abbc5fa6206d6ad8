namespace CodeFormer.Shared.Jobs;

/// <summary>What one finished job consumed: the numbers a tenant is metered on.</summary>
public sealed record JobUsage
{
    /// <summary>Input width × height / 1e6.</summary>
    public required double InputMegapixels { get; init; }

    public required int Faces { get; init; }

    /// <summary>Time spent in the restoration network (all faces), in milliseconds.</summary>
    public required double NetworkMilliseconds { get; init; }

    /// <summary>Where the network ran: "cuda" or "cpu".</summary>
    public required string Device { get; init; }

    public required long OutputBytes { get; init; }
}

/// <summary>A tenant's usage over one calendar month (UTC).</summary>
public sealed record MonthlyUsage
{
    /// <summary>YYYY-MM.</summary>
    public required string Month { get; init; }
    public required int Jobs { get; init; }
    public required double InputMegapixels { get; init; }
    public required int Faces { get; init; }
    public required double NetworkMilliseconds { get; init; }
    public required long OutputBytes { get; init; }
}
