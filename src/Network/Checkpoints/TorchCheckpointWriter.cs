using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Checkpoints;

/// <summary>
/// Writes real torch checkpoints — the zip format of <c>torch.save</c> since 1.6 (pickle protocol 2,
/// OrderedDicts of <c>_rebuild_tensor_v2</c>, uncompressed 64-byte-aligned storages) and the legacy
/// format before it — so tests can make a checkpoint with the official key set without Python.
/// </summary>
public static class TorchCheckpointWriter
{
    private const string ArchiveName = "archive";

    /// <summary>
    /// Writes <c>{key: OrderedDict(name → tensor)}</c> for each top-level key, e.g. <c>{"params_ema": weights}</c>
    /// as CodeFormer's released checkpoints are laid out.
    /// </summary>
    public static void WriteZip(string path, IReadOnlyDictionary<string, WeightSet> topLevel)
    {
        var root = topLevel.Select(kv => new KeyValuePair<string, object?>(kv.Key, ToRecords(kv.Value))).ToList();
        WriteZip(path, root);
    }

    /// <summary>Writes a plain state dict (an OrderedDict of tensors at the top level), as <c>torch.save(model.state_dict())</c> does.</summary>
    public static void WriteZip(string path, WeightSet stateDict) => WriteZip(path, (object)ToRecords(stateDict));

    /// <summary>
    /// Writes any tree of: <see cref="TorchTensorRecord"/>, a list of records (an OrderedDict state dict),
    /// a list of string-keyed pairs (a dict), string, long, bool and null. The file appears only when complete.
    /// </summary>
    internal static void WriteZip(string path, object root)
    {
        var storages = new StorageTable(legacy: false);
        var pickle = PickleObject(root, storages);
        WriteAtomically(path, file =>
        {
            var zip = new StoredZipWriter(file);
            zip.AddEntry($"{ArchiveName}/data.pkl", pickle);
            zip.AddEntry($"{ArchiveName}/byteorder", "little"u8);
            foreach (var (key, record) in storages.Entries)
            {
                zip.AddEntry($"{ArchiveName}/data/{key}", record.StorageBytes);
            }
            zip.AddEntry($"{ArchiveName}/version", "3\n"u8);
            zip.Finish();
        });
    }

    /// <summary>
    /// Writes the legacy format (<c>torch.save(..., _use_new_zipfile_serialization=False)</c>, the only
    /// format before torch 1.6), e.g. <c>{"params_ema": weights}</c>. Many published .pth files are in it.
    /// </summary>
    public static void WriteLegacy(string path, IReadOnlyDictionary<string, WeightSet> topLevel)
    {
        var root = topLevel.Select(kv => new KeyValuePair<string, object?>(kv.Key, ToRecords(kv.Value))).ToList();
        WriteLegacy(path, root);
    }

    /// <summary>
    /// Magic number, protocol version and sys_info pickles, the object pickle, the sorted storage keys,
    /// then each storage as an int64 element count and its raw little-endian elements.
    /// </summary>
    internal static void WriteLegacy(string path, object root)
    {
        var storages = new StorageTable(legacy: true);
        var pickle = PickleObject(root, storages);
        var keys = storages.Entries.Select(e => e.Key).Order(StringComparer.Ordinal).ToList();
        var byKey = storages.Entries.ToDictionary(e => e.Key, e => e.Record);
        WriteAtomically(path, file =>
        {
            var header = new PickleWriter(file);
            header.Protocol(2);
            header.Long(System.Numerics.BigInteger.Parse("119547037146038801333356")); // 0x1950a86a20f9469cfc6c
            header.Stop();
            header.Protocol(2);
            header.Int(1001);
            header.Stop();
            header.Protocol(2);
            header.EmptyDict();
            header.Mark();
            header.String("protocol_version");
            header.Int(1001);
            header.String("little_endian");
            header.Bool(true);
            header.String("type_sizes");
            header.EmptyDict();
            header.Mark();
            header.String("short");
            header.Int(2);
            header.String("int");
            header.Int(4);
            header.String("long");
            header.Int(4);
            header.SetItems();
            header.SetItems();
            header.Stop();
            file.Write(pickle);
            header.Protocol(2);
            header.EmptyList();
            header.Mark();
            foreach (var key in keys)
            {
                header.String(key);
            }
            header.Appends();
            header.Stop();
            Span<byte> count = stackalloc byte[8];
            foreach (var key in keys)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(count, byKey[key].Storage.LongLength);
                file.Write(count);
                file.Write(byKey[key].StorageBytes);
            }
        });
    }

    private static byte[] PickleObject(object root, StorageTable storages)
    {
        using var pickle = new MemoryStream();
        var writer = new PickleWriter(pickle);
        writer.Protocol(2);
        WriteValue(writer, root, storages);
        writer.Stop();
        return pickle.ToArray();
    }

    /// <summary>Writes under a temporary name and renames, so a failed write never leaves a half file at <paramref name="path"/>.</summary>
    private static void WriteAtomically(string path, Action<FileStream> write)
    {
        string temporary = path + ".partial-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                write(file);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    internal static List<TorchTensorRecord> ToRecords(WeightSet weights) =>
        weights.Names.Select(name => TorchTensorRecord.Contiguous(name, weights[name].Data, weights[name].Shape)).ToList();

    private static void WriteValue(PickleWriter writer, object? value, StorageTable storages)
    {
        switch (value)
        {
            case null:
                writer.None();
                break;
            case string text:
                writer.String(text);
                break;
            case bool flag:
                writer.Bool(flag);
                break;
            case long number:
                writer.Int(number);
                break;
            case TorchTensorRecord tensor:
                WriteTensor(writer, tensor, storages);
                break;
            case IReadOnlyList<TorchTensorRecord> stateDict:
                EmptyOrderedDict(writer);
                WriteItems(writer, stateDict.Select(t => new KeyValuePair<string, object?>(t.Name, t)).ToList(), storages);
                break;
            case IReadOnlyList<KeyValuePair<string, object?>> dict:
                writer.EmptyDict();
                WriteItems(writer, dict, storages);
                break;
            default:
                throw new ArgumentException($"Cannot write a {value.GetType().Name} into a checkpoint.");
        }
    }

    /// <summary>SETITEMS in batches of 1000, as Python's pickler batches them.</summary>
    private static void WriteItems(PickleWriter writer, IReadOnlyList<KeyValuePair<string, object?>> items, StorageTable storages)
    {
        foreach (var batch in items.Chunk(1000))
        {
            writer.Mark();
            foreach (var (key, item) in batch)
            {
                writer.String(key);
                WriteValue(writer, item, storages);
            }
            writer.SetItems();
        }
    }

    /// <summary><c>_rebuild_tensor_v2(persistent('storage', torch.XStorage, key, 'cpu', numel), offset, size, stride, False, OrderedDict())</c>.</summary>
    private static void WriteTensor(PickleWriter writer, TorchTensorRecord tensor, StorageTable storages)
    {
        if (tensor.Shape.Length != tensor.Stride.Length)
        {
            throw new ArgumentException($"Tensor '{tensor.Name}' has {tensor.Shape.Length} dimensions but {tensor.Stride.Length} strides.");
        }
        string key = storages.KeyOf(tensor);
        writer.Global("torch._utils", "_rebuild_tensor_v2");
        writer.Mark();
        writer.Mark();
        writer.String("storage");
        writer.Global("torch", tensor.StorageType.Name);
        writer.String(key);
        writer.String("cpu");
        writer.Int(tensor.Storage.LongLength);
        if (storages.Legacy)
        {
            writer.None(); // view_metadata: every storage is written whole
        }
        writer.Tuple(storages.Legacy ? 6 : 5);
        writer.PersistentId();
        writer.Int(tensor.StorageOffset);
        writer.IntTuple(tensor.Shape.Select(d => (long)d).ToList());
        writer.IntTuple(tensor.Stride);
        writer.Bool(false);
        EmptyOrderedDict(writer);
        writer.Tuple(6);
        writer.Reduce();
    }

    private static void EmptyOrderedDict(PickleWriter writer)
    {
        writer.Global("collections", "OrderedDict");
        writer.EmptyTuple();
        writer.Reduce();
    }

    /// <summary>One key per distinct storage array, in first-use order; tensors sharing an array share the storage.</summary>
    private sealed class StorageTable(bool legacy)
    {
        private readonly Dictionary<Array, string> _keys = new(ReferenceEqualityComparer.Instance);
        private readonly List<(string Key, TorchTensorRecord Record)> _entries = [];

        public bool Legacy => legacy;

        public IReadOnlyList<(string Key, TorchTensorRecord Record)> Entries => _entries;

        public string KeyOf(TorchTensorRecord tensor)
        {
            if (!_keys.TryGetValue(tensor.Storage, out var key))
            {
                key = _keys.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                _keys[tensor.Storage] = key;
                _entries.Add((key, tensor));
            }
            return key;
        }
    }
}
