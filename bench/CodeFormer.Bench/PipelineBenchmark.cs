using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Runtime;

namespace CodeFormer.Bench;

/// <summary>
/// Whole photos through the engine with a given network: per-stage median milliseconds over the iterations and
/// the share of end-to-end time spent outside the network (target: under 5 % with the full-size network on CPU).
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
            var runs = Enumerable.Range(0, iterations).Select(_ => engine.Restore(bytes, options)).ToList();
            // Medians per stage over the runs: the network's own jitter must not pick which run's overhead is shown.
            double Median(Func<RestorationResult, double> value)
            {
                var sorted = runs.Select(value).Order().ToArray();
                return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
            }
            string Ms(RestorationStage stage) => Median(r => r.Timings.Milliseconds.GetValueOrDefault(stage)).ToString("F0");
            double total = Median(r => r.Timings.Total), outside = Median(r => r.Timings.OutsideNetwork);
            Console.WriteLine($"| {Path.GetFileName(photo)} | {runs[0].Faces.Count} | {Ms(RestorationStage.Decode)} | {Ms(RestorationStage.Detect)} | {Ms(RestorationStage.Align)} | " +
                $"{Ms(RestorationStage.Restore)} | {Ms(RestorationStage.Background)} | {Ms(RestorationStage.Paste)} | {Ms(RestorationStage.Encode)} | " +
                $"{total:F0} | {100 * outside / total:F2} % |");
        }
        return 0;
    }

    public static RestorationEngine CreateEngine(BenchArguments args) => RestorationEngineFactory.WithoutLogging().CreateAsync(new EngineSettings
    {
        Device = ExecutionDevice.Cpu,
        ModelPath = args.Required("model"),
        DetectorModelPath = args.Required("detector-model"),
        Detector = args.Text("detector") == "retinaface" ? DetectorKind.RetinaFace : DetectorKind.YuNet,
        Offline = true,
        BatchSize = args.Text("batch-size") is { } batch ? int.Parse(batch) : null,
    }).GetAwaiter().GetResult();
}
