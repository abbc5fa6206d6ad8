using CodeFormer.Network.Architecture;

namespace CodeFormer.Network.Weights;

/// <summary>Named float32 tensors, in insertion order: a state dict.</summary>
public sealed class WeightSet
{
    private readonly Dictionary<string, Tensor> _byName = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    public IReadOnlyList<string> Names => _order;
    public int Count => _order.Count;

    public Tensor this[string name] => _byName.TryGetValue(name, out var t)
        ? t
        : throw new KeyNotFoundException($"Weight '{name}' is not in this weight set.");

    public bool Contains(string name) => _byName.ContainsKey(name);

    public void Add(string name, Tensor tensor)
    {
        if (!_byName.TryAdd(name, tensor))
        {
            throw new ArgumentException($"Weight '{name}' was added twice.");
        }
        _order.Add(name);
    }

    /// <summary>Replaces an existing tensor (tests perturb single weights this way).</summary>
    public void Replace(string name, Tensor tensor)
    {
        _ = this[name];
        _byName[name] = tensor;
    }

    public long TotalElements => _byName.Values.Sum(t => t.ElementCount);

    /// <summary>
    /// Checks this set against a layout: every expected key present with its exact shape and nothing extra.
    /// The message lists every offending key so a user can fix a checkpoint in one pass.
    /// </summary>
    public void ValidateAgainst(ParameterLayout layout) => ValidateAgainst(layout.Parameters, "CodeFormer");

    /// <summary>As <see cref="ValidateAgainst(ParameterLayout)"/> for any network's parameter list; <paramref name="networkName"/> goes into the message.</summary>
    public void ValidateAgainst(IReadOnlyList<ParameterSpec> parameters, string networkName)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var problems = FindProblems(_order.Select(n => (n, _byName[n].Shape)).ToList(), parameters);
        if (problems.Count > 0)
        {
            throw new InvalidWeightsException(problems, networkName);
        }
    }

    /// <summary>
    /// The same strict check on names and shapes alone, so a checkpoint can be judged before any tensor is read
    /// (a 2 MB zip whose unknown keys inflate to gigabytes is refused without inflating them).
    /// </summary>
    public static IReadOnlyList<string> FindProblems(IReadOnlyList<(string Name, int[] Shape)> actual, IReadOnlyList<ParameterSpec> parameters)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(parameters);
        var problems = new List<string>();
        var expected = parameters.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var (name, shape) in actual)
        {
            shapes.TryAdd(name, shape);
        }
        foreach (var spec in parameters)
        {
            if (!shapes.TryGetValue(spec.Name, out var shape))
            {
                problems.Add($"missing key '{spec.Name}' {spec.ShapeText}");
            }
            else if (!shape.SequenceEqual(spec.Shape))
            {
                problems.Add($"key '{spec.Name}' has shape ({string.Join(", ", shape)}), expected {spec.ShapeText}");
            }
        }
        foreach (var (name, _) in actual.Where(a => !expected.ContainsKey(a.Name)))
        {
            problems.Add($"unexpected key '{name}'");
        }
        return problems;
    }
}

/// <summary>Weights that do not fit the architecture; <see cref="Problems"/> names each key.</summary>
public sealed class InvalidWeightsException(IReadOnlyList<string> problems, string networkName = "CodeFormer")
    : Exception($"The weights do not match the {networkName} architecture ({problems.Count} problem(s)): " + string.Join("; ", problems.Take(20)) + (problems.Count > 20 ? "; …" : ""))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
