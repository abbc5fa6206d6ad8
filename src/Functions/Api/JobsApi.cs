using System.Globalization;
using System.Net;
using System.Text.Json;
using CodeFormer.Functions.Webhooks;
using CodeFormer.Shared.Events;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Settings;
using CodeFormer.Shared.Storage;
using CodeFormer.Shared.Tenants;
using CodeFormer.Shared.Webhooks;
using Microsoft.Extensions.Options;

namespace CodeFormer.Functions.Api;

/// <summary>
/// The tenant-facing job API. Every call authenticates the tenant from <c>Authorization: Bearer {api key}</c>; a job of
/// another tenant is simply not found (404, never 403, so ids of other tenants' jobs cannot be probed). Errors are
/// RFC 9457 problem+json.
/// </summary>
public sealed class JobsApi(
    JobStore jobs,
    TenantStore tenants,
    BlobSasIssuer sas,
    JobEventPublisher events,
    TerminalWebhookQueue webhookNotices,
    WebhookUrlPolicy webhookPolicy,
    IOptions<JobsSettings> settings,
    TimeProvider? timeProvider = null)
{
    public const int MaxIdempotencyKeyLength = 200;
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    /// <summary>POST /api/jobs: options in the body (all optional) → 201 with the job and its upload URL.</summary>
    public async Task<ApiResponse> CreateAsync(ApiRequest request, CancellationToken cancellationToken = default)
    {
        if (await AuthenticateAsync(request, cancellationToken).ConfigureAwait(false) is not { } tenant)
        {
            return Unauthorized();
        }
        if (request.IdempotencyKey is { } key && (key.Length == 0 || key.Length > MaxIdempotencyKeyLength))
        {
            return ApiResponse.Problem(HttpStatusCode.BadRequest, "Invalid Idempotency-Key", $"The Idempotency-Key header must be 1–{MaxIdempotencyKeyLength} characters.");
        }
        if (request.BodyTooLarge)
        {
            return ApiResponse.Problem(HttpStatusCode.RequestEntityTooLarge, "Request body too large",
                $"The body must be a JSON object of job options of at most {ApiRequest.MaxBodyBytes:N0} bytes.");
        }
        JobOptions options;
        try
        {
            // No body means the defaults; a JSON null is not "no body" but a client bug, refused like any non-object.
            options = request.Body is null || request.Body.ToMemory().IsEmpty
                ? JobOptions.Default
                : JsonSerializer.Deserialize(request.Body.ToMemory().Span, ApiJsonContext.Default.JobOptions)
                    ?? throw new JsonException("The body is the JSON literal null.");
        }
        catch (JsonException e)
        {
            return ApiResponse.Problem(HttpStatusCode.BadRequest, "Invalid request body", $"The body must be a JSON object of job options: {e.Message}");
        }
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            return ApiResponse.Problem(HttpStatusCode.BadRequest, "Invalid job options", string.Join("; ", errors), errors);
        }
        if (options.WebhookUrl is { } webhook && await webhookPolicy.CheckAsync(webhook, cancellationToken).ConfigureAwait(false) is { } problem)
        {
            var error = new OptionError("webhookUrl", problem);
            return ApiResponse.Problem(HttpStatusCode.BadRequest, "Invalid job options", error.ToString(), [error]);
        }

        var uploads = settings.Value.UploadsContainer;
        var (job, created) = await jobs.CreateAwaitingUploadAsync(
            tenant.TenantId, options, uploads, id => BlobNaming.ApiUploadBlobName(tenant.TenantId, id), request.IdempotencyKey, cancellationToken).ConfigureAwait(false);
        if (!created && job.State == JobState.Expired)
        {
            // No fresh upload URL for a job that can never run again: an upload to it would be ignored.
            return ApiResponse.Problem(HttpStatusCode.Conflict, "Job expired",
                $"Job {job.JobId} (this Idempotency-Key's job) expired because its photo never arrived before its upload URL expired at {job.UploadExpiresAt:O}; create a new job with a new Idempotency-Key.");
        }
        var uploadUrl = await sas.IssueUploadAsync(uploads, job.InputBlobName, BlobSasIssuer.MaxLifetime, cancellationToken).ConfigureAwait(false);
        if (!created && job.State == JobState.AwaitingUpload && job.UploadExpiresAt < ExpiryOf(uploadUrl))
        {
            // A replay hands out a fresh upload URL: the job's upload window is now that URL's.
            try
            {
                job = await jobs.ExtendUploadWindowAsync(job, ExpiryOf(uploadUrl), cancellationToken).ConfigureAwait(false);
            }
            catch (JobConcurrencyException)
            {
                job = await jobs.GetAsync(tenant.TenantId, job.JobId, cancellationToken).ConfigureAwait(false) ?? job;
            }
        }
        var body = new CreatedJob
        {
            Job = JobView.Of(job, _time.GetUtcNow()),
            UploadUrl = uploadUrl,
            UploadExpiresAt = ExpiryOf(uploadUrl),
            UploadHeaders = new() { ["x-ms-blob-type"] = "BlockBlob" },
        };
        var headers = new Dictionary<string, string> { ["Location"] = $"/api/jobs/{job.JobId}" };
        if (!created)
        {
            headers["Idempotent-Replayed"] = "true";
        }
        // A replay answers as the first call did (201 with the same job), with a fresh upload URL.
        return ApiResponse.Json(HttpStatusCode.Created, body, ApiJsonContext.Default.CreatedJob, headers);
    }

    /// <summary>GET /api/jobs/{id}.</summary>
    public async Task<ApiResponse> GetAsync(ApiRequest request, string jobId, CancellationToken cancellationToken = default)
    {
        if (await AuthenticateAsync(request, cancellationToken).ConfigureAwait(false) is not { } tenant)
        {
            return Unauthorized();
        }
        return await jobs.GetAsync(tenant.TenantId, jobId, cancellationToken).ConfigureAwait(false) is { } job
            ? ApiResponse.Json(HttpStatusCode.OK, JobView.Of(job, _time.GetUtcNow()), ApiJsonContext.Default.JobView)
            : NotFound(jobId);
    }

    /// <summary>GET /api/jobs/{id}/result: 200 with read URLs once succeeded, 409 before (and for jobs that will never have one).</summary>
    public async Task<ApiResponse> GetResultAsync(ApiRequest request, string jobId, CancellationToken cancellationToken = default)
    {
        if (await AuthenticateAsync(request, cancellationToken).ConfigureAwait(false) is not { } tenant)
        {
            return Unauthorized();
        }
        if (await jobs.GetAsync(tenant.TenantId, jobId, cancellationToken).ConfigureAwait(false) is not { } job)
        {
            return NotFound(jobId);
        }
        if (job.State != JobState.Succeeded || job.ResultBlobName is null || job.ReportBlobName is null)
        {
            var detail = job.State.IsTerminal()
                ? $"Job {jobId} is {job.State} and has no result{(job.Reason is null ? "" : ": " + job.Reason)}."
                : $"Job {jobId} is {job.State}; the result exists once it has succeeded.";
            return ApiResponse.Problem(HttpStatusCode.Conflict, "No result", detail);
        }
        var results = settings.Value.ResultsContainer;
        var resultUrl = await sas.IssueReadAsync(results, job.ResultBlobName, BlobSasIssuer.MaxLifetime, cancellationToken).ConfigureAwait(false);
        var reportUrl = await sas.IssueReadAsync(results, job.ReportBlobName, BlobSasIssuer.MaxLifetime, cancellationToken).ConfigureAwait(false);
        return ApiResponse.Json(HttpStatusCode.OK, new JobResult { JobId = jobId, ResultUrl = resultUrl, ReportUrl = reportUrl, ExpiresAt = ExpiryOf(resultUrl) }, ApiJsonContext.Default.JobResult);
    }

    /// <summary>DELETE /api/jobs/{id}: cancels a job no worker has started (200 with the cancelled job; its webhook, if any, is queued); 409 otherwise.</summary>
    public async Task<ApiResponse> CancelAsync(ApiRequest request, string jobId, CancellationToken cancellationToken = default)
    {
        if (await AuthenticateAsync(request, cancellationToken).ConfigureAwait(false) is not { } tenant)
        {
            return Unauthorized();
        }
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (await jobs.GetAsync(tenant.TenantId, jobId, cancellationToken).ConfigureAwait(false) is not { } job)
            {
                return NotFound(jobId);
            }
            if (job.State == JobState.Cancelled)
            {
                return ApiResponse.Json(HttpStatusCode.OK, JobView.Of(job, _time.GetUtcNow()), ApiJsonContext.Default.JobView);
            }
            if (!JobTransitions.IsLegal(job.State, JobState.Cancelled))
            {
                return ApiResponse.Problem(HttpStatusCode.Conflict, "Cannot cancel", $"Job {jobId} is {job.State}; only jobs that no worker has started can be cancelled.");
            }
            try
            {
                var cancelled = await jobs.CancelAsync(job, cancellationToken).ConfigureAwait(false);
                await events.PublishAsync(JobEventKind.Cancelled, cancelled, cancellationToken).ConfigureAwait(false);
                // Queued, not called here: the answer must not wait for the tenant's receiver. A repeated DELETE finds
                // the job Cancelled above and queues nothing, so the webhook goes out at most once.
                await webhookNotices.EnqueueAsync(JobEventKind.Cancelled, cancelled, cancellationToken).ConfigureAwait(false);
                return ApiResponse.Json(HttpStatusCode.OK, JobView.Of(cancelled, _time.GetUtcNow()), ApiJsonContext.Default.JobView);
            }
            catch (JobConcurrencyException)
            {
                // The job moved meanwhile (its upload arrived, a worker took it): look again.
            }
        }
        return ApiResponse.Problem(HttpStatusCode.Conflict, "Cannot cancel", $"Job {jobId} kept changing; try again.");
    }

    /// <summary>GET /api/usage?month=YYYY-MM (default: the current UTC month).</summary>
    public async Task<ApiResponse> GetUsageAsync(ApiRequest request, string? month, CancellationToken cancellationToken = default)
    {
        if (await AuthenticateAsync(request, cancellationToken).ConfigureAwait(false) is not { } tenant)
        {
            return Unauthorized();
        }
        month ??= _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        if (!DateTime.TryParseExact(month, "yyyy-MM", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
        {
            return ApiResponse.Problem(HttpStatusCode.BadRequest, "Invalid month", $"month must be YYYY-MM, got '{month}'.",
                [new OptionError("month", "must be YYYY-MM")]);
        }
        var usage = await jobs.GetMonthlyUsageAsync(tenant.TenantId, month, cancellationToken).ConfigureAwait(false);
        return ApiResponse.Json(HttpStatusCode.OK, usage, ApiJsonContext.Default.MonthlyUsage);
    }

    private async Task<Tenant?> AuthenticateAsync(ApiRequest request, CancellationToken cancellationToken)
    {
        const string scheme = "Bearer ";
        if (request.Authorization is not { } header || !header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        return await tenants.AuthenticateAsync(header[scheme.Length..].Trim(), cancellationToken).ConfigureAwait(false);
    }

    private static ApiResponse Unauthorized() =>
        ApiResponse.Problem(HttpStatusCode.Unauthorized, "Unauthorized", "Send a valid tenant API key as 'Authorization: Bearer <key>'.");

    private static ApiResponse NotFound(string jobId) =>
        ApiResponse.Problem(HttpStatusCode.NotFound, "Job not found", $"There is no job '{jobId}' for this API key.");

    private static DateTimeOffset ExpiryOf(Uri sasUrl) =>
        DateTimeOffset.Parse(System.Web.HttpUtility.ParseQueryString(sasUrl.Query)["se"]!, CultureInfo.InvariantCulture);
}
