using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CodeFormer.Network.Tests.Onnx;

/// <summary>A Tiny CodeFormer exported with random weights and loaded in ONNX Runtime (CPU), plus test images.</summary>
internal sealed class TinyCodeFormerModel : IDisposable
{
    public static readonly CodeFormerArchitecture Architecture = CodeFormerArchitecture.Tiny;

    private readonly InferenceSession _session;

    /// <param name="rewrite">Optional test-side rewrite of the exported graph; the session then runs it without ORT graph optimisations, exactly as written.</param>
    public TinyCodeFormerModel(CodeFormerExportOptions options, ulong seed = 7, Func<OnnxGraph, OnnxGraph>? rewrite = null)
    {
        Options = options;
        Weights = RandomWeights.Create(new ParameterLayout(new NetworkLayout(Architecture)), seed);
        Graph = CodeFormerOnnxExporter.BuildGraph(Architecture, Weights, options);
        if (rewrite is not null)
        {
            Graph = rewrite(Graph);
        }
        using var stream = new MemoryStream();
        OnnxModelWriter.Write(Graph, stream);
        using var sessionOptions = new SessionOptions { IntraOpNumThreads = 2 };
        if (rewrite is not null)
        {
            sessionOptions.GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL;
        }
        _session = new InferenceSession(stream.ToArray(), sessionOptions);
    }

    public CodeFormerExportOptions Options { get; }
    public WeightSet Weights { get; }
    public OnnxGraph Graph { get; }
    public InferenceSession Session => _session;

    public static int Size => Architecture.ImageSize;
    public static int ImageElements => 3 * Size * Size;

    /// <summary>Runs a batch laid out as [N, 3, S, S]; <paramref name="w"/> is ignored by a code-only graph.</summary>
    public float[] Run(float[] images, double w = 0.5)
    {
        int batch = images.Length / ImageElements;
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor(CodeFormerOnnxExporter.InputName, new DenseTensor<float>(images, [batch, 3, Size, Size])),
        };
        if (Options.IncludeFuseBlocks)
        {
            inputs.Add(NamedOnnxValue.CreateFromTensor(CodeFormerOnnxExporter.WeightInputName, new DenseTensor<double>(new[] { w }, [1])));
        }
        using var results = _session.Run(inputs);
        var output = results.Single(r => r.Name == CodeFormerOnnxExporter.OutputName).AsTensor<float>();
        Assert.Equal(new[] { batch, 3, Size, Size }, output.Dimensions.ToArray());
        return output.ToArray();
    }

    /// <summary>Smooth, face-sized structure in [-1, 1] with per-image variation, deterministic per index.</summary>
    public static float[] Images(int count, int firstIndex = 0)
    {
        var data = new float[count * ImageElements];
        for (int n = 0; n < count; n++)
        {
            int image = firstIndex + n;
            for (int c = 0; c < 3; c++)
            {
                for (int y = 0; y < Size; y++)
                {
                    for (int x = 0; x < Size; x++)
                    {
                        double value = 0.6 * Math.Sin(0.11 * (image + 1) * x + 0.7 * c) * Math.Cos(0.07 * y * (c + 1) + image)
                            + 0.3 * Math.Sin(0.013 * x * y + image);
                        data[((n * 3 + c) * Size + y) * Size + x] = (float)Math.Clamp(value, -1, 1);
                    }
                }
            }
        }
        return data;
    }

    public static float MaxAbsDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }
        return max;
    }

    public void Dispose() => _session.Dispose();
}
