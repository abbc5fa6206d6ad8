using System.Diagnostics;
using Azure;
using Azure.Messaging.EventGrid;
using CodeFormer.Functions.Intake;
using CodeFormer.GpuRunner.Telemetry;
using CodeFormer.Service.Testing;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Settings;
using CodeFormer.Shared.Tenants;
using Microsoft.Extensions.Options;
using CodeFormer.GpuRunner.Testing;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Webhooks;
using CodeFormer.Testing;
using SixLabors.ImageSharp;

namespace CodeFormer.GpuRunner.Tests;

[Collection(WorkerCollection.Name)]
public sealed class EndToEndTests(StackFixture fixture)
{
    [AssetFact(StackFixture.YuNet, StackFixture.Hopper)]
    public async Task Uploaded_photo_through_EnqueueUploadedPhoto_gets_result_report_usage_event_and_a_verifiable_signed_webhook()
    {
        var lane = await fixture.LaneAsync();
        await using var hook = new WebhookReceiver();
        await using var worker = await InProcessWorker.StartAsync(lane.WorkerSettings(fixture.ModelsDirectory()));
        // The upload lands in uploads/{tenant}/ with its options in blob metadata; EnqueueUploadedPhoto's handler takes it.
        var blobName = $"{lane.TenantId}/grace-hopper.jpg";
        await lane.Uploads.GetBlobClient(blobName).UploadAsync(BinaryData.FromBytes(StackFixture.Photo(StackFixture.Hopper)), new Azure.Storage.Blobs.Models.BlobUploadOptions
        {
            Metadata = new Dictionary<string, string> { [BlobMetadataOptions.Upscale] = "1", [BlobMetadataOptions.WebhookUrl] = hook.Url },
        });
        await using var sender = fixture.Stack.ServiceBus.CreateSender(lane.Queue.Name);
        var intake = new UploadIntakeHandler(
            fixture.Stack.Blobs, lane.Jobs, new TenantStore(lane.Table), sender,
            new JobEventPublisher(new EventGridPublisherClient(fixture.Stack.Events.Endpoint, new AzureKeyCredential(CloudEventReceiver.AccessKey))),
            new WebhookUrlPolicy(allowPrivateAddresses: true),
            Options.Create(new JobsSettings { QueueName = lane.Queue.Name, TableName = lane.Table.Name, UploadsContainer = lane.Uploads.Name, ResultsContainer = lane.Results.Name }));
        var intakeResult = await intake.HandleAsync(blobName);
        Assert.Equal(IntakeOutcome.Queued, intakeResult.Outcome);
        var job = (await lane.GetJobAsync(intakeResult.JobId!))!;

        var done = await lane.WaitForTerminalAsync(job.JobId, TimeSpan.FromSeconds(60));

        Assert.True(JobState.Succeeded == done.State, worker.Logs.ToString());
        Assert.Equal($"{lane.TenantId}/{job.JobId}.jpg", done.ResultBlobName);
        Assert.Equal($"{lane.TenantId}/{job.JobId}.json", done.ReportBlobName);
        Assert.Equal([done.ResultBlobName!, done.ReportBlobName!], (await lane.ResultBlobsAsync(job.JobId)).Order(StringComparer.Ordinal));

        var result = (await lane.Results.GetBlobClient(done.ResultBlobName).DownloadContentAsync()).Value;
        Assert.Equal("image/jpeg", result.Details.ContentType);
        var info = Image.Identify(result.Content.ToArray());
        Assert.Equal((517, 606), (info.Width, info.Height));

        var report = Jobs.JobReport.Parse((await lane.Results.GetBlobClient(done.ReportBlobName).DownloadContentAsync()).Value.Content);
        Assert.True(report.Faces.Count >= 1, "YuNet finds Grace Hopper's face");
        Assert.Equal(report.Faces.Count, done.Usage!.Faces);
        Assert.Equal(517 * 606 / 1e6, done.Usage.InputMegapixels, 6);
        Assert.Equal(result.Content.ToArray().LongLength, done.Usage.OutputBytes);
        Assert.Equal("cpu", done.Usage.Device);
        Assert.Equal(1, await lane.UsageRowsAsync(job.JobId));

        var succeeded = fixture.Stack.Events.Events.Where(e => e.Id == $"{job.JobId}.succeeded").ToList();
        Assert.NotEmpty(succeeded);
        Assert.Equal("CodeFormer.Job.Succeeded", succeeded[0].Type);
        Assert.Equal($"/tenants/{lane.TenantId}/jobs/{job.JobId}", succeeded[0].Subject);

        var call = await WaitForAsync(() => hook.Calls.FirstOrDefault(), TimeSpan.FromSeconds(20));
        Assert.NotNull(call);
        Assert.Equal($"{job.JobId}.succeeded", call.Headers["webhook-id"]);
        var timestamp = DateTimeOffset.FromUnixTimeSeconds(long.Parse(call.Headers["webhook-timestamp"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.InRange(timestamp, call.ReceivedAt.AddMinutes(-1), call.ReceivedAt.AddSeconds(5));
        Assert.True(WebhookSigner.Verify(lane.WebhookSecret, call.Headers["webhook-id"], timestamp, call.Body, call.Headers["webhook-signature"]),
            "the signature verifies with the tenant's secret");
        Assert.False(WebhookSigner.Verify(lane.WebhookSecret, call.Headers["webhook-id"], timestamp, call.Body + " ", call.Headers["webhook-signature"]),
            "a changed body does not verify");
        Assert.Contains(job.JobId, call.Body, StringComparison.Ordinal);
        Assert.Contains("\"type\":\"CodeFormer.Job.Succeeded\"", call.Body, StringComparison.Ordinal);

        await WaitForAsync(() => lane.Queue.CompletedMessageCount == 1 ? "" : null, TimeSpan.FromSeconds(10));
        Assert.Equal(1, lane.Queue.CompletedMessageCount);
        Assert.Equal(0, lane.Queue.DeadLetterMessageCount);
        Assert.Contains(fixture.Stack.Events.Events, e => e.Id == $"{job.JobId}.accepted");
    }

    [AssetFact(StackFixture.YuNet, StackFixture.Hopper)]
    public async Task Job_trace_is_linked_to_the_trace_context_the_enqueuer_put_on_the_message()
    {
        var lane = await fixture.LaneAsync();
        var activities = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == WorkerTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { lock (activities) { activities.Add(activity); } },
        };
        ActivitySource.AddActivityListener(listener);
        await using var worker = await InProcessWorker.StartAsync(lane.WorkerSettings(fixture.ModelsDirectory()));
        var enqueuerTrace = ActivityTraceId.CreateRandom();
        var job = await lane.SubmitAsync(StackFixture.Photo(StackFixture.Hopper), new JobOptions { Upscale = 1 }, $"00-{enqueuerTrace}-{ActivitySpanId.CreateRandom()}-01");
        var done = await lane.WaitForTerminalAsync(job.JobId, TimeSpan.FromSeconds(60));
        Assert.Equal(JobState.Succeeded, done.State);
        await Task.Delay(200);

        Activity? processed;
        lock (activities)
        {
            processed = activities.FirstOrDefault(a => (string?)a.GetTagItem("codeformer.job.id") == job.JobId);
        }
        Assert.NotNull(processed);
        Assert.Equal("succeeded", processed.GetTagItem("codeformer.job.outcome"));
        Assert.Contains(processed.Links, link => link.Context.TraceId == enqueuerTrace);
        Assert.NotEqual(enqueuerTrace, processed.TraceId);
    }

    internal static async Task<T?> WaitForAsync<T>(Func<T?> probe, TimeSpan timeout) where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (probe() is { } value)
            {
                return value;
            }
            await Task.Delay(50);
        }
        return probe();
    }
}
