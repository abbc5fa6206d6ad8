using CodeFormer.Network.Onnx;

namespace CodeFormer.Engine.Tests.Restoration;

/// <summary>
/// Graphs with CodeFormer's calling contract and a known answer: output = input·(1 + w) + mean(sample), or
/// input·3 + mean(sample) without a weight. The per-sample mean makes every face depend on all of its own
/// values and none of its neighbours', so batching mistakes show.
/// </summary>
internal static class FakeCodeFormer
{
    public const int Size = 8;
    public const int FaceLength = 3 * Size * Size;

    public static OnnxGraph Scaling(string image = "input", string? weight = "weight", OnnxElementType weightType = OnnxElementType.Double,
        bool scalarWeight = false, OnnxDim? batch = null, int size = Size)
    {
        var n = batch ?? "N";
        var graph = new OnnxGraph("fake_codeformer");
        string x = graph.AddInput(image, OnnxElementType.Float, n, 3, size, size);
        string factor;
        if (weight is not null)
        {
            string w = graph.AddInput(weight, weightType, scalarWeight ? [] : [1]);
            string wf = weightType == OnnxElementType.Float ? w : graph.Op("Cast", "w_float", [w], OnnxAttribute.Of("to", (long)OnnxElementType.Float));
            factor = graph.Op("Add", "factor", [wf, graph.AddScalarFloat("one", 1f)]);
        }
        else
        {
            factor = graph.AddScalarFloat("three", 3f);
        }
        string scaled = graph.Op("Mul", "scaled", [x, factor]);
        string mean = graph.Op("ReduceMean", "mean", [x], OnnxAttribute.Of("axes", 1L, 2L, 3L), OnnxAttribute.Of("keepdims", 1L));
        graph.Alias(graph.Op("Add", "sum", [scaled, mean]), "output");
        graph.AddOutput("output", OnnxElementType.Float, n, 3, size, size);
        return graph;
    }

    /// <summary>A code-only stand-in whose output (all 7) no fidelity of <see cref="Scaling"/> can produce.</summary>
    public static OnnxGraph Sevens(int size = Size)
    {
        var graph = new OnnxGraph("fake_code_only");
        string x = graph.AddInput("input", OnnxElementType.Float, "N", 3, size, size);
        string zero = graph.Op("Mul", "zero", [x, graph.AddScalarFloat("nought", 0f)]);
        graph.Alias(graph.Op("Add", "sevens", [zero, graph.AddScalarFloat("seven", 7f)]), "output");
        graph.AddOutput("output", OnnxElementType.Float, "N", 3, size, size);
        return graph;
    }

    /// <summary>
    /// A CodeFormer-contract model that takes many seconds: a chain of 1024² matrix squarings seeded from the input
    /// (so ONNX Runtime cannot fold it away at load), added to the input times zero.
    /// </summary>
    public static OnnxGraph Slow(int products = 1500)
    {
        var graph = new OnnxGraph("slow");
        string x = graph.AddInput("input", OnnxElementType.Float, "N", 3, Size, Size);
        string matrix = graph.AddInitializer(OnnxTensor.FromFloats("m", [1024, 1024], TestModels.RandomValues(1024 * 1024, seed: 5, -0.03f, 0.03f)));
        string seed = graph.Op("ReduceMean", "seed", [x], OnnxAttribute.Of("keepdims", 0L));
        string value = graph.Op("Mul", "start", [matrix, seed]);
        for (int i = 0; i < products; i++)
        {
            // value·value: both operands depend on the input, so no optimiser can fold or fuse the chain.
            value = graph.Op("MatMul", "product", [value, value]);
        }
        string total = graph.Op("ReduceSum", "total", [value], OnnxAttribute.Of("keepdims", 0L));
        string nothing = graph.Op("Mul", "nothing", [total, graph.AddScalarFloat("zero", 0f)]);
        graph.Alias(graph.Op("Add", "same", [x, nothing]), "output");
        graph.AddOutput("output", OnnxElementType.Float, "N", 3, Size, Size);
        return graph;
    }

    /// <summary>The known answer of <see cref="Scaling"/> (factor 1 + w, or 3 without a weight input).</summary>
    public static float[] Expected(float[] input, int count, float factor)
    {
        var expected = new float[input.Length];
        for (int f = 0; f < count; f++)
        {
            var face = input.AsSpan(f * FaceLength, FaceLength);
            double sum = 0;
            foreach (float v in face)
            {
                sum += v;
            }
            float mean = (float)(sum / FaceLength);
            for (int i = 0; i < FaceLength; i++)
            {
                expected[f * FaceLength + i] = face[i] * factor + mean;
            }
        }
        return expected;
    }
}
