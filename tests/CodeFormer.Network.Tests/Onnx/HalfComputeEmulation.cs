using CodeFormer.Network.Onnx;

namespace CodeFormer.Network.Tests.Onnx;

/// <summary>
/// Rewrites a float32 graph so that every weight and every arithmetic node's output is rounded to IEEE
/// half (Cast to float16 and back), while each op still computes internally in float32 — what a GPU running
/// the float16 graph does (half storage between ops, float accumulation inside Conv/MatMul/norms).
/// ONNX Runtime's CPU provider runs the real float16 graph with float kernels between inserted casts,
/// so it only shows the weight rounding; this emulation shows the per-op rounding a GPU adds.
/// </summary>
internal static class HalfComputeEmulation
{
    /// <summary>Ops that move data without arithmetic, plus ops whose outputs are not floats.</summary>
    private static readonly HashSet<string> ExactOps = ["Reshape", "Transpose", "Slice", "Identity", "Concat", "Gather", "ArgMax", "Cast", "Resize"];

    public static OnnxGraph Apply(OnnxGraph source)
    {
        var graph = new OnnxGraph(source.Name + "_half_emulation");
        foreach (var input in source.Inputs)
        {
            graph.AddInput(input.Name, input.ElementType, input.Shape);
        }
        foreach (var output in source.Outputs)
        {
            graph.AddOutput(output.Name, output.ElementType, output.Shape);
        }
        foreach (var tensor in source.Initializers)
        {
            graph.Initializers.Add(tensor.ElementType == OnnxElementType.Float ? RoundToHalf(tensor) : tensor);
        }
        foreach (var node in source.Nodes)
        {
            if (ExactOps.Contains(node.OpType))
            {
                graph.Nodes.Add(node);
                continue;
            }
            var exactOutputs = node.Outputs.Select(o => o + "#exact").ToArray();
            graph.Nodes.Add(node with { Outputs = exactOutputs });
            for (int i = 0; i < node.Outputs.Length; i++)
            {
                string half = node.Outputs[i] + "#half";
                graph.Nodes.Add(new OnnxNode("Cast", [exactOutputs[i]], [half], half + "#cast", [OnnxAttribute.Of("to", (long)OnnxElementType.Float16)]));
                graph.Nodes.Add(new OnnxNode("Cast", [half], [node.Outputs[i]], node.Outputs[i] + "#cast_back", [OnnxAttribute.Of("to", (long)OnnxElementType.Float)]));
            }
        }
        return graph;
    }

    private static OnnxTensor RoundToHalf(OnnxTensor tensor)
    {
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData).ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(Half)values[i];
        }
        return OnnxTensor.FromFloats(tensor.Name, tensor.Dims, values);
    }
}
