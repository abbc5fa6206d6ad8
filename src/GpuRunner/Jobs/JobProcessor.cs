using System.Diagnostics;
using CodeFormer.Engine.Hosting;
using CodeFormer.Engine.Pipeline;
using CodeFormer.GpuRunner.Settings;
using CodeFormer.Imaging;
using CodeFormer.GpuRunner.Telemetry;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Storage;
using CodeFormer.Shared.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CodeFormer.GpuRunner.Jobs;

/// <summary>
/// Turns one delivery of a job message into at most one result. Service Bus delivers at least once and workers die at
/// any instruction, so every step is safe to repeat:
/// <list type="number">
/// <item>a job that is terminal already (succeeded, failed, cancelled) is completed and nothing else happens;</item>
/// <item>Queued/Running → Running with If-Match on the row's ETag (a racing worker re-reads and decides again);</item>
/// <item>a report found in results/ means an earlier delivery got that far: its usage is taken, the photo is not
/// restored again; otherwise the upload is restored and the result, then the report, are created with
/// If-None-Match: * (a blob found there is this job's, written by an earlier delivery: it is kept, never rewritten);</item>
/// <item>the succeeded event is published with its stable id "{jobId}.succeeded" (subscribers drop a repeat) BEFORE the
/// commit, because a job found terminal is never touched again: publishing after it would lose the event forever if
/// the worker died in between;</item>
/// <item>Running → Succeeded together with the usage row, one table transaction: the usage is recorded exactly once;</item>
/// <item>the webhook, signed, retried a bounded number of times; its failure never fails the job.</item>
/// </list>
/// Failures: permanent ones (refused photo, invalid options, missing upload, time limit) fail the job and dead-letter
/// the message at once; transient ones abandon it after a backoff, and on the queue's last allowed delivery fail the
/// job with the last error before dead-lettering, so no job stays Running.
/// </summary>
public sealed class JobProcessor(
    JobStore store,
    ResultStore results,
    JobEventSink events,
    WebhookNotifier webhooks,
    RestorationEngineHost engineHost,
    IOptions<EngineSettings> engineSettings,
    IOptions<WorkerSettings> settings,
    WorkerTelemetry telemetry,
    TimeProvider time,
    ILogger<JobProcessor> logger)
{
    /// <summary>Logged (with this id) each time this worker actually created a result blob: the soak counts these.</summary>
    public static readonly EventId ResultWrittenEvent = new(100, "ResultWritten");

    private static readonly TimeSpan BookkeepingTimeout = TimeSpan.FromSeconds(30);
    private const int ConcurrencyRetries = 5;

    /// <param name="stopping">Cancelled when the worker's shutdown grace period is over: the job is abandoned.</param>
    public async Task<JobOutcome> ProcessAsync(JobDelivery delivery, CancellationToken stopping)
    {
        RestoreJobMessage message;
        try
        {
            message = RestoreJobMessage.Parse(delivery.Body, delivery.MessageId);
        }
        catch (InvalidJobMessageException e)
        {
            logger.LogError("Message {MessageId} is not a job this worker can read: {Reason}", delivery.MessageId, e.Message);
            return Count(JobOutcome.Failed(FailureReasons.InvalidMessage, e.Message));
        }

        using var activity = WorkerTelemetry.StartJobActivity(delivery.ApplicationProperties, message.JobId, message.TenantId, delivery.DeliveryCount);
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["JobId"] = message.JobId, ["TenantId"] = message.TenantId, ["DeliveryCount"] = delivery.DeliveryCount });
        telemetry.QueueWait(time.GetUtcNow() - delivery.EnqueuedTime);
        var outcome = await ProcessJobAsync(delivery, message, stopping).ConfigureAwait(false);
        activity?.SetTag("codeformer.job.outcome", outcome.Outcome);
        if (outcome.Reason is not null)
        {
            activity?.SetTag("codeformer.job.reason", outcome.Reason);
        }
        if (outcome.Outcome is "failed")
        {
            activity?.SetStatus(ActivityStatusCode.Error, outcome.Description);
        }
        if (outcome.Outcome is "succeeded" or "failed")
        {
            telemetry.EndToEnd(time.GetUtcNow() - delivery.EnqueuedTime, outcome.Outcome);
        }
        return Count(outcome);
    }

    private async Task<JobOutcome> ProcessJobAsync(JobDelivery delivery, RestoreJobMessage message, CancellationToken stopping)
    {
        var lastDelivery = delivery.DeliveryCount >= settings.Value.MaxDeliveryCount;
        using var timeLimit = new CancellationTokenSource(settings.Value.JobTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, timeLimit.Token);
        try
        {
            var job = await store.GetAsync(message.TenantId, message.JobId, linked.Token).ConfigureAwait(false);
            if (job is null)
            {
                logger.LogError("Job {JobId} of tenant {TenantId} does not exist", message.JobId, message.TenantId);
                return JobOutcome.Failed(FailureReasons.JobNotFound, $"Job {message.JobId} of tenant {message.TenantId} does not exist.");
            }
            var (running, skip) = await StartAsync(job, linked.Token).ConfigureAwait(false);
            if (skip is not null)
            {
                logger.LogInformation("Job {JobId} is {State} already; message completed, nothing done", job.JobId, skip);
                return JobOutcome.Skipped(skip);
            }
            return await RunAsync(running!, message, stopping, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            logger.LogWarning("Shutdown grace period over: job {JobId} abandoned for the next worker", message.JobId);
            return JobOutcome.ShuttingDown();
        }
        catch (OperationCanceledException) when (timeLimit.IsCancellationRequested)
        {
            var description = $"The job ran longer than the {settings.Value.JobTimeout.TotalSeconds:F0} s limit and was cancelled.";
            return await FailAsync(message, FailureReasons.TimedOut, description, lastDelivery, stopping).ConfigureAwait(false);
        }
        catch (PermanentJobFailureException e)
        {
            return await FailAsync(message, e.Reason, e.Message, lastDelivery, stopping).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var reason = FailureReasons.OfTransient(e);
            if (lastDelivery)
            {
                logger.LogError(e, "Job {JobId} failed transiently on its last allowed delivery ({Delivery}): {Error}", message.JobId, delivery.DeliveryCount, e.Message);
                var description = $"Gave up after {delivery.DeliveryCount} deliveries; last error ({reason}): {e.Message}";
                return await FailAsync(message, FailureReasons.RetriesExhausted, description, lastDelivery: true, stopping).ConfigureAwait(false);
            }
            logger.LogWarning(e, "Job {JobId} failed transiently on delivery {Delivery} ({Reason}); it will be retried: {Error}", message.JobId, delivery.DeliveryCount, reason, e.Message);
            await BackoffAsync(delivery.DeliveryCount, stopping).ConfigureAwait(false);
            return JobOutcome.Retry(reason, e.Message);
        }
    }

    /// <summary>Moves the job to Running, or says why it must not run (it is terminal already).</summary>
    private async Task<(JobRecord? Running, string? Skip)> StartAsync(JobRecord job, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (job.State.IsTerminal())
            {
                return (null, job.State.ToString());
            }
            if (job.State == JobState.AwaitingUpload)
            {
                // The intake attaches the upload before it sends; a message for a job still waiting is early: try later.
                throw new InvalidOperationException($"Job {job.JobId} is still awaiting its upload.");
            }
            try
            {
                return (await store.MarkRunningAsync(job, cancellationToken).ConfigureAwait(false), null);
            }
            catch (JobConcurrencyException) when (attempt < ConcurrencyRetries)
            {
                job = await store.GetAsync(job.TenantId, job.JobId, cancellationToken).ConfigureAwait(false)
                    ?? throw new PermanentJobFailureException(FailureReasons.JobNotFound, $"Job {job.JobId} vanished while starting.");
            }
        }
    }

    private async Task<JobOutcome> RunAsync(JobRecord job, RestoreJobMessage message, CancellationToken stopping, CancellationToken cancellationToken)
    {
        if (message.Options.Task != JobTask.Restore)
        {
            // The contract accepts colorize and inpaint (FaceTaskEngine can run them), but this worker hosts only the
            // whole-photo RestorationEngine: refuse before downloading anything, permanently, so the message is not retried.
            throw new PermanentJobFailureException(FailureReasons.TaskNotServed,
                $"task '{message.Options.Task.ToString().ToLowerInvariant()}' is not served by this worker yet");
        }
        var reportName = BlobNaming.ReportBlobName(job.TenantId, job.JobId);
        var report = await Stage("resume", () => results.TryReadReportAsync(reportName, cancellationToken)).ConfigureAwait(false);
        if (report is not null)
        {
            logger.LogInformation("Job {JobId}: an earlier delivery wrote the result and report; committing them", job.JobId);
        }
        else
        {
            report = await RestoreAndStoreAsync(job, message, reportName, cancellationToken).ConfigureAwait(false);
        }

        var succeeded = job with
        {
            State = JobState.Succeeded,
            Usage = report.Usage,
            ResultBlobName = report.ResultBlobName,
            ReportBlobName = reportName,
            UpdatedAt = time.GetUtcNow(),
        };
        await Stage("publish", () => PublishAsync(JobEventKind.Succeeded, succeeded, cancellationToken)).ConfigureAwait(false);
        var committed = await Stage("commit", () => CommitAsync(job, report, reportName, cancellationToken)).ConfigureAwait(false);
        if (committed is null)
        {
            logger.LogInformation("Job {JobId} was committed by another delivery meanwhile; message completed", job.JobId);
            return JobOutcome.Skipped(nameof(JobState.Succeeded));
        }
        telemetry.FacesRestored(report.Usage.Faces);
        logger.LogInformation("Job {JobId} succeeded: {Faces} face(s), result {Result}", job.JobId, report.Usage.Faces, report.ResultBlobName);
        await Stage("notify", () => NotifyAsync(JobEventKind.Succeeded, committed, stopping)).ConfigureAwait(false);
        return JobOutcome.Succeeded();
    }

    private async Task<JobReport> RestoreAndStoreAsync(JobRecord job, RestoreJobMessage message, string reportName, CancellationToken cancellationToken)
    {
        var photo = await Stage("download", () => results.DownloadUploadAsync(message.InputContainer, message.InputBlobName, cancellationToken)).ConfigureAwait(false);
        var (options, warnings) = EngineOptions(message.Options);
        RestorationResult restored;
        try
        {
            restored = await Stage("restore", () => engineHost.Engine.RestoreAsync(photo.ToMemory(), options, progress: null, cancellationToken)).ConfigureAwait(false);
        }
        catch (PhotoRefusedException e)
        {
            throw new PermanentJobFailureException(FailureReasons.OfRefusal(e), e.Message, e);
        }

        var resultName = BlobNaming.ResultBlobName(job.TenantId, job.JobId, OutputFormat.ExtensionOf(restored.Format));
        var usage = new JobUsage
        {
            InputMegapixels = restored.InputWidth * (double)restored.InputHeight / 1e6,
            Faces = restored.Faces.Count,
            NetworkMilliseconds = restored.Timings.Milliseconds.GetValueOrDefault(RestorationStage.Restore),
            Device = Device,
            OutputBytes = restored.Image.LongLength,
        };
        var metadata = new Dictionary<string, string> { ["jobid"] = job.JobId, ["attempt"] = job.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        var wrote = await Stage("upload", () => results.CreateOnceAsync(resultName, BinaryData.FromBytes(restored.Image), ContentTypeOf(restored.Format), metadata, cancellationToken)).ConfigureAwait(false);
        if (wrote)
        {
            logger.LogInformation(ResultWrittenEvent, "Result written for job {JobId}: {Result} ({Bytes} bytes)", job.JobId, resultName, restored.Image.Length);
        }
        else
        {
            logger.LogInformation("Job {JobId}: the result {Result} was written by an earlier delivery; kept as it is", job.JobId, resultName);
        }

        var report = new JobReport
        {
            JobId = job.JobId,
            TenantId = job.TenantId,
            ResultBlobName = resultName,
            Format = restored.Format.ToString().ToLowerInvariant(),
            Width = restored.Width,
            Height = restored.Height,
            InputWidth = restored.InputWidth,
            InputHeight = restored.InputHeight,
            Greyscale = restored.Greyscale,
            Faces = restored.Faces,
            TimingsMilliseconds = restored.Timings.Milliseconds.ToDictionary(p => p.Key.ToString().ToLowerInvariant(), p => p.Value),
            Warnings = [.. warnings, .. restored.Warnings],
            Usage = usage,
            CreatedAt = time.GetUtcNow(),
        };
        if (!await results.CreateOnceAsync(reportName, BinaryData.FromBytes(report.ToUtf8()), "application/json", metadata, cancellationToken).ConfigureAwait(false))
        {
            // Another delivery committed its report first: its usage is the one that counts.
            report = await results.TryReadReportAsync(reportName, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"The report {reportName} existed a moment ago and is gone.");
        }
        return report;
    }

    /// <summary>Running → Succeeded with the usage row; null when another delivery got there first.</summary>
    private async Task<JobRecord?> CommitAsync(JobRecord job, JobReport report, string reportName, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (job.State.IsTerminal())
            {
                return null;
            }
            try
            {
                return await store.SucceedAsync(job, report.Usage, report.ResultBlobName, reportName, cancellationToken).ConfigureAwait(false);
            }
            catch (JobConcurrencyException) when (attempt < ConcurrencyRetries)
            {
                job = await store.GetAsync(job.TenantId, job.JobId, cancellationToken).ConfigureAwait(false)
                    ?? throw new PermanentJobFailureException(FailureReasons.JobNotFound, $"Job {job.JobId} vanished while committing.");
            }
        }
    }

    /// <summary>
    /// Fails the job (if it can still fail) with the reason, publishes the failed event and calls the webhook, and
    /// dead-letters the message. If the bookkeeping itself fails transiently before the last delivery, the message is
    /// retried instead, so the failure is recorded on a later delivery rather than lost.
    /// </summary>
    private async Task<JobOutcome> FailAsync(RestoreJobMessage message, string reason, string description, bool lastDelivery, CancellationToken stopping)
    {
        logger.LogError("Job {JobId} failed ({Reason}): {Description}", message.JobId, reason, description);
        using var bookkeeping = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        bookkeeping.CancelAfter(BookkeepingTimeout);
        var token = bookkeeping.Token;
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var current = await store.GetAsync(message.TenantId, message.JobId, token).ConfigureAwait(false);
                if (current is null)
                {
                    break;
                }
                if (current.State.IsTerminal())
                {
                    return JobOutcome.Skipped(current.State.ToString());
                }
                var reasonText = $"{reason}: {description}";
                var failed = current with { State = JobState.Failed, Reason = reasonText, UpdatedAt = time.GetUtcNow() };
                try
                {
                    await PublishAsync(JobEventKind.Failed, failed, token).ConfigureAwait(false);
                }
                catch (EventPublishException e) when (lastDelivery)
                {
                    // The job must not stay Running: record the failure even though its event is lost.
                    logger.LogError(e, "The failed event of job {JobId} could not be published; recording the failure anyway", message.JobId);
                }
                try
                {
                    var recorded = await store.FailAsync(current, reasonText, token).ConfigureAwait(false);
                    await NotifyAsync(JobEventKind.Failed, recorded, stopping).ConfigureAwait(false);
                    break;
                }
                catch (Exception e) when (e is JobConcurrencyException or IllegalJobTransitionException && attempt < ConcurrencyRetries)
                {
                    // Someone moved the job meanwhile: read it again and decide again.
                }
            }
        }
        catch (Exception e) when (!lastDelivery && e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Recording the failure of job {JobId} failed; the delivery is retried", message.JobId);
            return JobOutcome.Retry(FailureReasons.OfTransient(e), e.Message);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Recording the failure of job {JobId} failed on its last delivery; the message is dead-lettered", message.JobId);
        }
        return JobOutcome.Failed(reason, description);
    }

    private async Task PublishAsync(JobEventKind kind, JobRecord job, CancellationToken cancellationToken)
    {
        try
        {
            await events.PublishAsync(kind, job, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new EventPublishException($"Publishing the {kind} event of job {job.JobId} failed: {e.Message}", e);
        }
    }

    /// <summary>Webhooks never fail a job: errors are logged by the notifier, cancellation ends the retries.</summary>
    private async Task NotifyAsync(JobEventKind kind, JobRecord job, CancellationToken cancellationToken)
    {
        try
        {
            await webhooks.NotifyAsync(kind, job, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Webhook for job {JobId} abandoned: {Error}", job.JobId, e.Message);
        }
    }

    private async Task BackoffAsync(int deliveryCount, CancellationToken stopping)
    {
        var delay = settings.Value.RetryDelay * Math.Pow(2, Math.Min(deliveryCount - 1, 10));
        if (delay > settings.Value.MaxRetryDelay)
        {
            delay = settings.Value.MaxRetryDelay;
        }
        try
        {
            await Task.Delay(delay, time, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: abandon now.
        }
    }

    private async Task<T> Stage<T>(string stage, Func<Task<T>> work)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await work().ConfigureAwait(false);
        }
        finally
        {
            telemetry.Stage(stage, Stopwatch.GetElapsedTime(started));
        }
    }

    private async Task Stage(string stage, Func<Task> work) => await Stage(stage, async () =>
    {
        await work().ConfigureAwait(false);
        return true;
    }).ConfigureAwait(false);

    private JobOutcome Count(JobOutcome outcome)
    {
        telemetry.JobFinished(outcome.Outcome, outcome.Reason);
        return outcome;
    }

    private (RestorationOptions Options, IReadOnlyList<string> Warnings) EngineOptions(JobOptions options)
    {
        var warnings = new List<string>();
        var detector = options.Detector == FaceDetectorKind.RetinaFace ? Engine.Detection.DetectorKind.RetinaFace : Engine.Detection.DetectorKind.YuNet;
        if (!options.Aligned && detector != engineSettings.Value.Detector)
        {
            warnings.Add($"Detector {options.Detector} was asked for; this worker runs {engineSettings.Value.Detector}, which was used.");
        }
        return (new RestorationOptions
        {
            Fidelity = options.Fidelity,
            Upscale = options.Upscale,
            InputIsAligned = options.Aligned,
            OnlyCenterFace = options.OnlyCenterFace,
            MaxFaces = options.MaxFaces,
            BackgroundUpsample = options.BackgroundUpsampler == BackgroundUpsampler.RealEsrgan,
            FaceUpsample = options.FaceUpsample,
            OutputFormat = options.OutputFormat switch
            {
                ResultFormat.Png => ImageFileFormat.Png,
                ResultFormat.Jpeg => ImageFileFormat.Jpeg,
                ResultFormat.Webp => ImageFileFormat.Webp,
                _ => null,
            },
        }, warnings);
    }

    private string Device => _device ??= EngineDevice.Describe(engineSettings.Value);
    private string? _device;

    private static string ContentTypeOf(ImageFileFormat format) => format switch
    {
        ImageFileFormat.Png => "image/png",
        ImageFileFormat.Jpeg => "image/jpeg",
        _ => "image/webp",
    };
}
