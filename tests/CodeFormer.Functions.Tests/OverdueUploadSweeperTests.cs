using System.Diagnostics;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using CodeFormer.Functions.Api;
using CodeFormer.Functions.Intake;
using CodeFormer.Functions.Sweep;
using CodeFormer.Functions.Webhooks;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Settings;
using CodeFormer.Shared.Storage;
using CodeFormer.Shared.Tenants;
using CodeFormer.Shared.Webhooks;
using Microsoft.Extensions.Options;

namespace CodeFormer.Functions.Tests;

/// <summary>
/// The overdue-upload sweep on real Azurite, the broker and the local topic. Each test has its own jobs table, so the
/// sweep (which reads every due entry of the table's index) sees only that test's jobs, and a manual clock, so
/// "15 minutes later" takes no time. Uploads still go through real SAS URLs (signed with the real clock).
/// </summary>
[Collection(ServiceStackCollection.Name)]
public sealed class OverdueUploadSweeperTests(ServiceStack stack, Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Grace = TimeSpan.FromMinutes(5);

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;
        public override DateTimeOffset GetUtcNow() => Now;
    }

    /// <summary>The Functions app's pieces over one fresh table and one clock.</summary>
    private sealed class Rig
    {
        public required ManualClock Clock { get; init; }
        public required JobStore Jobs { get; init; }
        public required JobsApi Api { get; init; }
        public required UploadIntakeHandler Intake { get; init; }
        public required OverdueUploadSweeper Sweeper { get; init; }
        public required CreatedTenant Tenant { get; init; }

        public ApiRequest Request(string? idempotencyKey = null) => new() { Authorization = "Bearer " + Tenant.ApiKey, IdempotencyKey = idempotencyKey };

        public async Task<CreatedJob> CreateJobAsync(string? idempotencyKey = null)
        {
            var response = await Api.CreateAsync(Request(idempotencyKey));
            Assert.Equal(201, response.Status);
            return JsonSerializer.Deserialize(response.Body, ApiJsonContext.Default.CreatedJob)!;
        }

        public string BlobNameOf(CreatedJob job) => BlobNaming.ApiUploadBlobName(Tenant.Tenant.TenantId, job.Job.JobId);

        public async Task<JobRecord> JobAsync(string jobId) => (await Jobs.GetAsync(Tenant.Tenant.TenantId, jobId))!;

        /// <summary>Past the upload URL's expiry and the grace.</summary>
        public void PassDeadlineOf(CreatedJob job) => Clock.Now = job.UploadExpiresAt + Grace + TimeSpan.FromSeconds(1);
    }

    private async Task<Rig> NewRigAsync(Azure.Storage.Queues.QueueClient? webhookNotices = null)
    {
        var notices = new TerminalWebhookQueue(webhookNotices ?? stack.WebhookNoticeQueue);
        var table = stack.Azurite.CreateTableServiceClient().GetTableClient("sweep" + Guid.NewGuid().ToString("N")[..12]);
        await table.CreateAsync();
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var jobs = new JobStore(table, clock);
        var tenants = new TenantStore(table, clock);
        var settings = Options.Create(new JobsSettings { UploadGraceSeconds = (int)Grace.TotalSeconds });
        var intake = new UploadIntakeHandler(stack.Blobs, jobs, tenants, stack.ServiceBus.CreateSender(settings.Value.QueueName), stack.Events,
            new WebhookUrlPolicy(), settings, clock);
        return new Rig
        {
            Clock = clock,
            Jobs = jobs,
            Api = new JobsApi(jobs, tenants, new BlobSasIssuer(stack.Blobs, clock), stack.Events, notices, new WebhookUrlPolicy(), settings, clock),
            Intake = intake,
            Sweeper = new OverdueUploadSweeper(jobs, stack.Blobs, intake, stack.Events, notices, settings, clock),
            Tenant = await tenants.CreateAsync("t" + Guid.NewGuid().ToString("N")[..12]),
        };
    }

    private static async Task UploadThroughSasAsync(CreatedJob job) =>
        await new BlobClient(job.UploadUrl).UploadAsync(BinaryData.FromBytes(TestImages.Read(TestImages.Photo)));

    private IReadOnlyList<string> EventTypesFor(string jobId) => stack.EventsFor(jobId).Select(e => e.Type).ToList();

    [Fact]
    public async Task An_api_job_whose_photo_never_arrived_is_expired_with_its_event_and_nothing_enqueued()
    {
        var rig = await NewRigAsync();
        var created = await rig.CreateJobAsync();
        rig.PassDeadlineOf(created);

        var summary = await rig.Sweeper.SweepAsync();

        Assert.Equal(new SweepSummary(Expired: 1, HandedToIntake: 0, Dropped: 0, Retried: 0), summary);
        var job = await rig.JobAsync(created.Job.JobId);
        Assert.Equal(JobState.Expired, job.State);
        Assert.Equal(OverdueUploadSweeper.ExpiredReason, job.Reason);
        var expired = Assert.Single(stack.EventsFor(job.JobId));
        Assert.Equal(JobEvents.TypeOf(JobEventKind.Expired), expired.Type);
        Assert.Equal(JobState.Expired, JobEvents.ReadData(expired).State);
        Assert.Empty(await stack.PeekMessagesForAsync(job.JobId));

        // The API shows why, and the job is no longer "overdue" (it is finished); its result is a clear 409.
        var view = JsonSerializer.Deserialize((await rig.Api.GetAsync(rig.Request(), job.JobId)).Body, ApiJsonContext.Default.JobView)!;
        Assert.Equal((JobState.Expired, false), (view.State, view.UploadOverdue));
        var result = await rig.Api.GetResultAsync(rig.Request(), job.JobId);
        Assert.Equal(409, result.Status);
        Assert.Contains("never arrived", System.Text.Encoding.UTF8.GetString(result.Body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jobs_inside_their_upload_window_or_its_grace_are_left_alone()
    {
        var rig = await NewRigAsync();
        var created = await rig.CreateJobAsync();

        rig.Clock.Now = created.UploadExpiresAt - TimeSpan.FromMinutes(1); // the URL still works
        Assert.Equal(0, (await rig.Sweeper.SweepAsync()).Examined);
        rig.Clock.Now = created.UploadExpiresAt + Grace - TimeSpan.FromSeconds(5); // expired, but an upload may still be landing
        Assert.Equal(0, (await rig.Sweeper.SweepAsync()).Examined);

        Assert.Equal(JobState.AwaitingUpload, (await rig.JobAsync(created.Job.JobId)).State);
        Assert.Empty(stack.EventsFor(created.Job.JobId));
    }

    [AssetFact(TestImages.Photo)]
    public async Task An_upload_that_landed_before_the_deadline_wins_even_when_its_event_is_late()
    {
        var rig = await NewRigAsync();
        var created = await rig.CreateJobAsync();
        await UploadThroughSasAsync(created); // in time; its BlobCreated event has not reached the intake yet
        rig.PassDeadlineOf(created);

        var summary = await rig.Sweeper.SweepAsync();

        Assert.Equal(1, summary.HandedToIntake);
        Assert.Equal(0, summary.Expired);
        Assert.Equal(JobState.Queued, (await rig.JobAsync(created.Job.JobId)).State);
        Assert.Single(await stack.PeekMessagesForAsync(created.Job.JobId));
        Assert.Equal([JobEvents.TypeOf(JobEventKind.Accepted)], EventTypesFor(created.Job.JobId));

        // The late event finally arrives: still one job, one message.
        Assert.Equal(IntakeOutcome.Queued, (await rig.Intake.HandleAsync(rig.BlobNameOf(created))).Outcome);
        Assert.Single(await stack.PeekMessagesForAsync(created.Job.JobId));
    }

    [AssetFact(TestImages.Photo)]
    public async Task An_intake_that_read_the_job_before_the_sweep_expired_it_cannot_enqueue_it()
    {
        var rig = await NewRigAsync();
        var created = await rig.CreateJobAsync();
        var readByIntake = await rig.JobAsync(created.Job.JobId);
        rig.PassDeadlineOf(created);
        Assert.Equal(1, (await rig.Sweeper.SweepAsync()).Expired);

        // The intake's write, with the ETag it read before the sweep, loses.
        await Assert.ThrowsAsync<JobConcurrencyException>(() => rig.Jobs.AttachUploadAsync(readByIntake, "Jpeg", 517, 606, 1000));

        // A photo that turns up afterwards (written with the account key; the SAS had expired) is ignored, not enqueued.
        await stack.Uploads.GetBlobClient(rig.BlobNameOf(created)).UploadAsync(BinaryData.FromBytes(TestImages.Read(TestImages.Photo)), overwrite: true);
        var late = await rig.Intake.HandleAsync(rig.BlobNameOf(created));
        Assert.Equal(IntakeOutcome.Ignored, late.Outcome);
        Assert.Equal(JobState.Expired, (await rig.JobAsync(created.Job.JobId)).State);
        Assert.Empty(await stack.PeekMessagesForAsync(created.Job.JobId));
        Assert.Equal([JobEvents.TypeOf(JobEventKind.Expired)], EventTypesFor(created.Job.JobId));
    }

    [AssetFact(TestImages.Photo)]
    public async Task A_sweep_that_read_the_job_before_its_upload_was_attached_cannot_expire_it()
    {
        var rig = await NewRigAsync();
        var created = await rig.CreateJobAsync();
        var readBySweep = await rig.JobAsync(created.Job.JobId);
        await UploadThroughSasAsync(created);
        Assert.Equal(IntakeOutcome.Queued, (await rig.Intake.HandleAsync(rig.BlobNameOf(created))).Outcome);
        rig.PassDeadlineOf(created);

        await Assert.ThrowsAsync<JobConcurrencyException>(() => rig.Jobs.ExpireAsync(readBySweep, "late"));
        // The sweep itself re-reads: it drops the index entry of a queued job and leaves the job alone.
        var summary = await rig.Sweeper.SweepAsync();
        Assert.Equal((0, 1), (summary.Expired, summary.Dropped));
        Assert.Equal(JobState.Queued, (await rig.JobAsync(created.Job.JobId)).State);
        Assert.Equal([JobEvents.TypeOf(JobEventKind.Accepted)], EventTypesFor(created.Job.JobId));
    }

    [AssetFact(TestImages.Photo)]
    public async Task A_sweep_racing_the_intake_ends_with_exactly_one_outcome_per_job()
    {
        // Real concurrency: the photo is in place, and the sweep and the intake run at the same moment, many times.
        var rig = await NewRigAsync();
        var jobs = new List<CreatedJob>();
        for (var i = 0; i < 6; i++)
        {
            var created = await rig.CreateJobAsync();
            await UploadThroughSasAsync(created);
            jobs.Add(created);
        }
        rig.PassDeadlineOf(jobs[^1]);

        var sweep = rig.Sweeper.SweepAsync();
        var intakes = jobs.Select(j => rig.Intake.HandleAsync(rig.BlobNameOf(j))).ToList();
        await Task.WhenAll(intakes.Cast<Task>().Append(sweep));

        Assert.Equal(0, (await sweep).Expired);
        foreach (var created in jobs)
        {
            Assert.Equal(JobState.Queued, (await rig.JobAsync(created.Job.JobId)).State);
            Assert.Single(await stack.PeekMessagesForAsync(created.Job.JobId));
            // Two intakes racing on one job may both publish Accepted; it is the same event (same id), never Expired.
            Assert.Equal([$"{created.Job.JobId}.accepted"], stack.EventsFor(created.Job.JobId).Select(e => e.Id).Distinct());
        }
    }

    [Fact]
    public async Task A_second_sweep_does_nothing_and_a_sweep_interrupted_after_expiring_finishes_the_event()
    {
        var rig = await NewRigAsync();
        var first = await rig.CreateJobAsync();
        var second = await rig.CreateJobAsync();
        rig.PassDeadlineOf(second);

        Assert.Equal(2, (await rig.Sweeper.SweepAsync()).Expired);
        Assert.Equal(0, (await rig.Sweeper.SweepAsync()).Examined);
        Assert.Single(stack.EventsFor(first.Job.JobId));
        Assert.Single(stack.EventsFor(second.Job.JobId));

        // A sweep that died between the transition and its event: the index entry is still there, so the next sweep
        // publishes the Expired event (same id) and then drops the entry.
        var third = await rig.CreateJobAsync();
        rig.PassDeadlineOf(third);
        await rig.Jobs.ExpireAsync(await rig.JobAsync(third.Job.JobId), OverdueUploadSweeper.ExpiredReason);
        Assert.Empty(stack.EventsFor(third.Job.JobId));
        Assert.Equal(1, (await rig.Sweeper.SweepAsync()).Dropped);
        var expired = Assert.Single(stack.EventsFor(third.Job.JobId));
        Assert.Equal($"{third.Job.JobId}.expired", expired.Id);
        Assert.Equal(0, (await rig.Sweeper.SweepAsync()).Examined);
    }

    [Fact]
    public async Task A_fresh_upload_url_from_an_idempotency_replay_postpones_the_expiry_and_a_replay_after_it_is_a_clear_409()
    {
        var rig = await NewRigAsync();
        var created = await rig.CreateJobAsync("photo-1");
        rig.Clock.Now = created.UploadExpiresAt + TimeSpan.FromMinutes(1); // overdue but within the grace
        var replay = await rig.CreateJobAsync("photo-1");
        Assert.Equal(created.Job.JobId, replay.Job.JobId);

        // Past the first window's deadline, not the second's: the old index entry is dropped, the job stays.
        rig.PassDeadlineOf(created);
        var summary = await rig.Sweeper.SweepAsync();
        Assert.Equal((0, 1), (summary.Expired, summary.Dropped));
        Assert.Equal(JobState.AwaitingUpload, (await rig.JobAsync(created.Job.JobId)).State);

        rig.PassDeadlineOf(replay);
        Assert.Equal(1, (await rig.Sweeper.SweepAsync()).Expired);
        var again = await rig.Api.CreateAsync(rig.Request("photo-1"));
        Assert.Equal(409, again.Status);
        var problem = JsonSerializer.Deserialize(again.Body, ApiJsonContext.Default.ProblemDetails)!;
        Assert.Contains("expired", problem.Detail, StringComparison.Ordinal);
        Assert.Contains(created.Job.JobId, problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sweep_reads_only_due_index_entries_not_the_tenants_jobs()
    {
        var rig = await NewRigAsync();
        const int fresh = 40, due = 40;
        var clockAtStart = rig.Clock.Now;
        var overdue = new List<CreatedJob>();
        for (var i = 0; i < due; i++)
        {
            overdue.Add(await rig.CreateJobAsync());
        }
        rig.PassDeadlineOf(overdue[^1]);
        for (var i = 0; i < fresh; i++)
        {
            await rig.CreateJobAsync(); // created "now": their windows are open
        }

        var stopwatch = Stopwatch.StartNew();
        var summary = await rig.Sweeper.SweepAsync();
        stopwatch.Stop();

        Assert.Equal((due, due), (summary.Examined, summary.Expired));
        output.WriteLine($"Swept {due} overdue jobs (of {due + fresh} awaiting) in {stopwatch.ElapsedMilliseconds} ms on Azurite; clock moved {(rig.Clock.Now - clockAtStart).TotalMinutes:F0} min.");
        var index = stack.Azurite.CreateTableServiceClient().GetTableClient(rig.Jobs.Table.Name);
        var left = index.QueryAsync<TableEntity>(e => e.PartitionKey == UploadDeadlineIndex.Partition);
        var remaining = 0;
        await foreach (var _ in left)
        {
            remaining++;
        }
        Assert.Equal(fresh, remaining); // one entry per job still inside its window, nothing else
    }
}
