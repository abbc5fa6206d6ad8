using System.IO.Compression;
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
    private const long MaxPickleBytes = 256L << 20;

    private readonly ZipArchive _zip;
    private readonly string _prefix;

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
            _prefix = FindPrefix(displayName);
            IsBigEndian = ReadByteOrder(displayName);
            Root = LoadPickle(displayName);
        }
        catch
        {
            _zip.Dispose();
            throw;
        }
    }

    public void Read(TorchStorageReference storage, long byteOffset, Span<byte> destination)
    {
        string entryName = $"{_prefix}data/{storage.Key}";
        var entry = _zip.GetEntry(entryName)
            ?? throw new CheckpointFormatException($"The checkpoint has no entry '{entryName}' for storage '{storage.Key}'.");
        if (entry.Length < storage.ByteCount)
        {
            throw new CheckpointFormatException(
                $"Storage entry '{entryName}' holds {entry.Length} bytes, but the pickle says {storage.ElementCount} × {storage.Type} = {storage.ByteCount} bytes.");
        }
        using var data = entry.Open();
        // Entry streams do not seek; skipping by reading costs nothing for the usual offset of 0.
        Skip(data, byteOffset, entryName);
        try
        {
            data.ReadExactly(destination);
        }
        catch (EndOfStreamException e)
        {
            throw new CheckpointFormatException($"Storage entry '{entryName}' ends early (truncated checkpoint?).", e);
        }
    }

    public void Dispose() => _zip.Dispose();

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
        using var reader = new StreamReader(entry.Open(), Encoding.ASCII);
        string order = reader.ReadToEnd().Trim();
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
        buffer.Position = 0;
        var unpickler = new PickleUnpickler(buffer, TorchPickleGlobals.Resolve, LoadPersistent);
        return unpickler.Load();
    }

    /// <summary>A zip persistent id: ('storage', storage_type, key, location, numel).</summary>
    private static object? LoadPersistent(object? id)
    {
        if (id is not object?[] { Length: 5 } tuple || tuple[0] is not "storage")
        {
            throw new CheckpointFormatException($"unsupported persistent id {PickleUnpickler.Describe(id)} (expected ('storage', type, key, location, numel))");
        }
        if (tuple[1] is not TorchStorageType type || tuple[2] is not string key || tuple[4] is not long count || count < 0)
        {
            throw new CheckpointFormatException(
                $"malformed storage id ({string.Join(", ", tuple.Select(PickleUnpickler.Describe))})");
        }
        return new TorchStorageReference(type, key, 0, count);
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
