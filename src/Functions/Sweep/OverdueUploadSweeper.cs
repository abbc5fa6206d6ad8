using Azure.Storage.Blobs;
using CodeFormer.Functions.Intake;
using CodeFormer.Functions.Webhooks;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Settings;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CodeFormer.Functions.Sweep;

/// <summary>What one sweep did, entry by entry of the upload-deadline index.</summary>
public sealed record SweepSummary(int Expired, int HandedToIntake, int Dropped, int Retried)
{
    public int Examined => Expired + HandedToIntake + Dropped + Retried;
}

/// <summary>
/// Expires API jobs whose photo never arrived: still AwaitingUpload once their upload URL expired plus
/// <see cref="JobsSettings.UploadGraceSeconds"/>. It reads only the due entries of <see cref="UploadDeadlineIndex"/>
/// (one range query), never the tenants' partitions, so a sweep costs what is due, not the size of the table.
/// <para>For each due entry, re-reading the job each time:</para>
/// <list type="bullet">
/// <item>job gone, no longer AwaitingUpload (queued, rejected, cancelled), or given a later window by an
/// Idempotency-Key replay (a newer entry covers it) → the entry is dropped;</item>
/// <item>its upload blob exists → the upload landed (a late or lost BlobCreated event): the upload wins, and the
/// sweep hands the blob to the intake itself, which is idempotent with the event-driven one;</item>
/// <item>otherwise → Expired, written with If-Match on the ETag just read: an upload attached or a cancel in between
/// makes the write fail and the entry is looked at again next time. The intake, in turn, attaches an upload with the
/// ETag it read, so it cannot enqueue a job this sweep expired (it finds Expired and ignores the blob);</item>
/// <item>an Expired job whose entry is still there (a crash or a topic outage after the transition) → its Expired
/// event is published again (same event id, subscribers drop repeats) and the entry dropped. Its webhook notice is
/// not queued again: it may have gone out before the crash, and webhooks are called at most once (as by the worker).</item>
/// </list>
/// Nothing is deleted but index entries: the job row stays (GET shows Expired and why) and there is no blob to remove.
/// </summary>
public sealed class OverdueUploadSweeper(
    JobStore jobs,
    BlobServiceClient blobs,
    UploadIntakeHandler intake,
    JobEventPublisher events,
    TerminalWebhookQueue webhookNotices,
    IOptions<JobsSettings> settings,
    TimeProvider? timeProvider = null,
    ILogger<OverdueUploadSweeper>? logger = null)
{
    public const string ExpiredReason = "The upload never arrived: the upload URL expired before a photo was uploaded.";

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly ILogger _logger = logger ?? NullLogger<OverdueUploadSweeper>.Instance;

    public async Task<SweepSummary> SweepAsync(CancellationToken cancellationToken = default)
    {
        var grace = TimeSpan.FromSeconds(Math.Max(0, settings.Value.UploadGraceSeconds));
        var cutoff = _time.GetUtcNow() - grace;
        int expired = 0, handed = 0, dropped = 0, retried = 0;
        // Materialized first: entries are removed while we go, and a paged query should not see its own deletions.
        var due = new List<UploadDeadline>();
        await foreach (var entry in jobs.UploadDeadlines.DueBeforeAsync(cutoff, cancellationToken).ConfigureAwait(false))
        {
            due.Add(entry);
        }
        foreach (var entry in due)
        {
            EntryOutcome outcome;
            try
            {
                outcome = await SweepOneAsync(entry, cutoff, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One job's outage (storage, Service Bus, topic) must not stop the others; its entry stays for next time.
                _logger.LogError(e, "Upload sweep: job {JobId} of tenant {TenantId} failed; it is retried on the next sweep.", entry.JobId, entry.TenantId);
                outcome = EntryOutcome.Retried;
            }
            switch (outcome)
            {
                case EntryOutcome.Expired: expired++; break;
                case EntryOutcome.HandedToIntake: handed++; break;
                case EntryOutcome.Dropped: dropped++; break;
                default: retried++; break;
            }
        }
        if (due.Count > 0)
        {
            _logger.LogInformation("Upload sweep: {Expired} expired, {Handed} handed to the intake, {Dropped} index entries dropped, {Retried} left for the next sweep.",
                expired, handed, dropped, retried);
        }
        return new SweepSummary(expired, handed, dropped, retried);
    }

    private async Task<EntryOutcome> SweepOneAsync(UploadDeadline entry, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var job = await jobs.GetAsync(entry.TenantId, entry.JobId, cancellationToken).ConfigureAwait(false);
        if (job is { State: JobState.Expired })
        {
            // Expired by an earlier sweep that stopped before its event went out (or before dropping the entry).
            await events.PublishAsync(JobEventKind.Expired, job, cancellationToken).ConfigureAwait(false);
            return await DropAsync(entry, cancellationToken).ConfigureAwait(false);
        }
        if (job is not { State: JobState.AwaitingUpload } || job.UploadExpiresAt is not { } expiresAt || expiresAt >= cutoff)
        {
            return await DropAsync(entry, cancellationToken).ConfigureAwait(false);
        }

        var blob = blobs.GetBlobContainerClient(job.InputContainer).GetBlobClient(job.InputBlobName);
        if (await blob.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            // The photo is there, so the upload won; only its event is late or lost. The intake decides queued/rejected.
            var result = await intake.HandleAsync(job.InputBlobName, cancellationToken).ConfigureAwait(false);
            _logger.LogWarning("Job {JobId} was still awaiting an upload that exists; the sweep ran the intake: {Outcome}.", job.JobId, result.Outcome);
            await DropAsync(entry, cancellationToken).ConfigureAwait(false);
            return EntryOutcome.HandedToIntake;
        }

        JobRecord expiredJob;
        try
        {
            expiredJob = await jobs.ExpireAsync(job, ExpiredReason, cancellationToken).ConfigureAwait(false);
        }
        catch (JobConcurrencyException)
        {
            // Changed since we read it (upload attached, cancelled, new window): the next sweep looks again.
            return EntryOutcome.Retried;
        }
        _logger.LogInformation("Job {JobId} of tenant {TenantId} expired: its upload URL expired at {ExpiresAt} and no photo arrived.",
            job.JobId, job.TenantId, expiresAt);
        // The event before dropping the entry: if it fails, the entry brings this job back next time (see above).
        await events.PublishAsync(JobEventKind.Expired, expiredJob, cancellationToken).ConfigureAwait(false);
        await webhookNotices.EnqueueAsync(JobEventKind.Expired, expiredJob, cancellationToken).ConfigureAwait(false);
        await DropAsync(entry, cancellationToken).ConfigureAwait(false);
        return EntryOutcome.Expired;
    }

    private async Task<EntryOutcome> DropAsync(UploadDeadline entry, CancellationToken cancellationToken)
    {
        await jobs.UploadDeadlines.RemoveAsync(entry, cancellationToken).ConfigureAwait(false);
        return EntryOutcome.Dropped;
    }

    private enum EntryOutcome
    {
        Expired,
        HandedToIntake,
        Dropped,
        Retried,
    }
}
