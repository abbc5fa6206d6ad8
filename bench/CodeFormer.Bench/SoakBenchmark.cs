using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using CodeFormer.GpuRunner.Testing;
using CodeFormer.Shared.Jobs;
using CodeFormer.Testing.ServiceBus;

namespace CodeFormer.Bench;

/// <summary>
/// <c>soak --jobs 1000 --workers 3 --kill-every 20</c>: runs jobs through the local stack (Azurite, the Service Bus test
/// broker, worker child processes on a tiny network) while SIGKILLing a random worker after every N finished jobs and
/// starting a replacement, then reports jobs submitted, succeeded, failed, lost (not terminal when the run ends),
/// duplicated (a result blob created more than once, counted from the workers' ResultWritten log events, or more than
/// one usage row), dead-lettered, and still queued when --minutes ran out.
/// </summary>
internal static partial class SoakBenchmark
{
    public static int Run(BenchArguments options)
    {
        var jobs = options.Int("jobs", 1000);
        var workers = options.Int("workers", 3);
        var killEvery = options.Int("kill-every", 20);
        var minutes = options.Double("minutes", 20);
        var photo = options.Text("photo") ?? Path.Combine(AssetsRoot(), "images", "hopper_128x128.png");
        var detector = options.Text("detector-model") ?? Path.Combine(AssetsRoot(), "models", "face_detection_yunet_2023mar.onnx");
        var lockSeconds = options.Double("lock-seconds", 5);
        var maxDelivery = options.Int("max-delivery", 10);
        return RunAsync(jobs, workers, killEvery, TimeSpan.FromMinutes(minutes), File.ReadAllBytes(photo), detector, TimeSpan.FromSeconds(lockSeconds), maxDelivery)
            .GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(int jobCount, int workerCount, int killEvery, TimeSpan limit, byte[] photo, string detector, TimeSpan lockDuration, int maxDelivery)
    {
        var folder = Directory.CreateTempSubdirectory("codeformer-soak-").FullName;
        await using var stack = await LocalStack.StartAsync(detector);
        var lane = await stack.CreateLaneAsync(new TestQueueOptions { LockDuration = lockDuration, MaxDeliveryCount = maxDelivery, DuplicateDetectionWindow = TimeSpan.FromMinutes(10) });
        var started = 0;
        Dictionary<string, string?> Settings() => lane.WorkerSettings(Path.Combine(folder, $"models-{Interlocked.Increment(ref started)}"),
            new Dictionary<string, string?> { ["Worker:maxConcurrentJobs"] = "2", ["Worker:shutdownGracePeriod"] = "00:00:05" });

        var all = new List<WorkerProcess>();
        var live = new List<WorkerProcess>();
        for (var i = 0; i < workerCount; i++)
        {
            var worker = WorkerProcess.Start(Settings());
            all.Add(worker);
            live.Add(worker);
        }

        // Jobs are submitted while the workers run (and are killed), as uploads arrive in production.
        var clock = Stopwatch.StartNew();
        var submitted = new List<string>(jobCount);
        var submitting = Task.Run(async () =>
        {
            for (var i = 0; i < jobCount; i++)
            {
                var job = await lane.SubmitAsync(photo, new JobOptions { Upscale = 1 });
                lock (submitted)
                {
                    submitted.Add(job.JobId);
                }
            }
        });
        Console.WriteLine($"submitting {jobCount} jobs; {workerCount} workers, SIGKILL one every {killEvery} finished jobs");

        var random = new Random(2026);
        var kills = 0;
        var nextKillAt = killEvery;
        (int Succeeded, int Failed, int Running) counts = default;
        while (clock.Elapsed < limit)
        {
            counts = await CountAsync(lane);
            var finished = counts.Succeeded + counts.Failed;
            if (finished >= jobCount)
            {
                break;
            }
            while (finished >= nextKillAt && killEvery > 0)
            {
                var victim = live[random.Next(live.Count)];
                victim.Kill();
                live.Remove(victim);
                var replacement = WorkerProcess.Start(Settings());
                all.Add(replacement);
                live.Add(replacement);
                kills++;
                nextKillAt += killEvery;
            }
            if (clock.Elapsed.Seconds % 15 == 0)
            {
                Console.WriteLine($"{clock.Elapsed:mm\\:ss} submitted {submitted.Count}, succeeded {counts.Succeeded}, failed {counts.Failed}, running {counts.Running}, kills {kills}");
            }
            await Task.Delay(1000);
        }
        var elapsed = clock.Elapsed;
        Console.WriteLine();
        await submitting;
        foreach (var worker in live)
        {
            worker.Terminate();
        }
        foreach (var worker in live)
        {
            await worker.WaitForExitAsync(TimeSpan.FromSeconds(60));
        }

        counts = await CountAsync(lane);
        var writesPerJob = all.SelectMany(w => w.Lines)
            .Where(l => l.Contains(WorkerProcess.ResultWrittenMarker, StringComparison.Ordinal))
            .Select(l => JobIdPattern().Match(l).Groups[1].Value)
            .GroupBy(id => id)
            .ToDictionary(g => g.Key, g => g.Count());
        var usageRows = await UsageRowsPerJobAsync(lane);
        var duplicated = submitted.Count(id => writesPerJob.GetValueOrDefault(id) > 1 || usageRows.GetValueOrDefault(id) > 1);
        // A job that is not terminal is only lost if its message is gone too; one still in the queue (the time limit came
        // first) is unfinished, and the next worker would finish it. Duplicate detection keeps one message per job.
        var notTerminal = jobCount - counts.Succeeded - counts.Failed;
        var stillQueued = lane.Queue.ActiveMessageCount + lane.Queue.LockedMessageCount;
        var lost = Math.Max(0, notTerminal - stillQueued);
        var unfinished = notTerminal - lost;
        var deadLettered = lane.Queue.DeadLetterMessageCount;

        Console.WriteLine($"""

            | jobs submitted | workers | SIGKILLs | succeeded | failed | lost | duplicated | dead-lettered | still queued at the limit | wall time | jobs/s |
            |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
            | {jobCount} | {workerCount} | {kills} | {counts.Succeeded} | {counts.Failed} | {lost} | {duplicated} | {deadLettered} | {unfinished} | {elapsed.TotalSeconds:F0} s | {counts.Succeeded / elapsed.TotalSeconds:F2} |

            result blobs created (ResultWritten events): {writesPerJob.Values.Sum()}; usage rows: {usageRows.Values.Sum()}; worker processes started: {all.Count}
            """);
        foreach (var worker in all)
        {
            await worker.DisposeAsync();
        }
        Directory.Delete(folder, recursive: true);
        return lost == 0 && duplicated == 0 ? 0 : 1;
    }

    private static async Task<(int Succeeded, int Failed, int Running)> CountAsync(Lane lane)
    {
        int succeeded = 0, failed = 0, running = 0;
        await foreach (var row in lane.Table.QueryAsync<TableEntity>(e => e.PartitionKey == lane.TenantId, select: ["RowKey", "State"]))
        {
            if (!row.RowKey.StartsWith(JobTableKeys.JobPrefix, StringComparison.Ordinal))
            {
                continue;
            }
            switch (row.GetString("State"))
            {
                case nameof(JobState.Succeeded): succeeded++; break;
                case nameof(JobState.Failed): failed++; break;
                case nameof(JobState.Running): running++; break;
            }
        }
        return (succeeded, failed, running);
    }

    private static async Task<Dictionary<string, int>> UsageRowsPerJobAsync(Lane lane)
    {
        var rows = new Dictionary<string, int>();
        await foreach (var row in lane.Table.QueryAsync<TableEntity>(e => e.PartitionKey == lane.TenantId, select: ["RowKey"]))
        {
            if (row.RowKey.StartsWith(JobTableKeys.UsagePrefix, StringComparison.Ordinal))
            {
                var jobId = row.RowKey[(row.RowKey.LastIndexOf('|') + 1)..];
                rows[jobId] = rows.GetValueOrDefault(jobId) + 1;
            }
        }
        return rows;
    }

    private static string AssetsRoot() => Environment.GetEnvironmentVariable("CODEFORMER_ASSETS") is { Length: > 0 } configured
        ? configured
        : Path.GetFullPath(Path.Combine("..", "shared", "assets"));

    [GeneratedRegex("\"JobId\":\"([0-9a-f]{32})\"")]
    private static partial Regex JobIdPattern();
}
