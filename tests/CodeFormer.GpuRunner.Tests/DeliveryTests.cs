using CodeFormer.GpuRunner.Testing;
using CodeFormer.Shared.Jobs;
using CodeFormer.Testing;

namespace CodeFormer.GpuRunner.Tests;

/// <summary>At-least-once delivery in, exactly one result out: crashes, redeliveries, races, shutdowns, cancellation.</summary>
[Collection(WorkerCollection.Name)]
public sealed class DeliveryTests(StackFixture fixture)
{
    /// <summary>Solvay at ×4 takes seconds on the CPU (29 faces, a 19 MP PNG), long enough to be caught mid-job.</summary>
    private static readonly JobOptions SlowJob = new() { Upscale = 4 };

    [AssetFact(StackFixture.YuNet, StackFixture.Solvay)]
    public async Task Worker_killed_mid_job_lock_expires_and_another_worker_finishes_it_exactly_once()
    {
        var lane = await fixture.LaneAsync(lockDuration: TimeSpan.FromSeconds(5), maxDeliveryCount: 5);
        var job = await lane.SubmitAsync(StackFixture.Photo(StackFixture.Solvay), SlowJob);
        await using (var doomed = WorkerProcess.Start(lane.WorkerSettings(fixture.ModelsDirectory())))
        {
            await WaitForStateAsync(lane, job.JobId, JobState.Running, TimeSpan.FromSeconds(90));
            doomed.Kill();
            await doomed.WaitForExitAsync(TimeSpan.FromSeconds(10));
            Assert.Empty(await lane.ResultBlobsAsync(job.JobId));
            Assert.Equal(0, doomed.ResultsWritten);
        }
        Assert.Equal(JobState.Running, (await lane.GetJobAsync(job.JobId))!.State);

        await using var survivor = WorkerProcess.Start(lane.WorkerSettings(fixture.ModelsDirectory()));
        var done = await lane.WaitForTerminalAsync(job.JobId, TimeSpan.FromSeconds(120));

        Assert.Equal(JobState.Succeeded, done.State);
        // At least the killed attempt and the survivor's (a starved lock renewal on a loaded machine may add one more).
        Assert.True(done.Attempts >= 2, $"attempts {done.Attempts}");
        Assert.Equal(2, (await lane.ResultBlobsAsync(job.JobId)).Count);
        Assert.Equal(1, await lane.UsageRowsAsync(job.JobId));
        Assert.True(await survivor.WaitForLineAsync(WorkerProcess.ResultWrittenMarker, TimeSpan.FromSeconds(5)));
        Assert.Equal(1, survivor.ResultsWritten);
        await WaitUntilAsync(() => lane.Queue.CompletedMessageCount == 1, TimeSpan.FromSeconds(10));
        Assert.Equal(0, lane.Queue.DeadLetterMessageCount);
    }

    [AssetFact(StackFixture.YuNet, StackFixture.Hopper)]
    public async Task Same_message_delivered_twice_writes_one_result_and_one_usage_record()
    {
        var lane = await fixture.LaneAsync();
        var job = await lane.SubmitAsync(StackFixture.Photo(StackFixture.Hopper), new JobOptions { Upscale = 1 });
        await lane.SendAsync(job);
        await using var worker = await InProcessWorker.StartAsync(lane.WorkerSettings(fixture.ModelsDirectory()));

        var done = await lane.WaitForTerminalAsync(job.JobId, TimeSpan.FromSeconds(60));
        await WaitUntilAsync(() => lane.Queue.CompletedMessageCount == 2, TimeSpan.FromSeconds(30));

        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(2, (await lane.ResultBlobsAsync(job.JobId)).Count);
        Assert.Equal(1, await lane.UsageRowsAsync(job.JobId));
        Assert.Equal(2, lane.Queue.CompletedMessageCount);
        Assert.Equal(0, lane.Queue.DeadLetterMessageCount);
    }

    [AssetFact(StackFixture.YuNet, StackFixture.Hopper)]
    public async Task Two_workers_racing_on_one_job_write_one_result_and_one_usage_record()
    {
        var lane = await fixture.LaneAsync();
        var job = await lane.SubmitAsync(StackFixture.Photo(StackFixture.Hopper), new JobOptions { Upscale = 1 });
        await lane.SendAsync(job);
        await lane.SendAsync(job);
        await using var first = await InProcessWorker.StartAsync(lane.WorkerSettings(fixture.ModelsDirectory(), new Dictionary<string, string?> { ["Worker:maxConcurrentJobs"] = "1" }));
        await using var second = await InProcessWorker.StartAsync(lane.WorkerSettings(fixture.ModelsDirectory(), new Dictionary<string, string?> { ["Worker:maxConcurrentJobs"] = "1" }));

        var done = await lane.WaitForTerminalAsync(job.JobId, TimeSpan.FromSeconds(60));
        await WaitUntilAsync(() => lane.Queue.CompletedMessageCount == 3, TimeSpan.FromSeconds(30));

        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Equal(2, (await lane.ResultBlobsAsync(job.JobId)).Count);
        Assert.Equal(1, await lane.UsageRowsAsync(job.JobId));
        Assert.Equal(3, lane.Queue.CompletedMessageCount);
        Assert.Equal(0, lane.Queue.DeadLetterMessageCount);
    }

    [AssetFact(StackFixture.YuNet, StackFixture.Solvay)]
    public async Task Sigterm_during_a_job_abandons_it_and_the_next_worker_completes_it_none_lost()
    {
        // A 30 s lock: if the stopping worker did not abandon the message, the next worker would wait that long for it.
        // (Several jobs in flight, with the next worker already running: the test below.)
        var lane = await fixture.LaneAsync(lockDuration: TimeSpan.FromSeconds(30), maxDeliveryCount: 5);
        var job = await lane.SubmitAsync(StackFixture.Photo(StackFixture.Solvay), SlowJob);
        var stopping = WorkerProcess.Start(lane.WorkerSettings(fixture.ModelsDirectory(), new Dictionary<string, string?> { ["Worker:shutdownGracePeriod"] = "00:00:00.200", ["Worker:maxConcurrentJobs"] = "1" }));
        await using (stopping)
        {
            await WaitForStateAsync(lane, job.JobId, JobState.Running, TimeSpan.FromSeconds(90));
            stopping.Terminate();
            await stopping.WaitForExitAsync(TimeSpan.FromSeconds(30));
            Assert.True(0 == stopping.ExitCode, $"exit code {stopping.ExitCode}\n" + string.Join('\n', stopping.Lines));
            // Abandoned, not left locked: the next worker gets it at once instead of after the 30 s lock.
            Assert.True(0 == lane.Queue.LockedMessageCount, "still locked after exit\n" + string.Join('\n', stopping.Lines));
            Assert.Equal(1, lane.Queue.ActiveMessageCount);
        }

        await using var next = await InProcessWorker.StartAsync(lane.WorkerSettings(fixture.ModelsDirectory()));
        var done = await lane.WaitForTerminalAsync(job.JobId, TimeSpan.FromSeconds(120));

        Assert.Equal(JobState.Succeeded, done.State);
        Assert.True(done.Attempts >= 2, $"attempts {done.Attempts}");
        Assert.Equal(2, (await lane.ResultBlobsAsync(job.JobId)).Count);
        Assert.Equal(1, await lane.UsageRowsAsync(job.JobId));
        Assert.Equal(0, lane.Queue.DeadLetterMessageCount);
    }

    [AssetFact(StackFixture.YuNet, StackFixture.Solvay)]
    public async Task Sigterm_with_three_jobs_in_flight_abandons_all_none_taken_back_and_the_other_worker_completes_each_once()
    {
        // A 30 s lock: a message the stopping worker took back (or left unsettled) stays locked after it exits and
        // reaches the other worker only after that, with one more delivery counted. The stopping worker has a free
        // fourth slot, so a receive of its own is waiting while its three jobs are abandoned: the case that used to take
        // one back. No grace: the jobs are abandoned the moment the stop begins, the tightest race.
        var lane = await fixture.LaneAsync(lockDuration: TimeSpan.FromSeconds(30), maxDeliveryCount: 5);
        var jobs = new List<JobRecord>();
        for (var i = 0; i < 3; i++)
        {
            jobs.Add(await lane.SubmitAsync(StackFixture.Photo(StackFixture.Solvay), SlowJob));
        }
        var stopping = WorkerProcess.Start(lane.WorkerSettings(fixture.ModelsDirectory(), new Dictionary<string, string?>
        {
            ["Worker:shutdownGracePeriod"] = "00:00:00",
            ["Worker:maxConcurrentJobs"] = "4",
        }));
        var finishedByStopping = 0;
        await using (stopping)
        {
            foreach (var job in jobs)
            {
                await WaitForStateAsync(lane, job.JobId, JobState.Running, TimeSpan.FromSeconds(120));
            }
            stopping.Terminate();
            await stopping.WaitForExitAsync(TimeSpan.FromSeconds(30));
            var log = string.Join('\n', stopping.Lines);
            Assert.True(0 == stopping.ExitCode, $"exit code {stopping.ExitCode}\n" + log);
            foreach (var job in jobs)
            {
                finishedByStopping += (await lane.GetJobAsync(job.JobId))!.State == JobState.Succeeded ? 1 : 0;
            }
            // Every message it held is back on the queue now, none locked by the worker that is gone.
            Assert.True(0 == lane.Queue.LockedMessageCount, $"{lane.Queue.LockedMessageCount} still locked after exit\n" + log);
            Assert.Equal(3 - finishedByStopping, lane.Queue.ActiveMessageCount);
        }

        await using var other = await InProcessWorker.StartAsync(lane.WorkerSettings(fixture.ModelsDirectory(), new Dictionary<string, string?> { ["Worker:maxConcurrentJobs"] = "3" }));
        foreach (var job in jobs)
        {
            var done = await lane.WaitForTerminalAsync(job.JobId, TimeSpan.FromSeconds(240));
            Assert.Equal(JobState.Succeeded, done.State);
            // One delivery on the stopping worker, one on the other (or only the first, had it finished): never a third.
            Assert.InRange(done.Attempts, 1, 2);
            Assert.Equal(2, (await lane.ResultBlobsAsync(job.JobId)).Count);
            Assert.Equal(1, await lane.UsageRowsAsync(job.JobId));
        }
        Assert.Equal(3, lane.Queue.CompletedMessageCount);
        Assert.Equal(0, lane.Queue.DeadLetterMessageCount);
    }

    [AssetFact(StackFixture.YuNet, StackFixture.Hopper)]
    public async Task Sigterm_while_idle_exits_cleanly_within_the_grace_period()
    {
        var lane = await fixture.LaneAsync();
        await using var worker = WorkerProcess.Start(lane.WorkerSettings(fixture.ModelsDirectory()));
        Assert.True(await worker.WaitForLineAsync("Receiving jobs from", TimeSpan.FromSeconds(60)), string.Join('\n', worker.Lines));
        worker.Terminate();
        await worker.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, worker.ExitCode);
    }

    [AssetFact(StackFixture.YuNet, StackFixture.Hopper)]
    public async Task Job_cancelled_while_queued_gets_no_result_and_its_message_is_completed()
    {
        var lane = await fixture.LaneAsync();
        var job = await lane.SubmitAsync(StackFixture.Photo(StackFixture.Hopper), new JobOptions { Upscale = 1 });
        await lane.Jobs.CancelAsync(job);
        await using var worker = await InProcessWorker.StartAsync(lane.WorkerSettings(fixture.ModelsDirectory()));

        await WaitUntilAsync(() => lane.Queue.CompletedMessageCount == 1, TimeSpan.FromSeconds(30));

        Assert.Equal(1, lane.Queue.CompletedMessageCount);
        Assert.Equal(0, lane.Queue.DeadLetterMessageCount);
        Assert.Equal(JobState.Cancelled, (await lane.GetJobAsync(job.JobId))!.State);
        Assert.Empty(await lane.ResultBlobsAsync(job.JobId));
        Assert.Equal(0, await lane.UsageRowsAsync(job.JobId));
    }

    internal static async Task WaitForStateAsync(Lane lane, string jobId, JobState state, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while ((await lane.GetJobAsync(jobId))?.State != state)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Job {jobId} did not reach {state} within {timeout}.");
            await Task.Delay(20);
        }
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
    }
}
