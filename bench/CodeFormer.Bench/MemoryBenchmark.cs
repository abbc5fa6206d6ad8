using System.Diagnostics;
using System.Globalization;
using CodeFormer.Engine.Imaging;
using CodeFormer.Engine.Pipeline;

namespace CodeFormer.Bench;

/// <summary>
/// Peak resident memory of restoring one large photo, as a worker would see it. The parent process enlarges the given
/// photo to the requested size (or megapixels) and writes it as JPEG to a temporary file; a fresh child process then
/// loads the engine, restores that file once and reports its own peak resident set (VmHWM) — so nothing the parent
/// did to prepare the photo is counted, and the number includes the loaded models and ONNX Runtime's memory.
/// The child also prints the engine's estimate (<see cref="PhotoMemoryEstimator"/>) and the peak per stage.
/// </summary>
internal static class MemoryBenchmark
{
    public static int Run(BenchArguments args)
    {
        var file = Prepare(args);
        try
        {
            var self = Environment.ProcessPath ?? throw new InvalidOperationException("The bench cannot find its own executable.");
            var start = new ProcessStartInfo(self) { RedirectStandardOutput = false, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                start.ArgumentList.Add(typeof(MemoryBenchmark).Assembly.Location);
            }
            start.ArgumentList.Add("memory-child");
            start.ArgumentList.Add("--file");
            start.ArgumentList.Add(file);
            foreach (var name in new[] { "model", "detector-model", "upscale", "max-faces", "batch-size", "budget-mib", "format", "bg-model" })
            {
                if (args.Text(name) is { } value)
                {
                    start.ArgumentList.Add("--" + name);
                    start.ArgumentList.Add(value);
                }
            }
            using var child = Process.Start(start) ?? throw new InvalidOperationException("The measuring process did not start.");
            child.WaitForExit();
            return child.ExitCode;
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>The photo enlarged (bilinear) to --width×--height, or to --megapixels keeping its aspect, as JPEG q90.</summary>
    private static string Prepare(BenchArguments args)
    {
        var source = new ImageDecoder().Decode(File.ReadAllBytes(args.Required("photo"))).Image;
        int width, height;
        if (args.Text("width") is not null)
        {
            width = args.Int("width", 0);
            height = args.Int("height", 0);
        }
        else
        {
            double factor = Math.Sqrt(args.Double("megapixels", 24) * 1e6 / ((double)source.Width * source.Height));
            width = (int)(source.Width * factor);
            height = (int)(source.Height * factor);
        }
        var large = ImageResizer.ResizeBilinear(source, width, height);
        var file = Path.Combine(Path.GetTempPath(), $"codeformer-memory-{Environment.ProcessId}.jpg");
        using (var output = File.Create(file))
        {
            new ImageEncoder().EncodeTo(output, large, ImageFileFormat.Jpeg, 90);
        }
        return file;
    }

    /// <summary>The measuring process: engine, one restore, peak resident set from /proc/self/status.</summary>
    public static int RunChild(BenchArguments args)
    {
        var bytes = File.ReadAllBytes(args.Required("file"));
        int upscale = args.Int("upscale", 1);
        var settings = PipelineBenchmark.Settings(args) with
        {
            MemoryBudgetBytes = args.Text("budget-mib") is { } budget ? long.Parse(budget, CultureInfo.InvariantCulture) << 20 : EngineSettings.DefaultMemoryBudgetBytes,
        };
        using var engine = RestorationEngineFactory.WithoutLogging().CreateAsync(settings).GetAwaiter().GetResult();
        var options = new RestorationOptions
        {
            Upscale = upscale,
            MaxFaces = args.Text("max-faces") is { } max ? int.Parse(max, CultureInfo.InvariantCulture) : null,
            BackgroundUpsample = args.Text("bg-model") is not null,
            OutputFormat = args.Text("format") is { } format ? Enum.Parse<ImageFileFormat>(format, ignoreCase: true) : null,
        };
        long afterLoad = ResidentMemory.Current();
        PhotoMemoryEstimate estimate;
        RestorationResult result;
        using var sampler = new StagePeakSampler();
        try
        {
            estimate = engine.EstimateMemory(bytes, options);
            result = engine.Restore(bytes, options, sampler);
        }
        catch (Exception refused) when (refused is PhotoRefusedException or ImageRejectedException)
        {
            // A refusal is a result of this bench (the budget working), not a crash: one row with the engine's words.
            Console.WriteLine($"| s={upscale} | refused: {refused.Message} | peak {Mib(ResidentMemory.Peak())} MiB | after engine load {Mib(afterLoad)} MiB |");
            return 0;
        }
        long peak = ResidentMemory.Peak();
        Console.WriteLine($"| input {result.InputWidth}×{result.InputHeight} ({result.InputWidth * (long)result.InputHeight / 1e6:F1} MP) | s={upscale} | " +
            $"{result.Faces.Count} face(s) | output {result.Width}×{result.Height} {result.Format} | peak {Mib(peak)} MiB | " +
            $"estimate {Mib(estimate.TotalBytes)} MiB ({SignedPercent(100.0 * estimate.TotalBytes / peak - 100)}) | after engine load {Mib(afterLoad)} MiB | {result.Timings.Total / 1000:F1} s |");
        Console.WriteLine($"estimate: {estimate}");
        Console.WriteLine($"resident by stage, lowest–highest (MiB): {sampler.Describe()}");
        return 0;
    }

    /// <summary>"+5 %", "−1 %": .NET's "+0;-0" format printed "-+0" for a value that rounds to zero from below.</summary>
    private static string SignedPercent(double percent) =>
        string.Create(CultureInfo.InvariantCulture, $"{(percent < 0 ? "−" : "+")}{Math.Abs(percent):F0} %");

    private static string Mib(long bytes) => (bytes >> 20).ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>
    /// Samples the resident set every 10 ms and keeps the lowest and highest value seen while each stage ran: the lowest
    /// of the restore stage is what the photo holds before the network's working memory comes on top (after the
    /// engine's pre-network release), which is how the estimator's network term is calibrated.
    /// </summary>
    private sealed class StagePeakSampler : IProgress<RestorationProgress>, IDisposable
    {
        private readonly Dictionary<RestorationStage, long> _peaks = [];
        private readonly Dictionary<RestorationStage, long> _lows = [];
        private readonly Timer _timer;
        private volatile int _stage = -1;

        public StagePeakSampler() => _timer = new Timer(_ => Sample(), null, 0, 10);

        public void Report(RestorationProgress value)
        {
            Sample();
            _stage = (int)value.Stage;
            Sample();
        }

        private void Sample()
        {
            int stage = _stage;
            if (stage < 0)
            {
                return;
            }
            long now = ResidentMemory.Current();
            lock (_peaks)
            {
                var key = (RestorationStage)stage;
                _peaks[key] = Math.Max(_peaks.GetValueOrDefault(key), now);
                _lows[key] = Math.Min(_lows.GetValueOrDefault(key, long.MaxValue), now);
            }
        }

        public string Describe()
        {
            lock (_peaks)
            {
                return string.Join(", ", _peaks.OrderBy(p => p.Key).Select(p => $"{p.Key} {Mib(_lows[p.Key])}–{Mib(p.Value)}"));
            }
        }

        public void Dispose() => _timer.Dispose();
    }
}

/// <summary>The process's resident set now and at its peak, from /proc/self/status (Linux).</summary>
internal static class ResidentMemory
{
    public static long Current() => Read("VmRSS:");

    public static long Peak() => Read("VmHWM:");

    private static long Read(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidOperationException($"/proc/self/status has no {field} line.");
    }
}
