namespace CodeFormer.Network.Checkpoints;

/// <summary>
/// The allow-list of globals a checkpoint pickle may name. Anything else — os.system, builtins.eval,
/// arbitrary classes — is refused by name before it could be used: checkpoints from the internet are
/// untrusted, and this reader never executes what a pickle asks for, it only builds data.
/// </summary>
internal static class TorchPickleGlobals
{
    private static readonly Dictionary<string, IPickleCallable> Callables = new(StringComparer.Ordinal)
    {
        ["collections.OrderedDict"] = new OrderedDictConstructor(),
        ["torch._utils._rebuild_tensor_v2"] = new RebuildTensorV2(),
        ["torch._utils._rebuild_parameter"] = new RebuildParameter("torch._utils._rebuild_parameter"),
        ["torch._utils._rebuild_parameter_with_state"] = new RebuildParameter("torch._utils._rebuild_parameter_with_state"),
    };

    public static object Resolve(string module, string name)
    {
        string qualified = module + "." + name;
        if (Callables.TryGetValue(qualified, out var callable))
        {
            return callable;
        }
        if (module == "torch" && TorchStorageType.FromName(name) is { } storageType)
        {
            return storageType;
        }
        throw new CheckpointFormatException(
            $"the pickle refers to the global '{qualified}', which is not on the allow-list of a weights-only checkpoint " +
            "(only collections.OrderedDict, torch._utils._rebuild_tensor_v2/_rebuild_parameter and torch.*Storage are accepted)");
    }

    /// <summary><c>OrderedDict()</c>; items follow through SETITEMS. Also accepts the rarer list-of-pairs form.</summary>
    private sealed class OrderedDictConstructor : IPickleCallable
    {
        public string QualifiedName => "collections.OrderedDict";

        public object? Call(object?[] arguments)
        {
            var dict = new PickleDict();
            if (arguments.Length == 1 && arguments[0] is List<object?> pairs)
            {
                foreach (var pair in pairs)
                {
                    if (pair is not object?[] { Length: 2 } kv)
                    {
                        throw new CheckpointFormatException($"an item is {PickleUnpickler.Describe(pair)}, not a (key, value) pair");
                    }
                    dict.Set(kv[0], kv[1]);
                }
            }
            else if (arguments.Length != 0)
            {
                throw new CheckpointFormatException($"called with {arguments.Length} arguments");
            }
            return dict;
        }
    }

    /// <summary>
    /// <c>_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])</c>:
    /// records the view; the bytes are read later, only for the tensors actually used.
    /// </summary>
    private sealed class RebuildTensorV2 : IPickleCallable
    {
        public string QualifiedName => "torch._utils._rebuild_tensor_v2";

        public object? Call(object?[] arguments)
        {
            if (arguments.Length is < 6 or > 7)
            {
                throw new CheckpointFormatException($"expects 6 or 7 arguments, got {arguments.Length}");
            }
            if (arguments[0] is not TorchStorageReference storage)
            {
                throw new CheckpointFormatException($"argument 0 is {PickleUnpickler.Describe(arguments[0])}, not a storage");
            }
            long offset = arguments[1] is long o && o >= 0
                ? o
                : throw new CheckpointFormatException($"storage offset {PickleUnpickler.Describe(arguments[1])} is not a non-negative integer");
            long[] size = ReadInts(arguments[2], "size");
            long[] stride = ReadInts(arguments[3], "stride");
            if (size.Length != stride.Length)
            {
                throw new CheckpointFormatException($"size has {size.Length} dimensions but stride has {stride.Length}");
            }
            if (size.Any(d => d > int.MaxValue) || stride.Any(s => s < 0))
            {
                throw new CheckpointFormatException($"size ({string.Join(", ", size)}) or stride ({string.Join(", ", stride)}) is out of range");
            }
            var tensor = new TorchTensorReference(storage, offset, size.Select(d => (int)d).ToArray(), stride);
            // Every size, stride and offset is checked here, when the pickle is read and before any byte of data is:
            // the element count and the last element the view reaches must be computable without overflow (whether
            // that element lies inside the storage is checked, with the tensor's name, when it is decoded).
            try
            {
                _ = tensor.ElementCount;
                _ = tensor.LastStorageIndex();
            }
            catch (OverflowException)
            {
                throw new CheckpointFormatException(
                    $"a tensor of shape {tensor.ShapeText} with stride ({string.Join(", ", stride)}) at offset {offset} overflows 64-bit arithmetic");
            }
            return tensor;
        }

        private static long[] ReadInts(object? value, string what)
        {
            if (value is not object?[] tuple || tuple.Any(v => v is not long n || n < 0))
            {
                throw new CheckpointFormatException($"{what} {PickleUnpickler.Describe(value)} is not a tuple of non-negative integers");
            }
            return tuple.Select(v => (long)v!).ToArray();
        }
    }

    /// <summary><c>nn.Parameter</c> wraps a tensor; for reading weights the tensor is all that matters.</summary>
    private sealed class RebuildParameter(string qualifiedName) : IPickleCallable
    {
        public string QualifiedName => qualifiedName;

        public object? Call(object?[] arguments) => arguments.Length >= 1 && arguments[0] is TorchTensorReference tensor
            ? tensor
            : throw new CheckpointFormatException($"expects a tensor as its first argument, got {(arguments.Length == 0 ? "nothing" : PickleUnpickler.Describe(arguments[0]))}");
    }
}
