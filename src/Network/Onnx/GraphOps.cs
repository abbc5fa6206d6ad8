using CodeFormer.Network.Weights;

namespace CodeFormer.Network.Onnx;

/// <summary>
/// Emits the primitive layers of CodeFormer (conv, GroupNorm, LayerNorm, linear, activations) as ONNX
/// opset-17 nodes in one compute element type, reading weights and constants from <see cref="GraphInitializers"/>.
/// </summary>
internal sealed class GraphOps(GraphInitializers initializers)
{
    public GraphOps(OnnxGraph graph, WeightSet weights, OnnxElementType computeType)
        : this(new GraphInitializers(graph, weights, computeType))
    {
    }

    public OnnxGraph Graph => initializers.Graph;
    public OnnxElementType ComputeType => initializers.ComputeType;

    public string Weight(string name) => initializers.Weight(name);
    public string Int64s(params long[] values) => initializers.Int64s(values);
    public string Float32s(params float[] values) => initializers.Float32s(values);
    public string Filled(float value, params long[] dims) => initializers.FilledOf(ComputeType, value, dims);
    public string Scalar(float value) => initializers.FilledOf(ComputeType, value);
    public string ScalarOf(OnnxElementType type, float value) => initializers.FilledOf(type, value);

    public string Op(string opType, string outputHint, params string[] inputs) => Graph.Op(opType, outputHint, inputs);

    public string Op(string opType, string outputHint, string[] inputs, params OnnxAttribute[] attributes)
        => Graph.Op(opType, outputHint, inputs, attributes);

    public string Add(string a, string b, string hint) => Op("Add", hint, a, b);
    public string Sub(string a, string b, string hint) => Op("Sub", hint, a, b);
    public string Mul(string a, string b, string hint) => Op("Mul", hint, a, b);
    public string Div(string a, string b, string hint) => Op("Div", hint, a, b);

    public string Reshape(string x, string hint, params long[] shape) => Op("Reshape", hint, x, Int64s(shape));

    public string Transpose(string x, string hint, params long[] perm) => Op("Transpose", hint, [x], OnnxAttribute.Of("perm", perm));

    public string Cast(string x, OnnxElementType to, string hint) => Op("Cast", hint, [x], OnnxAttribute.Of("to", (long)to));

    /// <summary>PyTorch Conv2d with the state-dict tensors <c>{prefix}.weight/.bias</c>; pads are [top, left, bottom, right].</summary>
    public string Conv(string x, string prefix, int kernel, int stride = 1, long[]? pads = null)
    {
        long p = kernel / 2;
        return Op("Conv", prefix, [x, Weight($"{prefix}.weight"), Weight($"{prefix}.bias")],
            OnnxAttribute.Of("kernel_shape", kernel, kernel),
            OnnxAttribute.Of("strides", stride, stride),
            OnnxAttribute.Of("pads", pads ?? [p, p, p, p]));
    }

    /// <summary>
    /// GroupNorm(groups, C, eps) on [N, C, H, W]. Opset 17 has no GroupNormalization op, so the groups are
    /// folded into InstanceNormalization over [N, groups, C/groups·H·W] with unit scale and zero shift,
    /// then the per-channel affine of <c>{prefix}.weight/.bias</c> is applied as [C, 1, 1] broadcasts.
    /// </summary>
    public string GroupNorm(string x, string prefix, int channels, int height, int width, int groups, double epsilon)
    {
        string grouped = Reshape(x, $"{prefix}/grouped", 0, groups, -1);
        string normalized = Op("InstanceNormalization", $"{prefix}/normalized",
            [grouped, Filled(1f, groups), Filled(0f, groups)],
            OnnxAttribute.Of("epsilon", (float)epsilon));
        string restored = Reshape(normalized, $"{prefix}/ungrouped", 0, channels, height, width);
        string gamma = Reshape(Weight($"{prefix}.weight"), $"{prefix}/gamma", channels, 1, 1);
        string beta = Reshape(Weight($"{prefix}.bias"), $"{prefix}/beta", channels, 1, 1);
        return Add(Mul(restored, gamma, $"{prefix}/scaled"), beta, $"{prefix}/out");
    }

    /// <summary>swish(x) = x·sigmoid(x); opset 17 has no SiLU op.</summary>
    public string Swish(string x, string hint) => Mul(x, Op("Sigmoid", $"{hint}/sigmoid", x), hint);

    public string LeakyRelu(string x, float alpha, string hint) => Op("LeakyRelu", hint, [x], OnnxAttribute.Of("alpha", alpha));

    /// <summary>LayerNorm over the last axis with <c>{prefix}.weight/.bias</c>.</summary>
    public string LayerNorm(string x, string prefix, double epsilon)
        => Op("LayerNormalization", prefix, [x, Weight($"{prefix}.weight"), Weight($"{prefix}.bias")],
            OnnxAttribute.Of("axis", -1L), OnnxAttribute.Of("epsilon", (float)epsilon));

    /// <summary>PyTorch Linear on [..., in] with the state-dict tensors <c>{prefix}.weight</c> [out, in] and optional <c>.bias</c>.</summary>
    public string Linear(string x, string prefix, bool bias)
        => LinearWith(x, Weight($"{prefix}.weight"), bias ? Weight($"{prefix}.bias") : null, prefix);

    /// <summary>
    /// x·Wᵀ (+ b) for a weight value in PyTorch [out, in] layout. The transpose is a graph node on the
    /// initializer, not a second copy of the weight: ONNX Runtime folds it at load.
    /// </summary>
    public string LinearWith(string x, string weight, string? bias, string hint)
    {
        string product = Op("MatMul", bias is null ? hint : $"{hint}/matmul", x, Transpose(weight, $"{hint}/weight_t", 1, 0));
        return bias is null ? product : Add(product, bias, hint);
    }

    /// <summary>Rows [start, end) of a 2-D weight or elements of a 1-D bias (slicing the packed in_proj tensors in-graph).</summary>
    public string SliceRows(string tensor, long start, long end, string hint)
        => Op("Slice", hint, tensor, Int64s(start), Int64s(end), Int64s(0));

    /// <summary>Exact (erf) GELU: 0.5·x·(1 + erf(x/√2)); opset 17 has no Gelu op.</summary>
    public string Gelu(string x, string hint)
    {
        string scaled = Mul(x, Scalar((float)(1.0 / Math.Sqrt(2.0))), $"{hint}/scaled");
        string erf = Op("Erf", $"{hint}/erf", scaled);
        string onePlus = Add(erf, Scalar(1f), $"{hint}/one_plus");
        string half = Mul(x, Scalar(0.5f), $"{hint}/half");
        return Mul(half, onePlus, hint);
    }
}
