using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using CodeFormer.Shared.Jobs;

namespace CodeFormer.Functions.Api;

/// <summary>What the API handlers need from an HTTP request (the function adapters fill it from HttpRequest).</summary>
public sealed record ApiRequest
{
    /// <summary>Request bodies are small JSON objects (a job's options: well under 4 KB); the adapter reads no more than this.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    public string? Authorization { get; init; }
    public string? IdempotencyKey { get; init; }
    public BinaryData? Body { get; init; }
    /// <summary>The client sent more than <see cref="MaxBodyBytes"/>; <see cref="Body"/> is then null, never a cut-off prefix.</summary>
    public bool BodyTooLarge { get; init; }
}

/// <summary>A response the adapters write as is: status, content type, UTF-8 JSON body, extra headers.</summary>
public sealed record ApiResponse(int Status, string ContentType, byte[] Body, IReadOnlyDictionary<string, string>? Headers = null)
{
    public static ApiResponse Json<T>(HttpStatusCode status, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, IReadOnlyDictionary<string, string>? headers = null) =>
        new((int)status, "application/json; charset=utf-8", JsonSerializer.SerializeToUtf8Bytes(value, type), headers);

    /// <summary>An RFC 9457 problem: type, title, status, detail, plus named errors for a validation failure.</summary>
    public static ApiResponse Problem(HttpStatusCode status, string title, string detail, IReadOnlyList<OptionError>? errors = null) =>
        new((int)status, "application/problem+json; charset=utf-8", JsonSerializer.SerializeToUtf8Bytes(
            new ProblemDetails
            {
                Type = $"https://httpstatuses.io/{(int)status}",
                Title = title,
                Status = (int)status,
                Detail = detail,
                Errors = errors?.Select(e => new ProblemError(e.Field, e.Message)).ToList(),
            }, ApiJsonContext.Default.ProblemDetails),
            status == HttpStatusCode.Unauthorized ? new Dictionary<string, string> { ["WWW-Authenticate"] = "Bearer" } : null);
}

public sealed record ProblemDetails
{
    public required string Type { get; init; }
    public required string Title { get; init; }
    public required int Status { get; init; }
    public required string Detail { get; init; }
    public List<ProblemError>? Errors { get; init; }
}

public sealed record ProblemError(string Field, string Message);

/// <summary>201 of POST /api/jobs: the job and where (and how) to upload the photo.</summary>
public sealed record CreatedJob
{
    public required JobView Job { get; init; }
    /// <summary>A SAS URL that can create exactly this one blob, for at most 15 minutes.</summary>
    public required Uri UploadUrl { get; init; }
    public required DateTimeOffset UploadExpiresAt { get; init; }
    /// <summary>PUT the photo's bytes to UploadUrl with these headers.</summary>
    public required Dictionary<string, string> UploadHeaders { get; init; }
}

/// <summary>A job as its tenant sees it.</summary>
public sealed record JobView
{
    public required string JobId { get; init; }
    public required JobState State { get; init; }
    public required JobOptions Options { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public string? Rule { get; init; }
    public string? Reason { get; init; }
    /// <summary>API jobs: when the last upload URL expires.</summary>
    public DateTimeOffset? UploadExpiresAt { get; init; }
    /// <summary>True for a job still awaiting its upload after its upload URL expired: the photo never came.</summary>
    public bool UploadOverdue { get; init; }
    public int? InputWidth { get; init; }
    public int? InputHeight { get; init; }
    public string? InputFormat { get; init; }
    public JobUsage? Usage { get; init; }

    public static JobView Of(JobRecord job, DateTimeOffset now) => new()
    {
        UploadExpiresAt = job.UploadExpiresAt,
        UploadOverdue = job.State == JobState.AwaitingUpload && job.UploadExpiresAt is { } expires && now > expires,
        JobId = job.JobId,
        State = job.State,
        Options = job.Options,
        CreatedAt = job.CreatedAt,
        UpdatedAt = job.UpdatedAt,
        Rule = job.RejectionRule,
        Reason = job.Reason,
        InputWidth = job.InputWidth,
        InputHeight = job.InputHeight,
        InputFormat = job.InputFormat,
        Usage = job.Usage,
    };
}

/// <summary>200 of GET /api/jobs/{id}/result: read-only SAS URLs of the result and its report.</summary>
public sealed record JobResult
{
    public required string JobId { get; init; }
    public required Uri ResultUrl { get; init; }
    public required Uri ReportUrl { get; init; }
    public required DateTimeOffset ExpiresAt { get; init; }
}

public sealed record CreateTenantRequest
{
    [JsonRequired]
    public required string TenantId { get; init; }
    public string? DisplayName { get; init; }
}

/// <summary>The only response that ever carries the API key.</summary>
public sealed record CreatedTenantResponse
{
    public required string TenantId { get; init; }
    public required string DisplayName { get; init; }
    public required string ApiKey { get; init; }
    public required string WebhookSecret { get; init; }
}

// Unknown members are refused (400 naming the field): a misspelt option ("fidelty") must not silently run the job
// with the default.
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, UseStringEnumConverter = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(ProblemDetails))]
[JsonSerializable(typeof(CreatedJob))]
[JsonSerializable(typeof(JobView))]
[JsonSerializable(typeof(JobResult))]
[JsonSerializable(typeof(JobOptions))]
[JsonSerializable(typeof(MonthlyUsage))]
[JsonSerializable(typeof(CreateTenantRequest))]
[JsonSerializable(typeof(CreatedTenantResponse))]
public sealed partial class ApiJsonContext : JsonSerializerContext;
