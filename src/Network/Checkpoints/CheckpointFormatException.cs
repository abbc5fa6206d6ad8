namespace CodeFormer.Network.Checkpoints;

/// <summary>
/// A file that is not a readable PyTorch checkpoint: truncated, malformed, an unsupported format,
/// or a pickle that asks for something outside the allow-list. The message names what was found.
/// </summary>
public sealed class CheckpointFormatException : Exception
{
    public CheckpointFormatException(string message) : base(message)
    {
    }

    public CheckpointFormatException(string message, Exception inner) : base(message, inner)
    {
    }
}
