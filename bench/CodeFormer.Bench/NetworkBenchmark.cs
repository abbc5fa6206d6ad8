using CodeFormer.Engine.Restoration;
using CodeFormer.Engine.Runtime;
using CodeFormer.Network.Architecture;
using CodeFormer.Network.Onnx;
using CodeFormer.Network.Weights;

namespace CodeFormer.Bench;

/// <summary>
/// The CodeFormer network alone on CPU: median milliseconds per face for each batch size and fidelity
/// weight, against the arithmetic floor (graph FLOPs at the measured GEMM rate). w = 0 runs the code-only
/// graph the session picks by itself.
/// </summary>
internal static class NetworkBenchmark
{
    public static int Run(BenchArguments args)
    {
        var architecture = args.Text("config") == "tiny" ? CodeFormerArchitecture.Tiny : CodeFormerArchitecture.Full;
        int iterations = args.Int("iterations", 3);
        int? threads = args.Text("threads") is { } t ? int.Parse(t) : null;
        string modelPath = args.Text("model") ?? BuildRandomModel(architecture);

        double gemm = GemmFloor.MeasureGflops(2048, threads);
        Console.WriteLine($"GEMM floor: {gemm:F1} GFLOP/s (2048³ float32, ONNX Runtime CPU)");
        Console.WriteLine();
        Console.WriteLine("| batch | w | graph | GFLOP/face | median ms/face | min–max ms/call | floor ms/face | ratio to floor |");
        Console.WriteLine("|---:|---:|---|---:|---:|---:|---:|---:|");

        using var options = SessionOptionsFactory.Create(ExecutionDevice.Cpu, threads, out _);
        using var session = CodeFormerSession.Open(modelPath, options, maxBatch: 8);
        int size = session.FaceSize;
        foreach (double w in args.Doubles("weights", [0, 0.5]))
        {
            double gflop = CodeFormerFlops.EstimateFlops(architecture, includeFuseBlocks: w > 0) / 1e9;
            foreach (int batch in args.Ints("batches", [1, 4]))
            {
                var input = new float[batch * 3 * size * size];
                var random = new Random(1);
                for (int i = 0; i < input.Length; i++)
                {
                    input[i] = (float)(random.NextDouble() * 2 - 1);
                }
                var output = new float[input.Length];
                var sample = Measurement.Time(1, iterations, () => session.Restore(input, batch, w, output));
                double perFace = sample.MedianMs / batch;
                double floor = gflop / gemm * 1000;
                Console.WriteLine($"| {batch} | {w} | {(w > 0 ? "full" : "code-only")} | {gflop:F1} | {perFace:F0} | {sample.MinMs:F0}–{sample.MaxMs:F0} | {floor:F0} | {perFace / floor:F2} |");
            }
        }
        return 0;
    }

    internal static string BuildRandomModel(CodeFormerArchitecture architecture)
    {
        string dir = Path.Combine(Path.GetTempPath(), "codeformer-bench");
        string path = Path.Combine(dir, architecture == CodeFormerArchitecture.Tiny ? "tiny.onnx" : "full.onnx");
        if (!File.Exists(path) || !File.Exists(CodeFormerOnnxExporter.CodeOnlyPathFor(path)))
        {
            var weights = RandomWeights.Create(new ParameterLayout(new NetworkLayout(architecture)), 1);
            CodeFormerOnnxExporter.WriteFile(architecture, weights, path, new CodeFormerExportOptions());
            CodeFormerOnnxExporter.WriteFile(architecture, weights, CodeFormerOnnxExporter.CodeOnlyPathFor(path), new CodeFormerExportOptions { IncludeFuseBlocks = false });
        }
        return path;
    }
}
