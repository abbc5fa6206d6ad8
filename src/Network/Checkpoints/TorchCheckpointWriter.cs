using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Checkpoints;

/// <summary>
/// Writes real torch zip checkpoints (the format of <c>torch.save</c> since 1.6: pickle protocol 2,
/// OrderedDicts of <c>_rebuild_tensor_v2</c>, uncompressed 64-byte-aligned storages), so tests can make
/// a checkpoint with the official key set without Python. <c>torch.load</c> reads what this writes.
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
        var storageKeys = new Dictionary<Array, string>(ReferenceEqualityComparer.Instance);
        var storages = new List<TorchTensorRecord>();
        using var pickle = new MemoryStream();
        var writer = new PickleWriter(pickle);
        writer.Protocol(2);
        WriteValue(writer, root, storageKeys, storages);
        writer.Stop();

        string temporary = path + ".partial-" + Guid.NewGuid().ToString("N");
        try
        {
            using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                var zip = new StoredZipWriter(file);
                zip.AddEntry($"{ArchiveName}/data.pkl", pickle.GetBuffer().AsSpan(0, (int)pickle.Length));
                zip.AddEntry($"{ArchiveName}/byteorder", "little"u8);
                foreach (var record in storages)
                {
                    zip.AddEntry($"{ArchiveName}/data/{storageKeys[record.Storage]}", record.StorageBytes);
                }
                zip.AddEntry($"{ArchiveName}/version", "3\n"u8);
                zip.Finish();
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

    private static void WriteValue(PickleWriter writer, object? value, Dictionary<Array, string> storageKeys, List<TorchTensorRecord> storages)
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
                WriteTensor(writer, tensor, storageKeys, storages);
                break;
            case IReadOnlyList<TorchTensorRecord> stateDict:
                EmptyOrderedDict(writer);
                WriteItems(writer, stateDict.Select(t => new KeyValuePair<string, object?>(t.Name, t)).ToList(), storageKeys, storages);
                break;
            case IReadOnlyList<KeyValuePair<string, object?>> dict:
                writer.EmptyDict();
                WriteItems(writer, dict, storageKeys, storages);
                break;
            default:
                throw new ArgumentException($"Cannot write a {value.GetType().Name} into a checkpoint.");
        }
    }

    /// <summary>SETITEMS in batches of 1000, as Python's pickler batches them.</summary>
    private static void WriteItems(PickleWriter writer, IReadOnlyList<KeyValuePair<string, object?>> items, Dictionary<Array, string> storageKeys, List<TorchTensorRecord> storages)
    {
        foreach (var batch in items.Chunk(1000))
        {
            writer.Mark();
            foreach (var (key, item) in batch)
            {
                writer.String(key);
                WriteValue(writer, item, storageKeys, storages);
            }
            writer.SetItems();
        }
    }

    /// <summary><c>_rebuild_tensor_v2(persistent('storage', torch.XStorage, key, 'cpu', numel), offset, size, stride, False, OrderedDict())</c>.</summary>
    private static void WriteTensor(PickleWriter writer, TorchTensorRecord tensor, Dictionary<Array, string> storageKeys, List<TorchTensorRecord> storages)
    {
        if (tensor.Shape.Length != tensor.Stride.Length)
        {
            throw new ArgumentException($"Tensor '{tensor.Name}' has {tensor.Shape.Length} dimensions but {tensor.Stride.Length} strides.");
        }
        var storageType = tensor.StorageType;
        if (!storageKeys.TryGetValue(tensor.Storage, out var key))
        {
            key = storageKeys.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            storageKeys[tensor.Storage] = key;
            storages.Add(tensor);
        }
        writer.Global("torch._utils", "_rebuild_tensor_v2");
        writer.Mark();
        writer.Mark();
        writer.String("storage");
        writer.Global("torch", storageType.Name);
        writer.String(key);
        writer.String("cpu");
        writer.Int(tensor.Storage.LongLength);
        writer.Tuple(5);
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
}
