using Azure.Messaging.ServiceBus;
using Azure.Storage.Blobs.Models;
using CodeFormer.Functions.Intake;
using CodeFormer.Imaging;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;

namespace CodeFormer.Functions.Tests;

/// <summary>EnqueueUploadedPhoto's handler on real Azurite, the Service Bus test broker and a local topic.</summary>
[Collection(ServiceStackCollection.Name)]
public sealed class UploadIntakeTests(ServiceStack stack, Xunit.Abstractions.ITestOutputHelper output)
{
    private async Task<string> UploadAsync(string tenant, string name, byte[] bytes, IDictionary<string, string>? metadata = null)
    {
        var blobName = $"{tenant}/{name}";
        await stack.Uploads.GetBlobClient(blobName).UploadAsync(BinaryData.FromBytes(bytes), new BlobUploadOptions { Metadata = metadata });
        return blobName;
    }

    [AssetFact(TestImages.Photo)]
    public async Task An_uploaded_photo_becomes_one_queued_job_one_message_and_an_accepted_event()
    {
        var tenant = await stack.NewTenantAsync();
        var blobName = await UploadAsync(tenant.Tenant.TenantId, "holiday/grace.jpg", TestImages.Read(TestImages.Photo),
            new Dictionary<string, string> { ["fidelity"] = "0.7", ["upscale"] = "3" });

        var result = await stack.Intake().HandleAsync(blobName);

        Assert.Equal(IntakeOutcome.Queued, result.Outcome);
        var job = await stack.Jobs.GetAsync(tenant.Tenant.TenantId, result.JobId!);
        Assert.NotNull(job);
        Assert.Equal(JobState.Queued, job.State);
        Assert.True(job.IntakeCompleted);
        Assert.Equal((517, 606, "Jpeg"), (job.InputWidth!.Value, job.InputHeight!.Value, job.InputFormat!));
        Assert.Equal(0.7, job.Options.Fidelity);
        Assert.Equal(3, job.Options.Upscale);

        var message = Assert.Single(await stack.PeekMessagesForAsync(job.JobId));
        var body = RestoreJobMessage.Parse(message.Body, message.MessageId);
        Assert.Equal((tenant.Tenant.TenantId, "uploads", blobName), (body.TenantId, body.InputContainer, body.InputBlobName));
        Assert.Equal(0.7, body.Options.Fidelity);

        var accepted = Assert.Single(stack.EventsFor(job.JobId));
        Assert.Equal(JobEvents.TypeOf(JobEventKind.Accepted), accepted.Type);
        Assert.Equal($"/tenants/{tenant.Tenant.TenantId}/jobs/{job.JobId}", accepted.Subject);

        var tags = (await stack.Uploads.GetBlobClient(blobName).GetTagsAsync()).Value.Tags;
        Assert.Equal("queued", tags[UploadIntakeHandler.StatusTag]);
        Assert.Equal(job.JobId, tags[UploadIntakeHandler.JobTag]);
    }

    [AssetFact(TestImages.Photo)]
    public async Task The_same_blob_created_event_delivered_twice_makes_one_job_and_one_message()
    {
        var tenant = await stack.NewTenantAsync();
        var blobName = await UploadAsync(tenant.Tenant.TenantId, "twice.jpg", TestImages.Read(TestImages.Photo));

        var first = await stack.Intake().HandleAsync(blobName);
        var second = await stack.Intake().HandleAsync(blobName);

        Assert.Equal(first.JobId, second.JobId);
        Assert.Equal(IntakeOutcome.Queued, second.Outcome);
        Assert.Single(await stack.PeekMessagesForAsync(first.JobId!));
        Assert.Single(stack.EventsFor(first.JobId!));
        Assert.Single(JobRows(tenant.Tenant.TenantId));
    }

    [AssetFact(TestImages.Photo)]
    public async Task A_retry_after_a_service_bus_outage_between_job_recorded_and_message_sent_makes_one_job_and_one_message()
    {
        var tenant = await stack.NewTenantAsync();
        var blobName = await UploadAsync(tenant.Tenant.TenantId, "outage.jpg", TestImages.Read(TestImages.Photo));

        // The first try records the job, then cannot send: its Service Bus client is gone (an outage, as the function sees it).
        var brokenClient = new ServiceBusClient(stack.Broker.ConnectionString);
        var brokenSender = brokenClient.CreateSender(stack.Settings.QueueName);
        await brokenClient.DisposeAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => stack.Intake(brokenSender).HandleAsync(blobName));
        var recorded = Assert.Single(JobRows(tenant.Tenant.TenantId));
        Assert.False(recorded.GetBoolean("IntakeCompleted"));

        // The platform retries the function: same job, one message, one accepted event.
        var retry = await stack.Intake().HandleAsync(blobName);
        Assert.Equal(IntakeOutcome.Queued, retry.Outcome);
        Assert.Single(JobRows(tenant.Tenant.TenantId));
        Assert.Single(await stack.PeekMessagesForAsync(retry.JobId!));
        Assert.Single(stack.EventsFor(retry.JobId!));
    }

    [AssetFact(TestImages.Photo)]
    public async Task A_retry_after_the_message_was_sent_but_the_event_failed_sends_no_second_message()
    {
        var tenant = await stack.NewTenantAsync();
        var blobName = await UploadAsync(tenant.Tenant.TenantId, "event-outage.jpg", TestImages.Read(TestImages.Photo));
        var droppedBefore = stack.Queue.DroppedDuplicateCount;

        stack.Topic.Failing = true;
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => stack.Intake().HandleAsync(blobName));
        }
        finally
        {
            stack.Topic.Failing = false;
        }
        var retry = await stack.Intake().HandleAsync(blobName);

        Assert.Single(JobRows(tenant.Tenant.TenantId));
        Assert.Single(await stack.PeekMessagesForAsync(retry.JobId!));
        // The retry did send again; the queue's duplicate detection (MessageId = job id) dropped it.
        Assert.Equal(droppedBefore + 1, stack.Queue.DroppedDuplicateCount);
        Assert.Single(stack.EventsFor(retry.JobId!));
    }

    public static TheoryData<string, string> BadUploads => new()
    {
        { "not-an-image", nameof(ImageRejectionRule.NotDecodable) },
        { "truncated-png", nameof(ImageRejectionRule.Truncated) }, // InspectAsync names a cut-off file as such
        { "png-100000x100000", nameof(ImageRejectionRule.MaxWidth) },
        { "animated-gif", nameof(ImageRejectionRule.UnsupportedFormat) },
        { "apng", nameof(ImageRejectionRule.Animated) },
        { "animated-webp", nameof(ImageRejectionRule.Animated) },
        { "tiff", nameof(ImageRejectionRule.UnsupportedFormat) },
    };

    [AssetTheory(TestImages.PngPhoto)]
    [MemberData(nameof(BadUploads))]
    public async Task A_bad_upload_is_rejected_with_its_rule_tagged_announced_and_never_enqueued(string kind, string rule)
    {
        var bytes = kind switch
        {
            "not-an-image" => TestImages.NotAnImage(),
            "truncated-png" => TestImages.Read(TestImages.PngPhoto)[..(TestImages.Read(TestImages.PngPhoto).Length / 2)],
            "png-100000x100000" => TestImages.PngClaiming(100_000, 100_000),
            "animated-gif" => TestImages.AnimatedGif(),
            "apng" => TestImages.Apng(TestImages.Read(TestImages.PngPhoto)),
            "animated-webp" => TestImages.AnimatedWebp(),
            "tiff" => TestImages.Tiff(),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var tenant = await stack.NewTenantAsync();
        var blobName = await UploadAsync(tenant.Tenant.TenantId, kind, bytes);

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var result = await stack.Intake().HandleAsync(blobName); // does not throw: no retry storm
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        output.WriteLine($"{kind}: {bytes.Length:N0} bytes uploaded, intake allocated {allocated:N0} bytes");
        AssertRejected(tenant.Tenant.TenantId, blobName, result, rule);
        await AssertRejectedEverywhereAsync(tenant.Tenant.TenantId, blobName, result, rule);
        // Header checks only: a 100,000 × 100,000 claim allocates nothing like its 30 GB of pixels.
        Assert.True(allocated < 16 * 1024 * 1024, $"The intake allocated {allocated:N0} bytes.");
    }

    [Fact]
    public async Task An_upload_over_the_byte_limit_is_rejected_without_being_read()
    {
        var tenant = await stack.NewTenantAsync();
        var limits = new ImageLimits { MaxBytes = 4 * 1024 * 1024 };
        var blobName = await UploadAsync(tenant.Tenant.TenantId, "huge.jpg", new byte[12 * 1024 * 1024]);

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var result = await stack.Intake(limits: limits).HandleAsync(blobName);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        output.WriteLine($"12 MB upload over a 4 MB limit: intake allocated {allocated:N0} bytes");
        await AssertRejectedEverywhereAsync(tenant.Tenant.TenantId, blobName, result, nameof(ImageRejectionRule.MaxBytes));
        Assert.Contains("12,582,912", result.Reason);
        // Refused from the blob's properties: far less than the 12 MB upload (or the 4 MB limit) passed through memory.
        Assert.True(allocated < 2 * 1024 * 1024, $"The intake allocated {allocated:N0} bytes for a 12 MB upload.");
    }

    [Fact]
    public async Task Bad_options_in_blob_metadata_reject_the_upload_naming_the_option()
    {
        var tenant = await stack.NewTenantAsync();
        var blobName = await UploadAsync(tenant.Tenant.TenantId, "opts.png", TestImages.PngClaiming(64, 64),
            new Dictionary<string, string> { ["upscale"] = "9" });
        var result = await stack.Intake().HandleAsync(blobName);
        await AssertRejectedEverywhereAsync(tenant.Tenant.TenantId, blobName, result, "InvalidOptions");
        Assert.Contains("upscale", result.Reason);
    }

    [Theory]
    [InlineData("sharpen", "'sharpen' is not restore, colorize or inpaint")]
    [InlineData("inpaint", "task inpaint takes an aligned 512×512 face")] // known task, but the engine's rule fails
    public async Task An_invalid_task_in_blob_metadata_rejects_the_upload_naming_the_task(string task, string reason)
    {
        var tenant = await stack.NewTenantAsync();
        var blobName = await UploadAsync(tenant.Tenant.TenantId, $"task-{task}.png", TestImages.PngClaiming(64, 64),
            new Dictionary<string, string> { ["task"] = task });
        var result = await stack.Intake().HandleAsync(blobName);
        await AssertRejectedEverywhereAsync(tenant.Tenant.TenantId, blobName, result, "InvalidOptions");
        Assert.Contains(reason, result.Reason);
    }

    [AssetFact(TestImages.Photo)]
    public async Task A_direct_upload_whose_webhook_points_at_a_private_address_is_rejected()
    {
        var tenant = await stack.NewTenantAsync();
        var blobName = await UploadAsync(tenant.Tenant.TenantId, "hook.jpg", TestImages.Read(TestImages.Photo),
            new Dictionary<string, string> { ["webhook_url"] = "https://169.254.169.254/latest/meta-data" });
        var result = await stack.Intake().HandleAsync(blobName);
        await AssertRejectedEverywhereAsync(tenant.Tenant.TenantId, blobName, result, "WebhookUrl");
        Assert.Contains("169.254.169.254", result.Reason);
    }

    [Fact]
    public async Task An_upload_for_an_unknown_tenant_is_rejected()
    {
        var blobName = await UploadAsync("nobody-here", "x.png", TestImages.PngClaiming(64, 64));
        var result = await stack.Intake().HandleAsync(blobName);
        await AssertRejectedEverywhereAsync("nobody-here", blobName, result, "UnknownTenant");
    }

    [Fact]
    public async Task A_rejected_upload_delivered_twice_is_one_rejected_job_and_one_event()
    {
        var tenant = await stack.NewTenantAsync();
        var blobName = await UploadAsync(tenant.Tenant.TenantId, "bad-twice.txt", TestImages.NotAnImage());
        var first = await stack.Intake().HandleAsync(blobName);
        var second = await stack.Intake().HandleAsync(blobName);
        Assert.Equal(first.JobId, second.JobId);
        Assert.Equal(IntakeOutcome.Rejected, second.Outcome);
        Assert.Single(JobRows(tenant.Tenant.TenantId));
        Assert.Single(stack.EventsFor(first.JobId!));
    }

    private List<Azure.Data.Tables.TableEntity> JobRows(string tenantId) =>
        stack.Table.Query<Azure.Data.Tables.TableEntity>(e => e.PartitionKey == tenantId && e.RowKey.CompareTo("job|") >= 0 && e.RowKey.CompareTo("job}") < 0).ToList();

    private static void AssertRejected(string tenantId, string blobName, IntakeResult result, string rule)
    {
        Assert.Equal(IntakeOutcome.Rejected, result.Outcome);
        Assert.Equal(rule, result.Rule);
        Assert.False(string.IsNullOrWhiteSpace(result.Reason));
        Assert.NotNull(result.JobId);
        _ = (tenantId, blobName);
    }

    private async Task AssertRejectedEverywhereAsync(string tenantId, string blobName, IntakeResult result, string rule)
    {
        AssertRejected(tenantId, blobName, result, rule);
        var job = await stack.Jobs.GetAsync(tenantId, result.JobId!);
        Assert.Equal(JobState.Rejected, job!.State);
        Assert.Equal(rule, job.RejectionRule);
        var tags = (await stack.Uploads.GetBlobClient(blobName).GetTagsAsync()).Value.Tags;
        Assert.Equal("rejected", tags[UploadIntakeHandler.StatusTag]);
        Assert.Equal(rule, tags[UploadIntakeHandler.RuleTag]);
        Assert.Empty(await stack.PeekMessagesForAsync(result.JobId!));
        var rejected = Assert.Single(stack.EventsFor(result.JobId!));
        Assert.Equal(JobEvents.TypeOf(JobEventKind.Rejected), rejected.Type);
        Assert.Equal(rule, JobEvents.ReadData(rejected).Rule);
    }
}
