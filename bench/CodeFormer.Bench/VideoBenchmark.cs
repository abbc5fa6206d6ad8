using System.Globalization;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Runtime;
using CodeFormer.Engine.Video;

namespace CodeFormer.Bench;

/// <summary>
/// Frames per second and peak working set of restoring whole videos (decode → pipeline → encode through ffmpeg).
/// The peak is the process's, so compare lengths (e.g. 10 s vs 60 s) in separate runs, one clip each.
/// </summary>
internal static class VideoBenchmark
{
    public static int Run(BenchArguments args)
    {
        var settings = new EngineSettings
        {
            Device = ExecutionDevice.Cpu,
            ModelPath = args.Required("model"),
            DetectorModelPath = args.Required("detector-model"),
            Offline = true,
        };
        using var restorer = VideoRestorer.CreateAsync(settings, FfmpegTools.Locate(args.Text("ffmpeg"))).GetAwaiter().GetResult();
        var options = new VideoOptions
        {
            Restoration = new RestorationOptions { Fidelity = args.Double("w", 0.5), Upscale = args.Int("upscale", 1) },
            Smoothing = args.Text("smoothing") != "false",
        };
        Console.WriteLine("| clip | size | frames | faces/frame | seconds | frames/s | peak working set |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        string outputFolder = Directory.CreateTempSubdirectory("codeformer-bench-video-").FullName;
        try
        {
            foreach (var clip in args.Positional)
            {
                var result = restorer.Restore(clip, Path.Combine(outputFolder, Path.GetFileName(clip)), options);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {Path.GetFileName(clip)} | {result.Input.Width}×{result.Input.Height} @ {result.Input.FramesPerSecond:F0} fps | {result.Frames} | " +
                    $"{result.Faces.Average(result.Frames):F2} | {result.Seconds:F1} | {result.FramesPerSecond:F2} | {result.PeakWorkingSetBytes / (1 << 20):N0} MiB |"));
            }
        }
        finally
        {
            Directory.Delete(outputFolder, recursive: true);
        }
        return 0;
    }
}
