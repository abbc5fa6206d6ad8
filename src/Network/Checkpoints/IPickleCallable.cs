namespace CodeFormer.Network.Checkpoints;

/// <summary>
/// A global that a pickle may call through REDUCE or NEWOBJ. Only allow-listed globals implement it,
/// so a pickle can never reach arbitrary code: calling means building plain data, nothing else.
/// </summary>
internal interface IPickleCallable
{
    string QualifiedName { get; }

    object? Call(object?[] arguments);
}
