using CodeFormer.GpuRunner.Testing;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;
using CodeFormer.Testing;

namespace CodeFormer.GpuRunner.Tests;

/// <summary>Failures are classified: permanent ones dead-letter at once, transient ones are retried up to the limit; no job stays Running.</summary>
[Collection(WorkerCollection.Name)]
public sealed class FailureTests(StackFixture fixture)
{
    [AssetFact(StackFixture.YuNet, StackFixture.Hopper)]
    public async Task Always_transient_failure_dead_letters_after_max_delivery_count_and_fails_the_job_with_the_last_error()
    {
        var lane = await fixture.LaneAsync(maxDeliveryCount: 3);
        await using var worker = await InProcessWorker.StartAsync(lane.WorkerSettings(fixture.ModelsDirectory()));
        fixture.Stack.Events.Failing = true; // an Event Grid outage: every publish answers 503
        try
        {
            var job = await lane.SubmitAsync(StackFixture.Photo(StackFixture.Hopper), new JobOptions { Upscale = 1 });
            var done = await lane.WaitForTerminalAsync(job.JobId, TimeSpan.FromSeconds(90));
            await DeliveryTests.WaitUntilAsync(() => lane.Queue.DeadLetterMessageCount == 1, TimeSpan.FromSeconds(10));

            Assert.Equal(JobState.Failed, done.State);
            Assert.Equal(3, done.Attempts);
            Assert.StartsWith("RetriesExhausted: Gave up after 3 deliveries; last error (Events)", done.Reason, StringComparison.Ordinal);
            var dead = Assert.Single(lane.Queue.GetDeadLetteredMessages());
            Assert.Equal(job.JobId, dead.MessageId);
            Assert.Equal("RetriesExhausted", dead.DeadLetterReason);
            Assert.Contains("Publishing the Succeeded event", dead.DeadLetterErrorDescription, StringComparison.Ordinal);
            Assert.Equal(0, await lane.UsageRowsAsync(job.JobId));
        }
        finally
        {
            fixture.Stack.Events.Failing = false;
        }
    }

    [AssetFact(StackFixture.YuNet, StackFixture.Hopper)]
    public async Task Job_whose_task_this_worker_does_not_serve_fails_at_once_and_is_never_retried()
    {
        var lane = await fixture.LaneAsync(maxDeliveryCount: 3);
        await using var worker = await InProcessWorker.StartAsync(lane.WorkerSettings(fixture.ModelsDirectory()));

        // A valid colorize job (the contract accepts it): this worker hosts only the whole-photo restoration engine.
        var job = await lane.SubmitAsync(StackFixture.Photo(StackFixture.Hopper), new JobOptions { Task = JobTask.Colorize, Upscale = 1 });
        var done = await lane.WaitForTerminalAsync(job.JobId, TimeSpan.FromSeconds(60));
        await DeliveryTests.WaitUntilAsync(() => lane.Queue.DeadLetterMessageCount == 1, TimeSpan.FromSeconds(10));

        Assert.Equal(JobState.Failed, done.State);
        Assert.Equal(1, done.Attempts);
        Assert.Equal("TaskNotServed: task 'colorize' is not served by this worker yet", done.Reason);
        var dead = Assert.Single(lane.Queue.GetDeadLetteredMessages());
        Assert.Equal("TaskNotServed", dead.DeadLetterReason);
        Assert.Equal(1, dead.DeliveryCount);
        Assert.Empty(await lane.ResultBlobsAsync(job.JobId));
        Assert.Equal(0, await lane.UsageRowsAsync(job.JobId));
    }

    [AssetFact(StackFixture.YuNet)]
    public async Task Photo_the_decoder_refuses_dead_letters_at_once_and_fails_the_job_with_the_reason()
    {
        var lane = await fixture.LaneAsync(maxDeliveryCount: 3);
        await using var worker = await InProcessWorker.StartAsync(lane.WorkerSettings(fixture.ModelsDirectory()));
        byte[] notAPhoto = [0xFF, 0xD8, 0xFF, 0xE0, .. "this is not a JPEG after its first four bytes"u8.ToArray()];

        var job = await lane.SubmitAsync(notAPhoto, new JobOptions { Upscale = 1 });
        var done = await lane.WaitForTerminalAsync(job.JobId, TimeSpan.FromSeconds(60));
        await DeliveryTests.WaitUntilAsync(() => lane.Queue.DeadLetterMessageCount == 1, TimeSpan.FromSeconds(10));

        Assert.Equal(JobState.Failed, done.State);
        Assert.Equal(1, done.Attempts);
        Assert.StartsWith("PhotoRefused: ", done.Reason, StringComparison.Ordinal);
        var dead = Assert.Single(lane.Queue.GetDeadLetteredMessages());
        Assert.Equal("PhotoRefused", dead.DeadLetterReason);
        Assert.Equal(1, dead.DeliveryCount);
        Assert.Empty(await lane.ResultBlobsAsync(job.JobId));
        var failed = Assert.Single(fixture.Stack.Events.Events, e => e.Id == $"{job.JobId}.failed");
        Assert.Equal(JobState.Failed, JobEvents.ReadData(failed).State);
        Assert.StartsWith("PhotoRefused: ", JobEvents.ReadData(failed).Reason, StringComparison.Ordinal);
    }

    [AssetFact(StackFixture.YuNet, StackFixture.Hopper)]
    public async Task Upload_gone_before_the_worker_starts_is_a_permanent_failure()
    {
        var lane = await fixture.LaneAsync();
        var job = await lane.SubmitAsync(StackFixture.Photo(StackFixture.Hopper), new JobOptions { Upscale = 1 });
        await lane.Uploads.GetBlobClient(job.InputBlobName).DeleteAsync();
        await using var worker = await InProcessWorker.StartAsync(lane.WorkerSettings(fixture.ModelsDirectory()));

        var done = await lane.WaitForTerminalAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobState.Failed, done.State);
        Assert.StartsWith("UploadMissing: ", done.Reason, StringComparison.Ordinal);
        await DeliveryTests.WaitUntilAsync(() => lane.Queue.DeadLetterMessageCount == 1, TimeSpan.FromSeconds(10));
        Assert.Equal("UploadMissing", Assert.Single(lane.Queue.GetDeadLetteredMessages()).DeadLetterReason);
    }

    [AssetFact(StackFixture.YuNet, StackFixture.Solvay)]
    public async Task Job_running_past_the_time_limit_is_cancelled_and_failed()
    {
        var lane = await fixture.LaneAsync();
        await using var worker = await InProcessWorker.StartAsync(lane.WorkerSettings(fixture.ModelsDirectory(),
            new Dictionary<string, string?> { ["Worker:jobTimeout"] = "00:00:00.300" }));

        var job = await lane.SubmitAsync(StackFixture.Photo(StackFixture.Solvay), new JobOptions { Upscale = 4 });
        var done = await lane.WaitForTerminalAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobState.Failed, done.State);
        Assert.StartsWith("TimedOut: ", done.Reason, StringComparison.Ordinal);
        Assert.Empty(await lane.ResultBlobsAsync(job.JobId));
        await DeliveryTests.WaitUntilAsync(() => lane.Queue.DeadLetterMessageCount == 1, TimeSpan.FromSeconds(10));
        Assert.Equal("TimedOut", Assert.Single(lane.Queue.GetDeadLetteredMessages()).DeadLetterReason);
    }

    [AssetFact(StackFixture.YuNet)]
    public async Task Message_that_is_not_a_job_is_dead_lettered_naming_the_problem()
    {
        var lane = await fixture.LaneAsync();
        await using var worker = await InProcessWorker.StartAsync(lane.WorkerSettings(fixture.ModelsDirectory()));
        await using (var sender = fixture.Stack.ServiceBus.CreateSender(lane.Queue.Name))
        {
            await sender.SendMessageAsync(new Azure.Messaging.ServiceBus.ServiceBusMessage("{\"schemaVersion\":1}") { MessageId = "m1" });
        }

        await DeliveryTests.WaitUntilAsync(() => lane.Queue.DeadLetterMessageCount == 1, TimeSpan.FromSeconds(30));

        var dead = Assert.Single(lane.Queue.GetDeadLetteredMessages());
        Assert.Equal("InvalidMessage", dead.DeadLetterReason);
        Assert.Contains("jobId", dead.DeadLetterErrorDescription, StringComparison.Ordinal);
    }
}
