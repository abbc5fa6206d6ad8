using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace CodeFormer.Network.Checkpoints;

/// <summary>
/// The zip format of <c>torch.save</c> (torch ≥ 1.6): <c>&lt;prefix&gt;/data.pkl</c> holds the object,
/// each storage is the entry <c>&lt;prefix&gt;/data/&lt;key&gt;</c>, and <c>&lt;prefix&gt;/byteorder</c>
/// (newer files) says the storages' endianness. The prefix is the archive name torch chose, so it is
/// discovered from the entries rather than assumed.
/// </summary>
internal sealed class TorchZipCheckpoint : ITorchCheckpointArchive
{
    /// <summary>data.pkl of a real state dict is tens of kilobytes; a larger one is not a weights file.</summary>
    private const long MaxPickleBytes = PickleUnpickler.MaxPickleBytes;

    private readonly ZipArchive _zip;
    private readonly string _prefix;
    private readonly Dictionary<string, TorchStorageReference> _storages = new(StringComparer.Ordinal);

    /// <summary>
    /// Bytes the storage reads may still inflate. Each read verifies its entry's CRC, so it inflates the entry whole;
    /// tensors sharing one storage read it once each (and a tensor over 2^28 elements once per piece). Tied weights make
    /// that two or three times, but 300 views of one 32 MB storage inflated it 300 times (5 s here; 3,000 views,
    /// minutes). So the reads may inflate the archive's storage bytes a few times over, and a file that needs more is
    /// refused. Every read is charged, also consecutive views: 300 views end to end would otherwise pass as one.
    /// </summary>
    private long _readBudget;

    public object? Root { get; }
    public bool IsBigEndian { get; }
    public string FormatName => "zip";

    public TorchZipCheckpoint(Stream stream, string displayName)
    {
        try
        {
            _zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: false);
        }
        catch (InvalidDataException e)
        {
            stream.Dispose();
            throw new CheckpointFormatException($"'{displayName}' starts like a zip file but its zip structure is damaged: {e.Message}", e);
        }
        try
        {
            RefuseUnsafeEntries(displayName);
            _prefix = FindPrefix(displayName);
            _readBudget = ReadBudget();
            IsBigEndian = ReadByteOrder(displayName);
            Root = LoadPickle(displayName);
        }
        catch (InvalidDataException e)
        {
            // ZipArchive reads the central directory and entry headers lazily: damage found there surfaces here (found by
            // the fuzzing bench: a duplicated local record made .Entries throw outside the constructor's check).
            _zip.Dispose();
            throw new CheckpointFormatException($"'{displayName}' starts like a zip file but its zip structure is damaged: {e.Message}", e);
        }
        catch
        {
            _zip.Dispose();
            throw;
        }
    }

    public void Read(TorchStorageReference storage, long byteOffset, Span<byte> destination)
    {
        var entry = StoredEntry(storage);
        string entryName = entry.FullName;
        try
        {
            ReadVerified(entry, byteOffset, destination, charge: true);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException($"Storage entry '{entryName}' cannot be read: its zip data is damaged ({e.Message}).", e);
        }
    }

    public void RequireStored(TorchStorageReference storage) => StoredEntry(storage);

    private ZipArchiveEntry StoredEntry(TorchStorageReference storage)
    {
        string entryName = $"{_prefix}data/{storage.Key}";
        var entry = _zip.GetEntry(entryName)
            ?? throw new CheckpointFormatException($"The checkpoint has no entry '{entryName}' for storage '{storage.Key}'.");
        if (entry.Length < storage.ByteCount)
        {
            throw new CheckpointFormatException(
                $"Storage entry '{entryName}' holds {entry.Length} bytes, but the pickle says {storage.ElementCount} × {storage.Type} = {storage.ByteCount} bytes.");
        }
        return entry;
    }

    public void Dispose() => _zip.Dispose();

    /// <summary>
    /// Duplicated names, entries flagged encrypted (their bytes would be read as if plain) and names that climb out of the archive ("..")
    /// or are absolute are refused: torch writes neither, so such a file was made by something else.
    /// </summary>
    private void RefuseUnsafeEntries(string displayName)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in _zip.Entries)
        {
            // Two entries of one name: readers disagree about which counts (ZipArchive.GetEntry takes one, other tools
            // the other), so the weights converted would depend on the reader. torch never writes a name twice.
            if (!names.Add(entry.FullName))
            {
                throw new CheckpointFormatException($"'{displayName}': zip entry '{entry.FullName}' appears twice; torch writes every entry once.");
            }
            if (entry.IsEncrypted)
            {
                throw new CheckpointFormatException($"'{displayName}': zip entry '{entry.FullName}' is encrypted; torch never writes encrypted checkpoints.");
            }
            var name = entry.FullName.Replace('\\', '/');
            if (name.StartsWith('/') || (name.Length >= 2 && name[1] == ':') || name.Split('/').Any(part => part == ".."))
            {
                throw new CheckpointFormatException($"'{displayName}': zip entry name '{entry.FullName}' is absolute or climbs out of the archive with '..'.");
            }
        }
    }

    /// <summary>
    /// Reads <paramref name="destination"/> from <paramref name="skip"/> bytes into the entry, then the rest of the entry,
    /// all through a CRC-32 that must equal the one the zip stores: flipped bytes in weights are refused, not converted.
    /// </summary>
    private void ReadVerified(ZipArchiveEntry entry, long skip, Span<byte> destination, bool charge = false)
    {
        if (charge)
        {
            _readBudget -= entry.Length;
            if (_readBudget < 0)
            {
                throw new CheckpointFormatException(
                    $"Storage entry '{entry.FullName}' would be inflated once more for another tensor that shares it: reading the tensors would inflate the archive's storages more than {ReadsPerStorageByte} times over; torch state dicts share a storage between a few tensors at most.");
            }
        }
        var crc = new Crc32();
        using var data = entry.Open();
        var scratch = new byte[1 << 16];
        long remaining = skip;
        while (remaining > 0)
        {
            int read = data.Read(scratch, 0, (int)Math.Min(remaining, scratch.Length));
            if (read == 0)
            {
                throw new CheckpointFormatException($"Storage entry '{entry.FullName}' ends before the tensor's offset.");
            }
            crc.Append(scratch.AsSpan(0, read));
            remaining -= read;
        }
        try
        {
            data.ReadExactly(destination);
        }
        catch (EndOfStreamException e)
        {
            throw new CheckpointFormatException($"Storage entry '{entry.FullName}' ends early (truncated checkpoint?).", e);
        }
        crc.Append(destination);
        long total = skip + destination.Length;
        int tail;
        while ((tail = data.Read(scratch)) > 0)
        {
            crc.Append(scratch.AsSpan(0, tail));
            total += tail;
            if (total > entry.Length)
            {
                throw new CheckpointFormatException($"Zip entry '{entry.FullName}' inflates past its declared {entry.Length} bytes.");
            }
        }
        if (crc.GetCurrentHashAsUInt32() != entry.Crc32)
        {
            throw new CheckpointFormatException(
                $"Zip entry '{entry.FullName}' is damaged: its CRC-32 is {crc.GetCurrentHashAsUInt32():X8}, the archive says {entry.Crc32:X8}.");
        }
    }

    private const int ReadsPerStorageByte = 4;

    private long ReadBudget()
    {
        long storageBytes = 0;
        foreach (var entry in _zip.Entries)
        {
            if (entry.FullName.StartsWith(_prefix + "data/", StringComparison.Ordinal))
            {
                storageBytes += entry.Length;
            }
        }
        // Small storages (biases, norms) are cheap to re-read whatever their count: a floor keeps them out of the count.
        return ReadsPerStorageByte * storageBytes + (64L << 20);
    }

    private string FindPrefix(string displayName)
    {
        // torch writes "<archive>/data.pkl" with one directory level; the top-level form is accepted too.
        var pickle = _zip.Entries.FirstOrDefault(e => e.FullName == "data.pkl"
            || (e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1));
        if (pickle is null)
        {
            var names = _zip.Entries.Take(10).Select(e => e.FullName).ToList();
            bool torchScript = _zip.Entries.Any(e => e.FullName.EndsWith("constants.pkl", StringComparison.Ordinal));
            throw new CheckpointFormatException(
                $"'{displayName}' is a zip file without data.pkl, so not a torch.save checkpoint" +
                (torchScript ? " (it looks like a TorchScript archive; export a state dict with torch.save(model.state_dict(), ...))" : "") +
                $"; entries: {string.Join(", ", names)}{(_zip.Entries.Count > 10 ? ", …" : "")}.");
        }
        return pickle.FullName[..^"data.pkl".Length];
    }

    private bool ReadByteOrder(string displayName)
    {
        var entry = _zip.GetEntry(_prefix + "byteorder");
        if (entry is null)
        {
            return false; // Files before torch 2.1 carry no byteorder record and were written little-endian.
        }
        if (entry.Length > 16)
        {
            throw new CheckpointFormatException($"'{displayName}' has a byteorder record of {entry.Length} bytes.");
        }
        var bytes = new byte[entry.Length];
        ReadVerified(entry, 0, bytes);
        string order = Encoding.ASCII.GetString(bytes).Trim();
        return order switch
        {
            "little" => false,
            "big" => true,
            _ => throw new CheckpointFormatException($"'{displayName}' has an unknown byteorder record '{order}'."),
        };
    }

    private object? LoadPickle(string displayName)
    {
        var entry = _zip.GetEntry(_prefix + "data.pkl")!;
        if (entry.Length > MaxPickleBytes)
        {
            throw new CheckpointFormatException($"'{displayName}': data.pkl is {entry.Length} bytes, too large for a weights checkpoint.");
        }
        var buffer = new MemoryStream((int)entry.Length);
        using (var source = entry.Open())
        {
            // A compressed entry could inflate past its declared size; read one chunk beyond the cap and stop.
            var chunk = new byte[1 << 16];
            int read;
            while ((read = source.Read(chunk)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxPickleBytes)
                {
                    throw new CheckpointFormatException($"'{displayName}': data.pkl inflates past {MaxPickleBytes} bytes, too large for a weights checkpoint.");
                }
            }
        }
        if (System.IO.Hashing.Crc32.HashToUInt32(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)) != entry.Crc32)
        {
            throw new CheckpointFormatException($"'{displayName}': zip entry '{entry.FullName}' is damaged (its CRC-32 does not match).");
        }
        buffer.Position = 0;
        var unpickler = new PickleUnpickler(buffer, TorchPickleGlobals.Resolve, LoadPersistent);
        return unpickler.Load();
    }

    /// <summary>A zip persistent id: ('storage', storage_type, key, location, numel).</summary>
    private object? LoadPersistent(object? id)
    {
        if (id is not object?[] { Length: 5 } tuple || tuple[0] is not "storage")
        {
            throw new CheckpointFormatException($"unsupported persistent id {PickleUnpickler.Describe(id)} (expected ('storage', type, key, location, numel))");
        }
        if (tuple[1] is not TorchStorageType type || tuple[2] is not string key || tuple[4] is not long count || count < 0
            || count > long.MaxValue / type.ElementSize)
        {
            throw new CheckpointFormatException(
                $"malformed storage id ({string.Join(", ", tuple.Select(PickleUnpickler.Describe))})");
        }
        // One storage is one run of bytes of one type and length: ids that disagree about it would read the same bytes two
        // ways (the legacy reader refuses the same).
        var reference = new TorchStorageReference(type, key, 0, count);
        if (_storages.TryGetValue(key, out var known) && known != reference)
        {
            throw new CheckpointFormatException($"storage '{key}' is described both as {known.ElementCount} × {known.Type} and as {count} × {type}");
        }
        _storages[key] = reference;
        return reference;
    }

    private static void Skip(Stream stream, long count, string entryName)
    {
        var scratch = new byte[Math.Min(count, 1 << 16)];
        while (count > 0)
        {
            int read = stream.Read(scratch, 0, (int)Math.Min(count, scratch.Length));
            if (read == 0)
            {
                throw new CheckpointFormatException($"Storage entry '{entryName}' ends before the tensor's offset.");
            }
            count -= read;
        }
    }
}
