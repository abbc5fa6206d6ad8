using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Checkpoints;

/// <summary>
/// Reads the float tensors of a PyTorch checkpoint (<c>.pth</c>, zip or legacy format) into a
/// <see cref="WeightSet"/>, without Python or libtorch. Only weights-only pickles are accepted
/// (see <see cref="TorchPickleGlobals"/>); anything else fails with a message naming what was found.
/// </summary>
public static class TorchCheckpointReader
{
    /// <summary>BasicSR's convention: inference uses the EMA weights, training checkpoints also hold 'params'.</summary>
    public static IReadOnlyList<string> DefaultPreferredKeys { get; } = ["params_ema", "params"];

    private static readonly byte[] ZipMagic = [0x50, 0x4b, 0x03, 0x04];
    private const byte PickleProto = 0x80;

    /// <summary>
    /// Reads a state dict. If the top level is a dict holding one of <paramref name="preferredKeys"/>
    /// (default 'params_ema', 'params'), the first present is used; a top level that is itself a dict of
    /// tensors is used as is. Integer tensors (BatchNorm's num_batches_tracked) are left out, since they
    /// are bookkeeping, not weights.
    /// </summary>
    public static WeightSet ReadStateDict(string path, IReadOnlyList<string>? preferredKeys = null) =>
        ReadStateDict(path, preferredKeys, checkShapes: null);

    /// <summary>
    /// As <see cref="ReadStateDict(string, IReadOnlyList{string}?)"/>, but first hands every floating-point tensor's name
    /// and shape (read from the pickle, no data yet) to <paramref name="checkShapes"/>, which throws to refuse: tensor
    /// data is read only for a state dict whose names and shapes the architecture accepts.
    /// </summary>
    public static WeightSet ReadStateDict(string path, IReadOnlyList<string>? preferredKeys, Action<IReadOnlyList<(string Name, int[] Shape)>>? checkShapes)
    {
        using var archive = Open(path);
        var stateDict = SelectStateDict(archive.Root, preferredKeys ?? DefaultPreferredKeys, path);
        var tensors = FloatTensors(stateDict);
        checkShapes?.Invoke(tensors.Select(t => (t.Name, t.Tensor.Shape)).ToList());
        var weights = new WeightSet();
        foreach (var (name, tensor) in tensors)
        {
            weights.Add(name, TorchTensorDecoder.Decode(name, tensor, archive));
        }
        return weights;
    }

    internal static ITorchCheckpointArchive Open(string path)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        try
        {
            Span<byte> head = stackalloc byte[4];
            int read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            file.Position = 0;
            if (read == 4 && head.SequenceEqual(ZipMagic))
            {
                return new TorchZipCheckpoint(file, path);
            }
            if (read >= 1 && head[0] == PickleProto)
            {
                return new TorchLegacyCheckpoint(file);
            }
            throw new CheckpointFormatException(
                $"'{path}' is not a PyTorch checkpoint: it starts with bytes {Convert.ToHexString(head[..read])} " +
                "(a zip checkpoint starts with 504B0304, a legacy one with 80).");
        }
        catch (CheckpointFormatException)
        {
            file.Dispose();
            throw;
        }
    }

    private static PickleDict SelectStateDict(object? root, IReadOnlyList<string> preferredKeys, string path)
    {
        if (root is not PickleDict top)
        {
            throw new CheckpointFormatException(
                $"'{path}' holds {PickleUnpickler.Describe(root)} at the top level, not a dict of weights.");
        }
        foreach (var key in preferredKeys)
        {
            if (top.TryGetValue(key, out var value))
            {
                return value as PickleDict ?? throw new CheckpointFormatException(
                    $"'{path}': the top-level entry '{key}' is {PickleUnpickler.Describe(value)}, not a state dict.");
            }
        }
        if (top.Count > 0 && top.Entries.All(e => e.Value is TorchTensorReference))
        {
            return top;
        }
        throw new CheckpointFormatException(
            $"'{path}' has none of the keys {string.Join(", ", preferredKeys.Select(k => $"'{k}'"))} and is not itself a state dict of tensors; " +
            $"its top-level keys are: {top.DescribeKeys()}.");
    }

    private static List<(string Name, TorchTensorReference Tensor)> FloatTensors(PickleDict stateDict)
    {
        var tensors = new List<(string, TorchTensorReference)>();
        foreach (var (key, value) in stateDict.Entries)
        {
            if (key is not string name)
            {
                throw new CheckpointFormatException($"The state dict has a non-text key {PickleUnpickler.Describe(key)}.");
            }
            if (value is not TorchTensorReference tensor)
            {
                throw new CheckpointFormatException($"State dict entry '{name}' is {PickleUnpickler.Describe(value)}, not a tensor.");
            }
            if (tensor.Storage.Type.IsFloatingPoint)
            {
                tensors.Add((name, tensor));
            }
        }
        return tensors;
    }
}
