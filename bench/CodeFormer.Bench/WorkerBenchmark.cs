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
/// <para>
/// It also says which side is the limit: the process CPU time per photo (all threads, under that concurrency) and the
/// device-busy ceiling it allows, device time per photo ÷ CPU time per photo × cores (capped at 100 %): no batcher can
/// keep the device busier than the cores can prepare photos for it. A first table gives the CPU time of each stage of
/// one photo, measured with one photo in flight (so the process's CPU time in a stage's window is that stage's).
/// </para>
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
        using var engine = new RestorationEngine(device, detector, upsampler: null, new EngineSettings { BatchSize = batch })
        {
            // A device's activations are not in host memory: count only the host's batch tensors, as the factory does on CUDA
            // (with the CPU network's figure the budget refuses a 512² photo at batch 8).
            NetworkBytesPerFace = EngineMemoryProfile.HostTensorBytesPerFace(device.FaceSize),
            // As the factory sets it on CUDA: the device's activations are not in the host heap, so no trim after the faces.
            NetworkUsesHostHeap = args.Text("trim") is "on",
        };

        int cores = Environment.ProcessorCount;
        Console.WriteLine($"Synthetic device: {deviceMs} ms per batch of up to {batch} faces; upscale {options.Upscale}; " +
            $"at least {minimumPhotos} photos (and 3 per job) per row after one warm-up photo per job; {cores} cores.");
        Console.WriteLine();
        var loaded = photos.Select(p => (p.Label, p.Path, Bytes: File.ReadAllBytes(p.Path))).ToArray();
        Console.WriteLine($"CPU time per photo by stage (ms, mean of {ProfiledPhotos} photos one at a time; the ceiling assumes full batches of {batch}):");
        Console.WriteLine();
        Console.WriteLine("| photo | faces | decode | detect | align | restore | background | paste | encode | CPU total | device ms/photo | busy ceiling |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (label, path, bytes) in loaded)
        {
            var profile = ProfileStages(engine, bytes, options, ProfiledPhotos);
            double deviceMsPerPhoto = deviceMs * (double)profile.Faces / batch;
            string stages = string.Join(" | ", Enum.GetValues<RestorationStage>().Select(s => profile.CpuMs.GetValueOrDefault(s).ToString("F1")));
            Console.WriteLine($"| {label} ({Path.GetFileName(path)}) | {profile.Faces} | {stages} | {profile.TotalCpuMs:F1} | {deviceMsPerPhoto:F1} | " +
                $"{100 * Ceiling(deviceMsPerPhoto, profile.TotalCpuMs, cores):F1} % |");
        }
        Console.WriteLine();
        Console.WriteLine("| photo | faces | concurrent jobs | photos | photos/s | device busy | faces/batch | p50 ms | p95 ms | CPU ms/photo | device ms/photo (nominal) | busy ceiling |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (label, path, bytes) in loaded)
        {
            int faces = engine.Restore(bytes, options).Faces.Count;
            foreach (int jobs in concurrencies)
            {
                var row = Measure(engine, bytes, options, jobs, Math.Max(minimumPhotos, 3 * jobs));
                // The device's own time per photo is its nominal hold per batch: the measured time inside it also counts
                // how late the sleeping device thread is woken on busy cores, which is CPU contention, not device work.
                double deviceMsPerPhoto = (double)row.Batches * deviceMs / row.Photos;
                Console.WriteLine($"| {label} ({Path.GetFileName(path)}) | {faces} | {jobs} | {row.Photos} | {row.PhotosPerSecond:F2} | " +
                    $"{100 * row.DeviceBusy:F1} % | {row.FacesPerBatch:F2} | {row.P50:F0} | {row.P95:F0} | {row.CpuMsPerPhoto:F1} | " +
                    $"{deviceMsPerPhoto:F1} | {100 * Ceiling(deviceMsPerPhoto, row.CpuMsPerPhoto, cores):F1} % |");
            }
        }
        return 0;
    }

    private const int ProfiledPhotos = 8;

    /// <param name="CpuMsPerPhoto">Process CPU time (every thread) over the row, per photo.</param>
    /// <param name="DeviceMsPerPhoto">Time inside the device over the row, per photo.</param>
    /// <param name="Batches">Network calls over the row.</param>
    internal sealed record Row(int Photos, double PhotosPerSecond, double DeviceBusy, double FacesPerBatch, double P50, double P95,
        double CpuMsPerPhoto, double DeviceMsPerPhoto, long Batches)
    {
        /// <summary>The most device-busy this CPU allows at this batching: device ÷ CPU time per photo × cores, at most 1.</summary>
        public double BusyCeiling => Ceiling(DeviceMsPerPhoto, CpuMsPerPhoto, Environment.ProcessorCount);
    }

    internal static double Ceiling(double deviceMsPerPhoto, double cpuMsPerPhoto, int cores)
        => cpuMsPerPhoto <= 0 ? 1 : Math.Min(1, deviceMsPerPhoto / cpuMsPerPhoto * cores);

    internal sealed record StageProfile(int Faces, IReadOnlyDictionary<RestorationStage, double> CpuMs)
    {
        public double TotalCpuMs => CpuMs.Values.Sum();
    }

    /// <summary>
    /// Mean process CPU time per stage over <paramref name="photos"/> photos restored one at a time (after one warm-up),
    /// so nothing else runs in the process and a stage's window holds only its own work, on whichever threads it used
    /// (parallel loops, ONNX Runtime's intra-op threads, the batcher's dispatch thread). The restore window includes
    /// packing and unpacking the faces and the native heap trim after them; the synthetic device itself sleeps.
    /// </summary>
    internal static StageProfile ProfileStages(RestorationEngine engine, byte[] photo, RestorationOptions options, int photos)
    {
        int faces = engine.Restore(photo, options).Faces.Count;
        var clock = new StageCpuClock();
        for (int i = 0; i < photos; i++)
        {
            engine.Restore(photo, options, clock);
        }
        return new StageProfile(faces, clock.CpuMs.ToDictionary(p => p.Key, p => p.Value / photos));
    }

    /// <summary>
    /// Progress reports arrive synchronously as each stage starts (and once more when the photo is done), so the process
    /// CPU time between two reports is the CPU time of the stage that was running.
    /// </summary>
    private sealed class StageCpuClock : IProgress<RestorationProgress>
    {
        private RestorationStage? _running;
        private TimeSpan _mark;

        public Dictionary<RestorationStage, double> CpuMs { get; } = [];

        public void Report(RestorationProgress value)
        {
            var now = Environment.CpuUsage.TotalTime;
            if (_running is { } stage)
            {
                CpuMs[stage] = CpuMs.GetValueOrDefault(stage) + (now - _mark).TotalMilliseconds;
            }
            _running = value.Fraction >= 1 ? null : value.Stage;
            _mark = now;
        }
    }

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
        var cpuBefore = Environment.CpuUsage.TotalTime;
        long wall = Stopwatch.GetTimestamp();
        go.Set();
        Task.WaitAll(tasks);
        double seconds = Stopwatch.GetElapsedTime(wall).TotalSeconds;
        double cpuMs = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds;
        var work = engine.Batching.Since(before);
        var sorted = latencies.Order().ToArray();
        return new Row(sorted.Length, sorted.Length / seconds, work.DeviceBusy.TotalSeconds / seconds, work.FacesPerBatch,
            Percentile(sorted, 0.50), Percentile(sorted, 0.95), cpuMs / sorted.Length, work.DeviceBusy.TotalMilliseconds / sorted.Length, work.Batches);
    }

    internal static double Percentile(double[] sorted, double p)
        => sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
