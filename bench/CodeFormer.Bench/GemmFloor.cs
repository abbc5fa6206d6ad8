using CodeFormer.Engine.Runtime;
using CodeFormer.Network.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace CodeFormer.Bench;

/// <summary>
/// The machine's arithmetic floor as ONNX Runtime reaches it: the FLOP rate of one large float32 GEMM on
/// the same provider and thread count as the network. A network cannot beat its FLOPs at this rate, so
/// measured time ÷ (FLOPs ÷ GEMM rate) says how far from the floor a model runs.
/// </summary>
internal static class GemmFloor
{
    public static int Run(BenchArguments args)
    {
        var rate = MeasureGflops(args.Int("size", 2048), args.Text("threads") is { } t ? int.Parse(t) : null);
        Console.WriteLine($"| GEMM {args.Int("size", 2048)}³ float32 | {rate:F1} GFLOP/s |");
        return 0;
    }

    public static double MeasureGflops(int size, int? threads)
    {
        var graph = new OnnxGraph("gemm");
        string a = graph.AddInput("a", OnnxElementType.Float, size, size);
        string b = graph.AddInput("b", OnnxElementType.Float, size, size);
        graph.Alias(graph.Op("MatMul", "product", [a, b]), "c");
        graph.AddOutput("c", OnnxElementType.Float, size, size);
        using var stream = new MemoryStream();
        OnnxModelWriter.Write(graph, stream);
        using var options = SessionOptionsFactory.Create(ExecutionDevice.Cpu, threads, out _);
        using var session = new InferenceSession(stream.ToArray(), options);
        var data = Enumerable.Range(0, size * size).Select(i => (float)((i % 17) - 8) / 8f).ToArray();
        using var va = OrtValue.CreateTensorValueFromMemory(data, [size, size]);
        using var vb = OrtValue.CreateTensorValueFromMemory((float[])data.Clone(), [size, size]);
        var output = new float[size * size];
        using var vc = OrtValue.CreateTensorValueFromMemory(output, [size, size]);
        using var runOptions = new RunOptions();
        var sample = Measurement.Time(2, 7, () => session.Run(runOptions, ["a", "b"], [va, vb], ["c"], [vc]));
        return 2.0 * size * size * (double)size / (sample.MedianMs / 1000.0) / 1e9;
    }
}
