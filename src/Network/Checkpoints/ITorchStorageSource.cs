namespace CodeFormer.Network.Checkpoints;

/// <summary>Where a checkpoint keeps the raw bytes of its storages (zip entries or a legacy file's tail).</summary>
internal interface ITorchStorageSource
{
    /// <summary>True when the checkpoint was written on a big-endian machine (its storages then need byte swaps).</summary>
    bool IsBigEndian { get; }

    /// <summary>Fills <paramref name="destination"/> with the storage's bytes from <paramref name="byteOffset"/> on.</summary>
    void Read(TorchStorageReference storage, long byteOffset, Span<byte> destination);

    /// <summary>Throws unless the file holds all of the storage's bytes; called before a tensor over it is allocated.</summary>
    void RequireStored(TorchStorageReference storage);
}

/// <summary>A loaded checkpoint: the unpickled root object and the storages its tensors point into.</summary>
internal interface ITorchCheckpointArchive : ITorchStorageSource, IDisposable
{
    object? Root { get; }

    /// <summary>"zip" or "legacy", for messages.</summary>
    string FormatName { get; }
}
