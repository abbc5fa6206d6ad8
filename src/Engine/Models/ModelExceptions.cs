namespace CodeFormer.Engine.Models;

/// <summary>A model file is not on this machine and cannot be fetched now; the message says what to do.</summary>
public sealed class ModelUnavailableException : Exception
{
    public ModelUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>A model file's bytes are not the expected ones (hash or size).</summary>
public sealed class ModelIntegrityException : Exception
{
    public string? ExpectedSha256 { get; }
    public string? ActualSha256 { get; }

    public ModelIntegrityException(string message, string? expectedSha256, string? actualSha256)
        : base(message)
    {
        ExpectedSha256 = expectedSha256;
        ActualSha256 = actualSha256;
    }
}
