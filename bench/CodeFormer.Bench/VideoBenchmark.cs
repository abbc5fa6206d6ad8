using System.Globalization;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Runtime;
using CodeFormer.Engine.Video;
using CodeFormer.Network.Architecture;

namespace CodeFormer.Bench;

/// <summary>
/// Frames per second and peak working set of restoring whole videos (decode → pipeline → encode through ffmpeg).
/// Each clip's peak is the one reached while it ran (the restorer resets the high-water mark per video on Linux).
/// To compare lengths (e.g. 10 s vs 60 s), run each in its own process after the same <c>--warmup</c> clip, so that
/// the one-off costs of a process's first video (JIT tiering, ONNX Runtime's first runs, GC budgets) fall outside both.
/// Without <c>--model</c> a random-weight network of <c>--config tiny|full</c> is written and used.
/// </summary>
internal static class VideoBenchmark
{
    public static int Run(BenchArguments args)
    {
        var settings = new EngineSettings
        {
            Device = ExecutionDevice.Cpu,
            ModelPath = args.Text("model") ?? NetworkBenchmark.BuildRandomModel(args.Text("config") == "tiny" ? CodeFormerArchitecture.Tiny : CodeFormerArchitecture.Full),
            DetectorModelPath = args.Required("detector-model"),
            Offline = true,
        };
        using var restorer = VideoRestorer.CreateAsync(settings, FfmpegTools.Locate(args.Text("ffmpeg"))).GetAwaiter().GetResult();
        var options = new VideoOptions
        {
            Restoration = new RestorationOptions { Fidelity = args.Double("w", 0.5), Upscale = args.Int("upscale", 1) },
            Smoothing = args.Text("smoothing") != "false",
        };
        Console.WriteLine($"load average (1, 5, 15 min) at start: {LoadAverage()}");
        Console.WriteLine("| clip | size | frames | faces/frame | seconds | frames/s | peak working set (this clip) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        string outputFolder = Directory.CreateTempSubdirectory("codeformer-bench-video-").FullName;
        try
        {
            var clips = args.Text("warmup") is { } warmUp ? args.Positional.Prepend(warmUp).ToList() : args.Positional.ToList();
            for (int i = 0; i < clips.Count; i++)
            {
                string clip = clips[i];
                string label = i == 0 && args.Text("warmup") is not null ? $"{Path.GetFileName(clip)} (warm-up)" : Path.GetFileName(clip);
                var result = restorer.Restore(clip, Path.Combine(outputFolder, $"{i}_{Path.GetFileName(clip)}"), options);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {label} | {result.Input.Width}×{result.Input.Height} @ {result.Input.FramesPerSecond:F0} fps | {result.Frames} | " +
                    $"{result.Faces.Average(result.Frames):F2} | {result.Seconds:F1} | {result.FramesPerSecond:F2} | {result.PeakWorkingSetBytes / (1 << 20):N0} MiB{(result.PeakIsThisVideos ? "" : " (process)")} |"));
            }
        }
        finally
        {
            Directory.Delete(outputFolder, recursive: true);
        }
        Console.WriteLine($"load average (1, 5, 15 min) at end: {LoadAverage()}");
        return 0;
    }

    private static string LoadAverage()
        => File.Exists("/proc/loadavg") ? string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
