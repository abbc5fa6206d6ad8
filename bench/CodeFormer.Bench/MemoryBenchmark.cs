using System.Diagnostics;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Pipeline;

namespace CodeFormer.Bench;

/// <summary>
/// Peak resident memory of restoring one large photo: the given photo is enlarged to the requested
/// megapixels (PNG in memory), then restored once; the process's peak working set is read before and after.
/// </summary>
internal static class MemoryBenchmark
{
    public static int Run(BenchArguments args)
    {
        double megapixels = args.Double("megapixels", 24);
        int upscale = args.Int("upscale", 1);
        var source = new ImageDecoder().Decode(File.ReadAllBytes(args.Required("photo"))).Image;
        double factor = Math.Sqrt(megapixels * 1e6 / ((double)source.Width * source.Height));
        var large = ImageResizer.ResizeBilinear(source, (int)(source.Width * factor), (int)(source.Height * factor));
        var jpeg = new ImageEncoder().Encode(large, ImageFileFormat.Jpeg, 90);
        large = null;
        source = null;
        GC.Collect();
        using var engine = PipelineBenchmark.CreateEngine(args);
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        long before = process.PeakWorkingSet64;
        var result = engine.Restore(jpeg, new RestorationOptions { Upscale = upscale, IncludeComparison = false });
        process.Refresh();
        Console.WriteLine($"| {result.InputWidth}×{result.InputHeight} ({result.InputWidth * (long)result.InputHeight / 1e6:F1} MP) | s={upscale} | " +
            $"{result.Faces.Count} face(s) | output {result.Width}×{result.Height} | peak working set {process.PeakWorkingSet64 / (1 << 20):N0} MiB " +
            $"(before restore {before / (1 << 20):N0} MiB) | {result.Timings.Total:F0} ms |");
        return 0;
    }
}
