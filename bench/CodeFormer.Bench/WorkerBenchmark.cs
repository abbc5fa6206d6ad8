using System.Collections.Concurrent;
using System.Diagnostics;
using CodeFormer.Engine.Detection;
using CodeFormer.Engine.Pipeline;
using CodeFormer.Engine.Runtime;

namespace CodeFormer.Bench;

/// <summary>
/// The worker's situation on a synthetic device: one engine, photos arriving from 1, 4 or 16 concurrent jobs, the
/// real CPU stages (decode, YuNet detection, alignment, paste-back, encode) around a "GPU" that holds for a fixed
/// time per batch (<see cref="SyntheticDevice"/>). Reports device-busy %, photos/s, faces per batch and p50/p95
/// latency for a 1-face and a many-face photo. Target: ≥ 90 % device busy with 4+ concurrent jobs.
/// </summary>
internal static class WorkerBenchmark
{
    public static int Run(BenchArguments args)
    {
        int deviceMs = args.Int("device-ms", 25);
        int batch = args.Int("batch", 8);
        int[] concurrencies = args.Ints("concurrency", [1, 4, 16]);
        int minimumPhotos = args.Int("photos", 16);
        var photos = new (string Label, string? Path)[] { ("1-face", args.Text("one-face")), ("many-face", args.Text("many-faces")) }
            .Where(p => p.Path is not null).Select(p => (p.Label, Path: p.Path!)).ToArray();
        if (photos.Length == 0)
        {
            throw new ArgumentException("Give --one-face and/or --many-faces: the photos the jobs restore.");
        }
        var options = new RestorationOptions { Upscale = args.Int("upscale", 2) };

        using var sessionOptions = SessionOptionsFactory.Create(ExecutionDevice.Cpu, args.Text("threads") is { } t ? int.Parse(t) : null, out _);
        var device = new SyntheticDevice(512, TimeSpan.FromMilliseconds(deviceMs), batch);
        var detector = new YuNetDetector(args.Required("detector-model"), sessionOptions);
        using var engine = new RestorationEngine(device, detector, upsampler: null, new EngineSettings { BatchSize = batch });

        Console.WriteLine($"Synthetic device: {deviceMs} ms per batch of up to {batch} faces; upscale {options.Upscale}; " +
            $"at least {minimumPhotos} photos (and 3 per job) per row after one warm-up photo per job.");
        Console.WriteLine();
        Console.WriteLine("| photo | faces | concurrent jobs | photos | photos/s | device busy | faces/batch | p50 ms | p95 ms |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (label, path) in photos)
        {
            byte[] bytes = File.ReadAllBytes(path);
            int faces = engine.Restore(bytes, options).Faces.Count;
            foreach (int jobs in concurrencies)
            {
                var row = Measure(engine, bytes, options, jobs, Math.Max(minimumPhotos, 3 * jobs));
                Console.WriteLine($"| {label} ({Path.GetFileName(path)}) | {faces} | {jobs} | {row.Photos} | {row.PhotosPerSecond:F2} | " +
                    $"{100 * row.DeviceBusy:F1} % | {row.FacesPerBatch:F2} | {row.P50:F0} | {row.P95:F0} |");
            }
        }
        return 0;
    }

    internal sealed record Row(int Photos, double PhotosPerSecond, double DeviceBusy, double FacesPerBatch, double P50, double P95);

    /// <summary>
    /// <paramref name="jobs"/> concurrent loops, each restoring the photo again as soon as its last one finished, as a
    /// worker with that many messages in flight does. Each job warms up with one photo that is not counted.
    /// </summary>
    internal static Row Measure(RestorationEngine engine, byte[] photo, RestorationOptions options, int jobs, int photos)
    {
        var latencies = new ConcurrentBag<double>();
        int started = 0;
        using var warmedUp = new Barrier(jobs + 1);
        using var go = new ManualResetEventSlim();
        var tasks = Enumerable.Range(0, jobs).Select(_ => Task.Run(async () =>
        {
            await engine.RestoreAsync(photo, options);
            warmedUp.SignalAndWait();
            go.Wait();
            while (Interlocked.Increment(ref started) <= photos)
            {
                long start = Stopwatch.GetTimestamp();
                await engine.RestoreAsync(photo, options);
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
        })).ToArray();
        warmedUp.SignalAndWait();
        var before = engine.Batching;
        long wall = Stopwatch.GetTimestamp();
        go.Set();
        Task.WaitAll(tasks);
        double seconds = Stopwatch.GetElapsedTime(wall).TotalSeconds;
        var work = engine.Batching.Since(before);
        var sorted = latencies.Order().ToArray();
        return new Row(sorted.Length, sorted.Length / seconds, work.DeviceBusy.TotalSeconds / seconds, work.FacesPerBatch,
            Percentile(sorted, 0.50), Percentile(sorted, 0.95));
    }

    internal static double Percentile(double[] sorted, double p)
        => sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
