using System.Buffers.Binary;
using System.Numerics;

namespace CodeFormer.Network.Checkpoints;

/// <summary>
/// The legacy (non-zip) <c>torch.save</c> format: five pickles in a row — magic number, protocol
/// version, sys_info, the object, the list of storage keys — then, for each key in that list, an int64
/// element count followed by the raw elements. The object's persistent ids are
/// ('storage', storage_type, root_key, location, numel, view_metadata).
/// </summary>
internal sealed class TorchLegacyCheckpoint : ITorchCheckpointArchive
{
    private static readonly BigInteger MagicNumber = BigInteger.Parse("119547037146038801333356"); // 0x1950a86a20f9469cfc6c
    private const long ProtocolVersion = 1001;

    private readonly FileStream _file;
    private readonly Dictionary<string, TorchStorageType> _typeByKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long DataOffset, long ElementCount)> _blobByKey = new(StringComparer.Ordinal);

    public object? Root { get; }
    public bool IsBigEndian { get; }
    public string FormatName => "legacy";

    public TorchLegacyCheckpoint(FileStream file)
    {
        _file = file;
        try
        {
            if (!MagicNumber.Equals(LoadHeaderPickle()))
            {
                throw new CheckpointFormatException($"'{file.Name}' is not a PyTorch checkpoint: its first pickle is not torch's magic number.");
            }
            if (LoadHeaderPickle() is not long protocol || protocol != ProtocolVersion)
            {
                throw new CheckpointFormatException($"'{file.Name}' uses an unsupported legacy protocol version (expected {ProtocolVersion}).");
            }
            IsBigEndian = LoadHeaderPickle() is PickleDict sysInfo
                && sysInfo.TryGetValue("little_endian", out var little) && little is false;
            Root = new PickleUnpickler(_file, TorchPickleGlobals.Resolve, LoadPersistent).Load();
            LocateStorages();
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    public void Read(TorchStorageReference storage, long byteOffset, Span<byte> destination)
    {
        var (dataOffset, blobCount) = _blobByKey[storage.Key];
        long end;
        try
        {
            end = checked(storage.ElementOffset * storage.Type.ElementSize + byteOffset + destination.Length);
        }
        catch (OverflowException)
        {
            throw new CheckpointFormatException($"Storage '{storage.Key}': a view at element {storage.ElementOffset} overflows 64-bit byte offsets.");
        }
        if (end > blobCount * storage.Type.ElementSize)
        {
            throw new CheckpointFormatException(
                $"Storage '{storage.Key}' holds {blobCount} × {storage.Type}, but a tensor reads up to byte {end} of it.");
        }
        _file.Position = dataOffset + storage.ElementOffset * storage.Type.ElementSize + byteOffset;
        try
        {
            _file.ReadExactly(destination);
        }
        catch (EndOfStreamException e)
        {
            throw new CheckpointFormatException($"Storage '{storage.Key}' ends past the end of '{_file.Name}' (truncated file?).", e);
        }
    }

    public void RequireStored(TorchStorageReference storage)
    {
        // Every storage's bytes were located in the file when it was opened (LocateStorages); a view must lie inside them.
        var (_, blobCount) = _blobByKey[storage.Key];
        if (storage.ElementOffset > blobCount - storage.ElementCount)
        {
            throw new CheckpointFormatException(
                $"Storage '{storage.Key}' holds {blobCount} × {storage.Type}, but a view needs elements {storage.ElementOffset} to {storage.ElementOffset + storage.ElementCount}.");
        }
    }

    public void Dispose() => _file.Dispose();

    /// <summary>The header pickles and the key list hold only plain values, so no global may appear in them.</summary>
    private object? LoadHeaderPickle() => new PickleUnpickler(
        _file,
        (module, name) => throw new CheckpointFormatException($"a checkpoint header refers to the global '{module}.{name}'"),
        id => throw new CheckpointFormatException("a checkpoint header contains a persistent id")).Load();

    private object? LoadPersistent(object? id)
    {
        if (id is not object?[] { Length: 6 } tuple || tuple[0] is not "storage")
        {
            throw new CheckpointFormatException(
                $"unsupported persistent id {PickleUnpickler.Describe(id)} (expected ('storage', type, key, location, size, view_metadata))");
        }
        if (tuple[1] is not TorchStorageType type || tuple[2] is not string rootKey || tuple[4] is not long rootCount || rootCount < 0
            || rootCount > long.MaxValue / type.ElementSize)
        {
            throw new CheckpointFormatException($"malformed storage id ({string.Join(", ", tuple.Select(PickleUnpickler.Describe))})");
        }
        if (_typeByKey.TryGetValue(rootKey, out var known) && known != type)
        {
            throw new CheckpointFormatException($"storage '{rootKey}' is used both as {known} and as {type}");
        }
        _typeByKey[rootKey] = type;
        return tuple[5] switch
        {
            null => new TorchStorageReference(type, rootKey, 0, rootCount),
            // A view into the root storage: (view_key, offset, size) in elements.
            object?[] { Length: 3 } view when view[1] is long offset && view[2] is long size => View(type, rootKey, rootCount, offset, size),
            var other => throw new CheckpointFormatException($"storage '{rootKey}' has unsupported view metadata {PickleUnpickler.Describe(other)}"),
        };
    }

    /// <summary>
    /// A legacy storage view, checked where its numbers are read: its end (offset + size elements, and that many
    /// bytes) must be computable in 64 bits and lie inside the root storage, or a crafted offset near 2^63 would wrap
    /// to a small end and pass a later bounds check.
    /// </summary>
    private static TorchStorageReference View(TorchStorageType type, string rootKey, long rootCount, long offset, long size)
    {
        if (offset < 0 || size < 0)
        {
            throw new CheckpointFormatException($"storage '{rootKey}' has a view with a negative offset or size ({offset}, {size} elements)");
        }
        long end;
        try
        {
            end = checked(offset + size);
            _ = checked(end * type.ElementSize);
        }
        catch (OverflowException)
        {
            throw new CheckpointFormatException(
                $"storage '{rootKey}' has a view of {size} elements at element {offset}, whose end overflows 64-bit arithmetic");
        }
        if (end > rootCount)
        {
            throw new CheckpointFormatException(
                $"storage '{rootKey}' has a view of {size} elements at element {offset}, past the end of its {rootCount} elements");
        }
        return new TorchStorageReference(type, rootKey, offset, size);
    }

    /// <summary>Walks the appended storages in the order of the key list, checking each against the file size.</summary>
    private void LocateStorages()
    {
        if (LoadHeaderPickle() is not List<object?> keys)
        {
            throw new CheckpointFormatException($"'{_file.Name}': the storage key list after the object is missing or not a list.");
        }
        long position = _file.Position;
        Span<byte> countBytes = stackalloc byte[8];
        foreach (var item in keys)
        {
            if (item is not string key || !_typeByKey.TryGetValue(key, out var type))
            {
                throw new CheckpointFormatException($"'{_file.Name}': storage key {PickleUnpickler.Describe(item)} is not referenced by any tensor.");
            }
            _file.Position = position;
            if (_file.Read(countBytes) != 8)
            {
                throw new CheckpointFormatException($"'{_file.Name}' ends before storage '{key}' (truncated file?).");
            }
            long count = IsBigEndian ? BinaryPrimitives.ReadInt64BigEndian(countBytes) : BinaryPrimitives.ReadInt64LittleEndian(countBytes);
            long dataOffset = position + 8;
            if (count < 0 || count > (_file.Length - dataOffset) / type.ElementSize)
            {
                throw new CheckpointFormatException(
                    $"'{_file.Name}': storage '{key}' claims {count} × {type} at byte {dataOffset}, but the file has {_file.Length - dataOffset} bytes left (truncated file?).");
            }
            _blobByKey[key] = (dataOffset, count);
            position = dataOffset + count * type.ElementSize;
        }
        foreach (var key in _typeByKey.Keys.Where(k => !_blobByKey.ContainsKey(k)))
        {
            throw new CheckpointFormatException($"'{_file.Name}': storage '{key}' is used by a tensor but missing from the storage list.");
        }
    }
}
