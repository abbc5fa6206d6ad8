using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Onnx;

/// <summary>
/// The initializers of a graph under construction: state-dict tensors named exactly as their key, each
/// added once on first use and stored in the compute type; and the constants the graph needs (shapes,
/// scalars), each distinct value added once and named "const/…" so weight initializers stay checkable
/// against the state dict.
/// </summary>
internal sealed class GraphInitializers
{
    /// <summary>Prefix of every initializer that is not a state-dict weight.</summary>
    public const string ConstantPrefix = "const/";

    private readonly WeightSet _weights;
    private readonly HashSet<string> _addedWeights = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);

    public GraphInitializers(OnnxGraph graph, WeightSet weights, OnnxElementType computeType)
    {
        if (computeType is not (OnnxElementType.Float or OnnxElementType.Float16))
        {
            throw new ArgumentOutOfRangeException(nameof(computeType), computeType, "Compute type must be Float or Float16.");
        }
        Graph = graph;
        _weights = weights;
        ComputeType = computeType;
    }

    public OnnxGraph Graph { get; }
    public OnnxElementType ComputeType { get; }

    /// <summary>The state-dict tensor <paramref name="name"/> as an initializer in the compute type.</summary>
    public string Weight(string name)
    {
        if (_addedWeights.Add(name))
        {
            var tensor = _weights[name];
            long[] dims = tensor.Shape.Select(d => (long)d).ToArray();
            Graph.AddInitializer(ComputeType == OnnxElementType.Float16
                ? OnnxTensor.FromFloatsAsHalf(name, dims, tensor.Data)
                : OnnxTensor.FromFloats(name, dims, tensor.Data));
        }
        return name;
    }

    public string Int64s(params long[] values)
    {
        string key = "i64:" + string.Join(",", values);
        if (!_constants.TryGetValue(key, out var name))
        {
            name = Graph.AddInt64s(ConstantPrefix + "i64", values);
            _constants[key] = name;
        }
        return name;
    }

    /// <summary>A float32 vector whatever the compute type (Resize scales must be float32).</summary>
    public string Float32s(params float[] values)
    {
        string key = "f32:" + string.Join(",", values.Select(v => v.ToString("R")));
        if (!_constants.TryGetValue(key, out var name))
        {
            name = Graph.AddConstant(ConstantPrefix + "f32", OnnxElementType.Float, [values.Length],
                OnnxTensor.FromFloats("unused", [values.Length], values).RawData);
            _constants[key] = name;
        }
        return name;
    }

    /// <summary>A constant tensor of a float type filled with one value (cached: each distinct constant exists once).</summary>
    public string FilledOf(OnnxElementType type, float value, params long[] dims)
    {
        string key = $"{type}:{value:R}:[{string.Join(",", dims)}]";
        if (!_constants.TryGetValue(key, out var name))
        {
            long count = dims.Aggregate(1L, (n, d) => n * d);
            var values = Enumerable.Repeat(value, checked((int)count)).ToArray();
            var tensor = type switch
            {
                OnnxElementType.Float16 => OnnxTensor.FromFloatsAsHalf("unused", dims, values),
                OnnxElementType.Float => OnnxTensor.FromFloats("unused", dims, values),
                _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Only float and float16 constants are filled."),
            };
            name = Graph.AddConstant(ConstantPrefix + "value", type, dims, tensor.RawData);
            _constants[key] = name;
        }
        return name;
    }
}
