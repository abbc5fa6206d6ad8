namespace CodeFormer.Bench;

/// <summary>
/// <c>codeformer-bench network|pipeline|memory|gemm|fuzz</c>. Each prints a Markdown table with the machine and date
/// so results can be pasted into docs/benchmarks.md as measured.
/// </summary>
internal static class BenchCommand
{
    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.WriteLine("""
                usage:
                  codeformer-bench network  [--config full|tiny] [--iterations N] [--batches 1,4] [--weights 0,0.5] [--threads N] [--model path.onnx]
                  codeformer-bench pipeline --model m.onnx --detector-model d.onnx [--iterations N] photo...
                  codeformer-bench memory   --model m.onnx --detector-model d.onnx --photo p [--megapixels 24 | --width W --height H] [--upscale 1]
                                            [--max-faces N] [--batch-size N] [--budget-mib N] [--format png|jpeg|webp] [--bg-model x2.onnx]
                  codeformer-bench gemm     [--size 2048]
                  codeformer-bench worker   --detector-model d.onnx [--one-face p] [--many-faces p] [--device-ms 25] [--batch 8] [--concurrency 1,4,16] [--photos 16]
                  codeformer-bench soak     [--jobs 1000] [--workers 3] [--kill-every 20] [--minutes 20] [--photo p] [--detector-model d] [--lock-seconds 5] [--max-delivery 10]
                  codeformer-bench device-check --detector-model d.onnx --photos p1,p2 --out results.json [--batches 1,4,8,16] [--iterations 5]
                  codeformer-bench fuzz     [--seed 1] [--seconds 60] [--target images|checkpoints|all] [--assets ../shared/assets] [--out dir]
                  codeformer-bench video    [--model m.onnx | --config tiny|full] --detector-model d.onnx [--warmup clip] [--upscale 1] [--smoothing false] [--ffmpeg path] clip...
                """);
            return args.Length == 0 ? 2 : 0;
        }
        var options = BenchArguments.Parse(args.Skip(1).ToArray());
        if (args[0] != "memory-child")
        {
            Console.WriteLine(MachineDescription.Describe());
        }
        return args[0] switch
        {
            "network" => NetworkBenchmark.Run(options),
            "pipeline" => PipelineBenchmark.Run(options),
            "memory" => MemoryBenchmark.Run(options),
            "memory-child" => MemoryBenchmark.RunChild(options),
            "gemm" => GemmFloor.Run(options),
            "worker" => WorkerBenchmark.Run(options),
            "device-check" => DeviceCheck.Run(options),
            "soak" => SoakBenchmark.Run(options),
            "fuzz" => FuzzBenchmark.Run(options),
            "video" => VideoBenchmark.Run(options),
            _ => throw new ArgumentException($"Unknown benchmark '{args[0]}'."),
        };
    }
}
