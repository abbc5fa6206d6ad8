namespace CodeFormer.Network.Tests;

/// <summary>
/// Tests that hold the full 94M-parameter network (several GB at peak) run one after the other, so two of
/// them never add up their memory on a 2-core, 24 GiB CI machine.
/// </summary>
[CollectionDefinition(Name)]
public sealed class FullSizeModelCollection
{
    public const string Name = "Full-size model";
}
