using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Runtime;

namespace CodeFormer.Bench;

/// <summary>
/// Whole photos through the engine with a given network: per-stage milliseconds and the share of
/// end-to-end time spent outside the network (target: under 5 % with the full-size network on CPU).
/// </summary>
internal static class PipelineBenchmark
{
    public static int Run(BenchArguments args)
    {
        int iterations = args.Int("iterations", 1);
        using var engine = CreateEngine(args);
        var options = new RestorationOptions { Fidelity = args.Double("w", 0.5), Upscale = args.Int("upscale", 2) };
        Console.WriteLine("| photo | faces | decode | detect | align | restore (network) | background | paste | encode | total ms | outside network |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var photo in args.Positional)
        {
            var bytes = File.ReadAllBytes(photo);
            RestorationResult? best = null;
            for (int i = 0; i < iterations; i++)
            {
                var result = engine.Restore(bytes, options);
                if (best is null || result.Timings.Total < best.Timings.Total)
                {
                    best = result;
                }
            }
            var t = best!.Timings.Milliseconds;
            string Ms(RestorationStage s) => t.GetValueOrDefault(s).ToString("F0");
            Console.WriteLine($"| {Path.GetFileName(photo)} | {best.Faces.Count} | {Ms(RestorationStage.Decode)} | {Ms(RestorationStage.Detect)} | {Ms(RestorationStage.Align)} | " +
                $"{Ms(RestorationStage.Restore)} | {Ms(RestorationStage.Background)} | {Ms(RestorationStage.Paste)} | {Ms(RestorationStage.Encode)} | " +
                $"{best.Timings.Total:F0} | {100 * best.Timings.OutsideNetwork / best.Timings.Total:F2} % |");
        }
        return 0;
    }

    public static RestorationEngine CreateEngine(BenchArguments args) => RestorationEngineFactory.CreateAsync(new EngineSettings
    {
        Device = ExecutionDevice.Cpu,
        ModelPath = args.Required("model"),
        DetectorModelPath = args.Required("detector-model"),
        Detector = args.Text("detector") == "retinaface" ? DetectorKind.RetinaFace : DetectorKind.YuNet,
        Offline = true,
        BatchSize = args.Int("batch-size", 4),
    }).GetAwaiter().GetResult();
}
