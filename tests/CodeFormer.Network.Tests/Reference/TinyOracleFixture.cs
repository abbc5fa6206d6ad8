using System.Collections.Concurrent;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Tensor = CodeFormer.Network.Weights.Tensor;

namespace CodeFormer.Network.Tests.Reference;

/// <summary>
/// Shared by the graph-versus-reference tests: a Tiny CodeFormer with random weights, a batch of two
/// different images in [-1, 1], and the reference outputs, each computed once (the plain loops are the slow side).
/// </summary>
public sealed class TinyOracleFixture
{
    public const int Batch = 2;
    private const ulong WeightSeed = 20261125;

    private readonly ConcurrentDictionary<double, float[]> _referenceOutputs = new();
    private readonly ConcurrentDictionary<double, float[]> _onnxOutputs = new();

    public TinyOracleFixture()
    {
        Layout = new ParameterLayout(new NetworkLayout(Architecture));
        Weights = RandomWeights.Create(Layout, WeightSeed);
        Input = Images(Architecture.ImageSize);
    }

    public static CodeFormerArchitecture Architecture => CodeFormerArchitecture.Tiny;
    public ParameterLayout Layout { get; }
    public WeightSet Weights { get; }
    public float[] Input { get; }

    internal float[] ReferenceOutput(double fidelity)
        => _referenceOutputs.GetOrAdd(fidelity, w => new ReferenceCodeFormer(Architecture, Weights).Forward(Input, Batch, w));

    /// <summary>ONNX Runtime output of the full graph built from the fixture's own weights, computed once per w.</summary>
    public float[] OnnxOutput(double fidelity)
        => _onnxOutputs.GetOrAdd(fidelity, w => RunOnnx(Weights, new CodeFormerExportOptions(), w)[0]);

    /// <summary>Exports <paramref name="weights"/> with the graph builder, loads it in ORT and runs <see cref="Input"/> once per w.</summary>
    public float[][] RunOnnx(WeightSet weights, CodeFormerExportOptions options, params double[] fidelities)
        => RunOnnx(CodeFormerOnnxExporter.BuildGraph(Architecture, weights, options), options, CodeFormerOnnxExporter.OutputName, fidelities);

    /// <summary>Runs an exported graph (possibly with extra outputs added for inspection) and returns one output per w.</summary>
    public float[][] RunOnnx(OnnxGraph graph, CodeFormerExportOptions options, string outputName, params double[] fidelities)
    {
        using var stream = new MemoryStream();
        OnnxModelWriter.Write(graph, stream);
        using var sessionOptions = new SessionOptions { IntraOpNumThreads = 2 };
        using var session = new InferenceSession(stream.ToArray(), sessionOptions);
        int size = Architecture.ImageSize;
        return fidelities.Select(fidelity =>
        {
            var inputs = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor(CodeFormerOnnxExporter.InputName, new DenseTensor<float>(Input, [Batch, 3, size, size])),
            };
            if (options.IncludeFuseBlocks)
            {
                inputs.Add(NamedOnnxValue.CreateFromTensor(CodeFormerOnnxExporter.WeightInputName, new DenseTensor<double>(new[] { fidelity }, [1])));
            }
            using var results = session.Run(inputs, [outputName]);
            return results.Single().AsEnumerable<float>().ToArray();
        }).ToArray();
    }

    /// <summary>A copy of the fixture's weights with the tensors <paramref name="select"/> picks replaced.</summary>
    public WeightSet WeightsWith(Func<string, bool> select, Func<string, Tensor, Tensor> replace)
    {
        var copy = new WeightSet();
        foreach (string name in Weights.Names)
        {
            copy.Add(name, select(name) ? replace(name, Weights[name]) : Weights[name]);
        }
        return copy;
    }

    public static float MaxAbsDifference(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }
        return max;
    }

    /// <summary>Two different smooth images with edges, deterministic, spanning [-1, 1].</summary>
    private static float[] Images(int size)
    {
        var data = new float[Batch * 3 * size * size];
        for (int n = 0; n < Batch; n++)
        {
            for (int c = 0; c < 3; c++)
            {
                for (int y = 0; y < size; y++)
                {
                    for (int x = 0; x < size; x++)
                    {
                        double value = n == 0
                            ? Math.Sin(0.19 * x + 0.5 * c) * Math.Cos(0.13 * y - 0.3 * c)
                            : 0.8 * Math.Tanh(0.15 * (x - y) + c) - 0.4 * Math.Sin(0.05 * x * y / (c + 1.0)) + ((x / 8 + y / 8) % 2 == 0 ? 0.2 : -0.2);
                        data[((n * 3 + c) * size + y) * size + x] = (float)Math.Clamp(value, -1, 1);
                    }
                }
            }
        }
        return data;
    }
}
