namespace CodeFormer.Network.Onnx;

/// <summary>
/// An ONNX graph under construction: inputs, outputs, initializers and nodes, written as a
/// ModelProto by <see cref="OnnxModelWriter"/>. Node and value names are made unique here so
/// builders can name things after what they compute.
/// </summary>
public sealed class OnnxGraph(string name)
{
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _counter;

    public string Name { get; } = name;
    public List<OnnxValueInfo> Inputs { get; } = [];
    public List<OnnxValueInfo> Outputs { get; } = [];
    public List<OnnxTensor> Initializers { get; } = [];
    public List<OnnxNode> Nodes { get; } = [];
    /// <summary>Model metadata (ModelProto.metadata_props), e.g. licence and architecture.</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    public string AddInput(string name, OnnxElementType type, params OnnxDim[] shape)
    {
        Claim(name);
        Inputs.Add(new OnnxValueInfo(name, type, shape));
        return name;
    }

    public void AddOutput(string name, OnnxElementType type, params OnnxDim[] shape) => Outputs.Add(new OnnxValueInfo(name, type, shape));

    public string AddInitializer(OnnxTensor tensor)
    {
        Claim(tensor.Name);
        Initializers.Add(tensor);
        return tensor.Name;
    }

    /// <summary>A scalar or small constant as an initializer with a generated name.</summary>
    public string AddConstant(string hint, OnnxElementType type, long[] dims, byte[] raw)
        => AddGenerated(new OnnxTensor(Unique(hint), type, dims, raw));

    public string AddInt64s(string hint, params long[] values) => AddGenerated(OnnxTensor.FromInt64s(Unique(hint), [values.Length], values));

    public string AddScalarFloat(string hint, float value) => AddGenerated(OnnxTensor.FromFloats(Unique(hint), [], [value]));

    /// <summary>Adds an initializer whose name <see cref="Unique"/> has already claimed.</summary>
    private string AddGenerated(OnnxTensor tensor)
    {
        Initializers.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds a node with a single output and returns that output's name.</summary>
    public string Op(string opType, string outputHint, string[] inputs, params OnnxAttribute[] attributes)
        => Op(opType, [outputHint], inputs, attributes)[0];

    /// <summary>Adds a node and returns its output names (made unique from the hints).</summary>
    public string[] Op(string opType, string[] outputHints, string[] inputs, params OnnxAttribute[] attributes)
    {
        var outputs = outputHints.Select(Unique).ToArray();
        Nodes.Add(new OnnxNode(opType, inputs, outputs, Unique($"{opType}_{outputs[0]}"), attributes));
        return outputs;
    }

    /// <summary>Renames the final value to a fixed graph-output name through an Identity node.</summary>
    public void Alias(string value, string name)
    {
        Claim(name);
        Nodes.Add(new OnnxNode("Identity", [value], [name], Unique($"Identity_{name}"), []));
    }

    public string Unique(string hint)
    {
        string candidate = hint;
        while (!_names.Add(candidate))
        {
            candidate = $"{hint}_{++_counter}";
        }
        return candidate;
    }

    private void Claim(string name)
    {
        if (!_names.Add(name))
        {
            throw new ArgumentException($"Name '{name}' is already used in graph '{Name}'.");
        }
    }
}
