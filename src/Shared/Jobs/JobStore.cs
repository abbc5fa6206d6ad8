using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using CodeFormer.Shared.Serialization;
using CodeFormer.Shared.Tenants;

namespace CodeFormer.Shared.Jobs;

/// <summary>
/// Jobs in the jobs table (keys in <see cref="JobTableKeys"/>). Every transition is checked against
/// <see cref="JobTransitions"/> and written with If-Match on the ETag the caller read, so two writers racing on one job
/// cannot both win: the loser gets <see cref="JobConcurrencyException"/> and re-reads.
/// </summary>
public sealed class JobStore(TableClient table, TimeProvider? timeProvider = null)
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    public TableClient Table => table;

    /// <summary>Upload deadlines of API jobs, for the overdue-upload sweep (kept in the same table).</summary>
    public UploadDeadlineIndex UploadDeadlines { get; } = new(table);

    public async Task<JobRecord?> GetAsync(string tenantId, string jobId, CancellationToken cancellationToken = default)
    {
        if (!TenantIds.IsValid(tenantId) || !JobIds.IsValid(jobId))
        {
            return null;
        }
        var response = await table.GetEntityIfExistsAsync<TableEntity>(tenantId, JobTableKeys.Job(jobId), cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? JobEntityMapper.ToRecord(response.Value!) : null;
    }

    /// <summary>
    /// Inserts a job. If a row with its id exists already (a re-delivered event, a retried function) nothing is
    /// written and the existing job is returned with <c>Created = false</c>.
    /// </summary>
    public async Task<(JobRecord Job, bool Created)> AddOrGetAsync(JobRecord job, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await table.AddEntityAsync(JobEntityMapper.ToEntity(job), cancellationToken).ConfigureAwait(false);
            return (job with { ETag = response.Headers.ETag?.ToString() ?? "" }, true);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            var existing = await GetAsync(job.TenantId, job.JobId, cancellationToken).ConfigureAwait(false);
            return (existing ?? throw new InvalidOperationException($"Job {job.JobId} exists and vanished again."), false);
        }
    }

    /// <summary>
    /// Creates a job that waits for its upload (POST /api/jobs). With an Idempotency-Key, the key row and the job row
    /// are inserted in one transaction; a replay of the same key returns the job the first call made.
    /// </summary>
    public async Task<(JobRecord Job, bool Created)> CreateAwaitingUploadAsync(
        string tenantId, JobOptions options, string uploadsContainer, Func<string, string> uploadBlobNameForJob,
        string? idempotencyKey, CancellationToken cancellationToken = default)
    {
        TenantIds.EnsureValid(tenantId);
        options.EnsureValid();
        var now = _time.GetUtcNow();
        var jobId = JobIds.NewRandom();
        var job = new JobRecord
        {
            JobId = jobId,
            TenantId = tenantId,
            State = JobState.AwaitingUpload,
            Origin = JobOrigin.Api,
            Options = options,
            CreatedAt = now,
            UpdatedAt = now,
            InputContainer = uploadsContainer,
            InputBlobName = uploadBlobNameForJob(jobId),
            // Whole seconds, as the SAS 'se' field carries it, so the job and its URL agree exactly.
            UploadExpiresAt = DateTimeOffset.FromUnixTimeSeconds((now + Storage.BlobSasIssuer.MaxLifetime).ToUnixTimeSeconds()),
        };
        // Before the job row (see UploadDeadlineIndex): a replay that finds an existing job leaves an entry naming a job
        // that never existed, which the sweep drops.
        await UploadDeadlines.AddAsync(tenantId, jobId, job.UploadExpiresAt.Value, cancellationToken).ConfigureAwait(false);
        if (idempotencyKey is null)
        {
            return await AddOrGetAsync(job, cancellationToken).ConfigureAwait(false);
        }

        var keyRow = new TableEntity(tenantId, JobTableKeys.Idempotency(HashIdempotencyKey(idempotencyKey)))
        {
            ["JobId"] = jobId,
            ["CreatedAt"] = now,
        };
        try
        {
            var responses = await table.SubmitTransactionAsync(
                [new TableTransactionAction(TableTransactionActionType.Add, JobEntityMapper.ToEntity(job)),
                 new TableTransactionAction(TableTransactionActionType.Add, keyRow)],
                cancellationToken).ConfigureAwait(false);
            return (job with { ETag = responses.Value[0].Headers.ETag?.ToString() ?? "" }, true);
        }
        catch (TableTransactionFailedException e) when (e.Status == 409)
        {
            var existingKey = await table.GetEntityAsync<TableEntity>(tenantId, keyRow.RowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
            var existingJobId = existingKey.Value.GetString("JobId");
            var existing = await GetAsync(tenantId, existingJobId, cancellationToken).ConfigureAwait(false);
            return (existing ?? throw new InvalidOperationException($"Idempotency key names job {existingJobId}, which does not exist."), false);
        }
    }

    /// <summary>Records the expiry of a newly issued upload URL (an Idempotency-Key replay after the first one expired).</summary>
    public async Task<JobRecord> ExtendUploadWindowAsync(JobRecord job, DateTimeOffset uploadExpiresAt, CancellationToken cancellationToken = default)
    {
        // The new deadline is indexed first; the old entry stays until the sweep sees the job's later deadline and drops it.
        await UploadDeadlines.AddAsync(job.TenantId, job.JobId, uploadExpiresAt, cancellationToken).ConfigureAwait(false);
        return await WriteAsync(job, job with { UploadExpiresAt = uploadExpiresAt, UpdatedAt = _time.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The upload passed the header checks: AwaitingUpload → Queued, with the facts of its header.</summary>
    public Task<JobRecord> AttachUploadAsync(JobRecord job, string format, int width, int height, long bytes, CancellationToken cancellationToken = default) =>
        TransitionAsync(job, JobState.Queued, j => j with { InputFormat = format, InputWidth = width, InputHeight = height, InputBytes = bytes }, cancellationToken);

    /// <summary>Records that the intake's message/event/tags went out (no state change), so a retried intake does nothing more.</summary>
    public Task<JobRecord> MarkIntakeCompletedAsync(JobRecord job, CancellationToken cancellationToken = default) =>
        WriteAsync(job, job with { IntakeCompleted = true, UpdatedAt = _time.GetUtcNow() }, cancellationToken);

    /// <summary>
    /// AwaitingUpload → Expired: the photo never arrived. With If-Match on the ETag the caller read, so it loses cleanly
    /// (<see cref="JobConcurrencyException"/>) to an upload that was attached, a cancel or a fresh upload window meanwhile.
    /// </summary>
    public Task<JobRecord> ExpireAsync(JobRecord job, string reason, CancellationToken cancellationToken = default) =>
        TransitionAsync(job, JobState.Expired, j => j with { Reason = reason }, cancellationToken);

    public Task<JobRecord> RejectAsync(JobRecord job, string rule, string reason, CancellationToken cancellationToken = default) =>
        TransitionAsync(job, JobState.Rejected, j => j with { RejectionRule = rule, Reason = reason }, cancellationToken);

    /// <summary>A worker starts (or, after a redelivery, restarts) the job: Queued/Running → Running, one more attempt.</summary>
    public Task<JobRecord> MarkRunningAsync(JobRecord job, CancellationToken cancellationToken = default) =>
        TransitionAsync(job, JobState.Running, j => j with { Attempts = j.Attempts + 1 }, cancellationToken);

    public Task<JobRecord> FailAsync(JobRecord job, string reason, CancellationToken cancellationToken = default) =>
        TransitionAsync(job, JobState.Failed, j => j with { Reason = reason }, cancellationToken);

    /// <summary>Cancels a job no worker has started (AwaitingUpload or Queued); a running or finished job throws <see cref="IllegalJobTransitionException"/>.</summary>
    public Task<JobRecord> CancelAsync(JobRecord job, CancellationToken cancellationToken = default) =>
        TransitionAsync(job, JobState.Cancelled, j => j, cancellationToken);

    /// <summary>
    /// Running → Succeeded with its usage. The job update (If-Match) and the usage row (insert) are one transaction, so
    /// the usage is counted exactly once: a second call fails on the ETag or the existing usage row, and writes nothing.
    /// </summary>
    public async Task<JobRecord> SucceedAsync(JobRecord job, JobUsage usage, string resultBlobName, string reportBlobName, CancellationToken cancellationToken = default)
    {
        JobTransitions.EnsureLegal(job.JobId, job.State, JobState.Succeeded);
        var now = _time.GetUtcNow();
        var updated = job with { State = JobState.Succeeded, Usage = usage, ResultBlobName = resultBlobName, ReportBlobName = reportBlobName, UpdatedAt = now };
        var month = now.UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        var usageRow = new TableEntity(job.TenantId, JobTableKeys.Usage(month, job.JobId))
        {
            ["JobId"] = job.JobId,
            ["InputMegapixels"] = usage.InputMegapixels,
            ["Faces"] = usage.Faces,
            ["NetworkMilliseconds"] = usage.NetworkMilliseconds,
            ["Device"] = usage.Device,
            ["OutputBytes"] = usage.OutputBytes,
        };
        try
        {
            var responses = await table.SubmitTransactionAsync(
                [new TableTransactionAction(TableTransactionActionType.UpdateReplace, JobEntityMapper.ToEntity(updated), new ETag(job.ETag)),
                 new TableTransactionAction(TableTransactionActionType.Add, usageRow)],
                cancellationToken).ConfigureAwait(false);
            return updated with { ETag = responses.Value[0].Headers.ETag?.ToString() ?? "" };
        }
        catch (TableTransactionFailedException e) when (e.Status is 412 or 409)
        {
            throw new JobConcurrencyException(job.JobId, e);
        }
    }

    /// <summary>A tenant's usage in one month (YYYY-MM, UTC): the sum of its usage rows.</summary>
    public async Task<MonthlyUsage> GetMonthlyUsageAsync(string tenantId, string month, CancellationToken cancellationToken = default)
    {
        TenantIds.EnsureValid(tenantId);
        var prefix = JobTableKeys.UsageMonthPrefix(month);
        // '}' sorts after every character a job id or '|' uses, so [prefix, prefix + '}') is exactly the month.
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {tenantId} and RowKey ge {prefix} and RowKey lt {prefix + "}"}");
        int jobs = 0, faces = 0;
        double megapixels = 0, networkMs = 0;
        long outputBytes = 0;
        await foreach (var row in table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            jobs++;
            megapixels += row.GetDouble("InputMegapixels") ?? 0;
            faces += row.GetInt32("Faces") ?? 0;
            networkMs += row.GetDouble("NetworkMilliseconds") ?? 0;
            outputBytes += row.GetInt64("OutputBytes") ?? 0;
        }
        return new MonthlyUsage { Month = month, Jobs = jobs, InputMegapixels = megapixels, Faces = faces, NetworkMilliseconds = networkMs, OutputBytes = outputBytes };
    }

    /// <summary>Moves the job to <paramref name="to"/> if that is legal, with If-Match on its ETag.</summary>
    public Task<JobRecord> TransitionAsync(JobRecord job, JobState to, Func<JobRecord, JobRecord> change, CancellationToken cancellationToken = default)
    {
        JobTransitions.EnsureLegal(job.JobId, job.State, to);
        return WriteAsync(job, change(job) with { State = to, UpdatedAt = _time.GetUtcNow() }, cancellationToken);
    }

    private async Task<JobRecord> WriteAsync(JobRecord current, JobRecord updated, CancellationToken cancellationToken)
    {
        try
        {
            var response = await table.UpdateEntityAsync(JobEntityMapper.ToEntity(updated), new ETag(current.ETag), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            return updated with { ETag = response.Headers.ETag?.ToString() ?? "" };
        }
        catch (RequestFailedException e) when (e.Status is 412 or 404)
        {
            throw new JobConcurrencyException(current.JobId, e);
        }
    }

    /// <summary>Idempotency keys are stored hashed: a key may carry whatever the client put in it.</summary>
    internal static string HashIdempotencyKey(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}

/// <summary>The job changed since it was read (its ETag no longer matches): re-read it and decide again.</summary>
public sealed class JobConcurrencyException(string jobId, Exception inner)
    : Exception($"Job {jobId} was changed by someone else since it was read.", inner)
{
    public string JobId { get; } = jobId;
}

/// <summary>Job rows ↔ records. Options and usage are JSON columns (one schema, the source-generated one).</summary>
internal static class JobEntityMapper
{
    public static TableEntity ToEntity(JobRecord job)
    {
        var entity = new TableEntity(job.TenantId, JobTableKeys.Job(job.JobId))
        {
            ["JobId"] = job.JobId,
            ["State"] = job.State.ToString(),
            ["Origin"] = job.Origin.ToString(),
            ["Options"] = JsonSerializer.Serialize(job.Options, SharedJsonContext.Default.JobOptions),
            ["CreatedAt"] = job.CreatedAt,
            ["UpdatedAt"] = job.UpdatedAt,
            ["InputContainer"] = job.InputContainer,
            ["InputBlobName"] = job.InputBlobName,
            ["UploadExpiresAt"] = job.UploadExpiresAt,
            ["InputFormat"] = job.InputFormat,
            ["InputWidth"] = job.InputWidth,
            ["InputHeight"] = job.InputHeight,
            ["InputBytes"] = job.InputBytes,
            ["IntakeCompleted"] = job.IntakeCompleted,
            ["Attempts"] = job.Attempts,
            ["RejectionRule"] = job.RejectionRule,
            ["Reason"] = job.Reason,
            ["ResultBlobName"] = job.ResultBlobName,
            ["ReportBlobName"] = job.ReportBlobName,
            ["Usage"] = job.Usage is null ? null : JsonSerializer.Serialize(job.Usage, SharedJsonContext.Default.JobUsage),
        };
        return entity;
    }

    public static JobRecord ToRecord(TableEntity e) => new()
    {
        JobId = e.GetString("JobId"),
        TenantId = e.PartitionKey,
        State = Enum.Parse<JobState>(e.GetString("State")),
        Origin = Enum.Parse<JobOrigin>(e.GetString("Origin")),
        Options = JsonSerializer.Deserialize(e.GetString("Options"), SharedJsonContext.Default.JobOptions) ?? JobOptions.Default,
        CreatedAt = e.GetDateTimeOffset("CreatedAt") ?? DateTimeOffset.MinValue,
        UpdatedAt = e.GetDateTimeOffset("UpdatedAt") ?? DateTimeOffset.MinValue,
        InputContainer = e.GetString("InputContainer"),
        InputBlobName = e.GetString("InputBlobName"),
        UploadExpiresAt = e.GetDateTimeOffset("UploadExpiresAt"),
        InputFormat = e.GetString("InputFormat"),
        InputWidth = e.GetInt32("InputWidth"),
        InputHeight = e.GetInt32("InputHeight"),
        InputBytes = e.GetInt64("InputBytes"),
        IntakeCompleted = e.GetBoolean("IntakeCompleted") ?? false,
        Attempts = e.GetInt32("Attempts") ?? 0,
        RejectionRule = e.GetString("RejectionRule"),
        Reason = e.GetString("Reason"),
        ResultBlobName = e.GetString("ResultBlobName"),
        ReportBlobName = e.GetString("ReportBlobName"),
        Usage = e.GetString("Usage") is { } usage ? JsonSerializer.Deserialize(usage, SharedJsonContext.Default.JobUsage) : null,
        ETag = e.ETag.ToString(),
    };
}
