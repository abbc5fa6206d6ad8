namespace CodeFormer.Network.Checkpoints;

/// <summary>
/// A Python dict (or OrderedDict) from a pickle. Keeps insertion order because a state dict's order
/// is meaningful (it is the module registration order), and Python dicts preserve it too.
/// </summary>
internal sealed class PickleDict
{
    private readonly Dictionary<object, int> _indexByKey = [];
    private readonly List<KeyValuePair<object, object?>> _entries = [];

    public int Count => _entries.Count;

    public IReadOnlyList<KeyValuePair<object, object?>> Entries => _entries;

    public IEnumerable<object> Keys => _entries.Select(e => e.Key);

    /// <summary>Sets a key as Python does: a repeated key keeps its first position and takes the new value.</summary>
    public void Set(object? key, object? value)
    {
        // Python allows None as a key; a state dict never uses it, and refusing keeps the type non-nullable.
        object nonNullKey = key ?? throw new CheckpointFormatException("A pickled dict uses None as a key; checkpoints never do.");
        if (_indexByKey.TryGetValue(nonNullKey, out int index))
        {
            _entries[index] = new(nonNullKey, value);
        }
        else
        {
            _indexByKey[nonNullKey] = _entries.Count;
            _entries.Add(new(nonNullKey, value));
        }
    }

    public bool TryGetValue(object key, out object? value)
    {
        if (_indexByKey.TryGetValue(key, out int index))
        {
            value = _entries[index].Value;
            return true;
        }
        value = null;
        return false;
    }

    /// <summary>The keys as text for error messages, e.g. <c>'params_ema', 'iter'</c>.</summary>
    public string DescribeKeys(int max = 20)
    {
        // Keys come from the file: describe them as the unpickler does (never a .NET type's ToString()).
        var shown = _entries.Take(max).Select(e => e.Key is string s ? $"'{(s.Length <= 80 ? s : s[..80] + "…")}'" : PickleUnpickler.Describe(e.Key));
        return string.Join(", ", shown) + (_entries.Count > max ? $", … ({_entries.Count} keys)" : "");
    }
}
