using Azure;
using Azure.Messaging.ServiceBus;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CodeFormer.Imaging;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Settings;
using CodeFormer.Shared.Storage;
using CodeFormer.Shared.Tenants;
using CodeFormer.Shared.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CodeFormer.Functions.Intake;

/// <summary>What the intake did with one upload.</summary>
public enum IntakeOutcome
{
    /// <summary>Recorded as queued; the message was sent and the accepted event published (now or on an earlier delivery).</summary>
    Queued,
    /// <summary>Recorded as rejected with the rule it broke; tagged; rejected event published; nothing enqueued.</summary>
    Rejected,
    /// <summary>Nothing to do: the blob is gone, its job was cancelled or is already further along.</summary>
    Ignored,
}

/// <summary>The intake's result for one upload: what happened, to which job, and for a rejection the rule.</summary>
public sealed record IntakeResult(IntakeOutcome Outcome, string? JobId, string? Rule = null, string? Reason = null);

/// <summary>
/// The logic of EnqueueUploadedPhoto: one upload under <c>uploads/{tenant}/</c> becomes exactly one job.
/// <list type="number">
/// <item>The job id comes from the upload (an API job's own id in its blob name, or a hash of container, name and
/// ETag/version), so any number of deliveries of the same BlobCreated land on the same job row.</item>
/// <item>The upload is checked without reading it whole into memory: the size from its properties, the options from
/// its metadata (or the API job), then the header and container structure through <see cref="ImageDecoder.InspectAsync"/>
/// on a ranged-read stream.</item>
/// <item>The job row is written first, then the outside effects (queue message + accepted event, or blob tags +
/// rejected event), then the row is marked done. A crash in between leaves a row that the retry finishes; the message's
/// MessageId is the job id, so the queue's duplicate detection drops a second send.</item>
/// </list>
/// A bad upload is a normal outcome (returns <see cref="IntakeOutcome.Rejected"/>, never throws); a storage, Service Bus
/// or Event Grid outage throws so the platform retries.
/// </summary>
public sealed class UploadIntakeHandler(
    BlobServiceClient blobs,
    JobStore jobs,
    TenantStore tenants,
    ServiceBusSender sender,
    JobEventPublisher events,
    WebhookUrlPolicy webhookPolicy,
    IOptions<JobsSettings> settings,
    TimeProvider? timeProvider = null,
    ImageLimits? limits = null,
    ILogger<UploadIntakeHandler>? logger = null)
{
    public const string StatusTag = "codeformer-status";
    public const string RuleTag = "codeformer-rule";
    public const string JobTag = "codeformer-job";

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly ImageLimits _limits = limits ?? ImageLimits.Default;
    private readonly ILogger _logger = logger ?? NullLogger<UploadIntakeHandler>.Instance;
    private readonly ImageDecoder _decoder = new();

    /// <summary>Reads are ranged, this many bytes each: the header checks need the first few KB of most files.</summary>
    public const int ReadBufferBytes = 64 * 1024;

    /// <param name="blobName">The blob's name inside the uploads container: <c>{tenant}/{name}</c>.</param>
    public async Task<IntakeResult> HandleAsync(string blobName, CancellationToken cancellationToken = default)
    {
        var container = settings.Value.UploadsContainer;
        var blob = blobs.GetBlobContainerClient(container).GetBlobClient(blobName);
        if (!BlobNaming.TrySplitUpload(blobName, out var tenantId, out var nameBelowTenant) || !TenantIds.IsValid(tenantId))
        {
            // No tenant to record a job under: tag it so whoever looks at the container sees why nothing happened.
            _logger.LogWarning("Upload {Blob} is not under a valid tenant folder; ignored.", blobName);
            await TagAsync(blob, "ignored", "TenantPath", null, cancellationToken).ConfigureAwait(false);
            return new IntakeResult(IntakeOutcome.Ignored, null, "TenantPath", "Uploads must be under uploads/{tenant}/ with a valid tenant id.");
        }

        BlobProperties properties;
        try
        {
            properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            _logger.LogInformation("Upload {Blob} was deleted before it was processed.", blobName);
            return new IntakeResult(IntakeOutcome.Ignored, null);
        }

        var job = await FindOrCreateJobAsync(blob, properties, tenantId, nameBelowTenant, cancellationToken).ConfigureAwait(false);
        if (job is null)
        {
            return new IntakeResult(IntakeOutcome.Ignored, null);
        }
        return await FinishAsync(blob, job, cancellationToken).ConfigureAwait(false);
    }

    private async Task<JobRecord?> FindOrCreateJobAsync(BlobClient blob, BlobProperties properties, string tenantId, string nameBelowTenant, CancellationToken cancellationToken)
    {
        if (BlobNaming.TryGetApiJobId(nameBelowTenant, out var apiJobId)
            && await jobs.GetAsync(tenantId, apiJobId, cancellationToken).ConfigureAwait(false) is { } apiJob)
        {
            if (apiJob.State != JobState.AwaitingUpload)
            {
                return apiJob; // a repeat delivery, or a cancelled job: FinishAsync decides
            }
            var verdict = await CheckAsync(blob, properties, tenantId, apiJob.Options, cancellationToken).ConfigureAwait(false);
            try
            {
                return verdict.Header is { } header
                    ? await jobs.AttachUploadAsync(apiJob, header.Format.ToString(), header.Width, header.Height, properties.ContentLength, cancellationToken).ConfigureAwait(false)
                    : await jobs.RejectAsync(apiJob, verdict.Rule!, verdict.Reason!, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is JobConcurrencyException or IllegalJobTransitionException)
            {
                // Another delivery (or a cancel) got there first: continue from what it wrote.
                return await jobs.GetAsync(tenantId, apiJobId, cancellationToken).ConfigureAwait(false);
            }
        }

        var jobId = JobIds.ForUpload(blob.BlobContainerName, blob.Name, properties.VersionId ?? properties.ETag.ToString());
        if (await jobs.GetAsync(tenantId, jobId, cancellationToken).ConfigureAwait(false) is { } existing)
        {
            return existing;
        }
        var options = JobOptions.Default;
        Verdict result;
        try
        {
            options = BlobMetadataOptions.Parse(properties.Metadata);
            result = await CheckAsync(blob, properties, tenantId, options, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidJobOptionsException e)
        {
            result = Verdict.Reject("InvalidOptions", e.Message);
        }
        var now = _time.GetUtcNow();
        var job = new JobRecord
        {
            JobId = jobId,
            TenantId = tenantId,
            State = result.Header is null ? JobState.Rejected : JobState.Queued,
            Origin = JobOrigin.DirectUpload,
            Options = options,
            CreatedAt = now,
            UpdatedAt = now,
            InputContainer = blob.BlobContainerName,
            InputBlobName = blob.Name,
            InputFormat = result.Header?.Format.ToString(),
            InputWidth = result.Header?.Width,
            InputHeight = result.Header?.Height,
            InputBytes = properties.ContentLength,
            RejectionRule = result.Rule,
            Reason = result.Reason,
        };
        var (stored, _) = await jobs.AddOrGetAsync(job, cancellationToken).ConfigureAwait(false);
        return stored;
    }

    private async Task<IntakeResult> FinishAsync(BlobClient blob, JobRecord job, CancellationToken cancellationToken)
    {
        switch (job.State)
        {
            case JobState.Queued when !job.IntakeCompleted:
                // Service Bus duplicate detection (MessageId = job id) drops this send if a crashed earlier try made it.
                await sender.SendMessageAsync(RestoreJobMessage.For(job, _time.GetUtcNow()).ToServiceBusMessage(), cancellationToken).ConfigureAwait(false);
                await events.PublishAsync(JobEventKind.Accepted, job, cancellationToken).ConfigureAwait(false);
                await TagAsync(blob, "queued", null, job.JobId, cancellationToken).ConfigureAwait(false);
                await MarkCompletedAsync(job, cancellationToken).ConfigureAwait(false);
                _logger.LogInformation("Upload {Blob} queued as job {JobId}.", blob.Name, job.JobId);
                return new IntakeResult(IntakeOutcome.Queued, job.JobId);
            case JobState.Rejected when !job.IntakeCompleted:
                await TagAsync(blob, "rejected", job.RejectionRule, job.JobId, cancellationToken).ConfigureAwait(false);
                await events.PublishAsync(JobEventKind.Rejected, job, cancellationToken).ConfigureAwait(false);
                await MarkCompletedAsync(job, cancellationToken).ConfigureAwait(false);
                _logger.LogWarning("Upload {Blob} rejected as job {JobId}: {Rule}: {Reason}", blob.Name, job.JobId, job.RejectionRule, job.Reason);
                return new IntakeResult(IntakeOutcome.Rejected, job.JobId, job.RejectionRule, job.Reason);
            case JobState.Rejected:
                return new IntakeResult(IntakeOutcome.Rejected, job.JobId, job.RejectionRule, job.Reason);
            case JobState.Queued or JobState.Running or JobState.Succeeded or JobState.Failed:
                return new IntakeResult(IntakeOutcome.Queued, job.JobId);
            default:
                // Cancelled (or still awaiting an upload that is not this blob): nothing to send.
                _logger.LogInformation("Upload {Blob} belongs to job {JobId} in state {State}; nothing enqueued.", blob.Name, job.JobId, job.State);
                return new IntakeResult(IntakeOutcome.Ignored, job.JobId);
        }
    }

    private async Task MarkCompletedAsync(JobRecord job, CancellationToken cancellationToken)
    {
        try
        {
            await jobs.MarkIntakeCompletedAsync(job, cancellationToken).ConfigureAwait(false);
        }
        catch (JobConcurrencyException)
        {
            // A concurrent delivery marked it (or a worker already moved it on); either way the effects went out.
        }
    }

    private async Task<Verdict> CheckAsync(BlobClient blob, BlobProperties properties, string tenantId, JobOptions options, CancellationToken cancellationToken)
    {
        if (await tenants.GetAsync(tenantId, cancellationToken).ConfigureAwait(false) is not { Revoked: false })
        {
            return Verdict.Reject("UnknownTenant", $"Tenant '{tenantId}' does not exist or is revoked.");
        }
        if (properties.ContentLength > _limits.MaxBytes)
        {
            // Refused from the properties alone: not one byte of it is read.
            return Verdict.Reject(nameof(ImageRejectionRule.MaxBytes), $"The upload is {properties.ContentLength:N0} bytes; the limit is {_limits.MaxBytes:N0}.");
        }
        if (options.WebhookUrl is { } webhook && await webhookPolicy.CheckAsync(webhook, cancellationToken).ConfigureAwait(false) is { } webhookProblem)
        {
            return Verdict.Reject("WebhookUrl", webhookProblem);
        }
        try
        {
            // Ranged reads of ReadBufferBytes, pinned to the ETag seen above (a concurrent overwrite fails the read).
            await using var stream = await blob.OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { BufferSize = ReadBufferBytes }, cancellationToken).ConfigureAwait(false);
            var header = await _decoder.InspectAsync(stream, _limits, cancellationToken).ConfigureAwait(false);
            return new Verdict(header, null, null);
        }
        catch (ImageRejectedException e)
        {
            return Verdict.Reject(e.Rule.ToString(), e.Message);
        }
    }

    private async Task TagAsync(BlobClient blob, string status, string? rule, string? jobId, CancellationToken cancellationToken)
    {
        var tags = new Dictionary<string, string> { [StatusTag] = status };
        if (rule is not null)
        {
            tags[RuleTag] = rule;
        }
        if (jobId is not null)
        {
            tags[JobTag] = jobId;
        }
        try
        {
            await blob.SetTagsAsync(tags, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // Deleted meanwhile: nothing left to label.
        }
    }

    private sealed record Verdict(ImageHeader? Header, string? Rule, string? Reason)
    {
        public static Verdict Reject(string rule, string reason) => new(null, rule, reason);
    }
}
