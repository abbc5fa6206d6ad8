using System.Text.Json;
using Azure.Messaging;
using CodeFormer.Shared.Jobs;
using CodeFormer.Shared.Serialization;

namespace CodeFormer.Shared.Events;

/// <summary>The lifecycle events published on the job-events topic (CloudEvents 1.0).</summary>
public enum JobEventKind
{
    Accepted,
    Rejected,
    Succeeded,
    Failed,
    Cancelled,
    /// <summary>An API job whose photo never arrived before its upload URL (plus grace) expired.</summary>
    Expired,
}

/// <summary>The <c>data</c> of every job event.</summary>
public sealed record JobEventData
{
    public required string JobId { get; init; }
    public required string TenantId { get; init; }
    public required JobState State { get; init; }
    /// <summary>Rejected: the rule broken (e.g. MaxPixels, UnsupportedFormat, InvalidOptions).</summary>
    public string? Rule { get; init; }
    /// <summary>Rejected and failed: what happened, in words.</summary>
    public string? Reason { get; init; }
    /// <summary>Succeeded: the result and report blob names in the results container.</summary>
    public string? ResultBlobName { get; init; }
    public string? ReportBlobName { get; init; }
    public JobUsage? Usage { get; init; }
}

/// <summary>Builds the CloudEvents: type <c>CodeFormer.Job.{Kind}</c>, subject <c>/tenants/{tenant}/jobs/{id}</c>.</summary>
public static class JobEvents
{
    public const string Source = "/codeformer-cloud/jobs";
    public const string TypePrefix = "CodeFormer.Job.";

    public static string TypeOf(JobEventKind kind) => TypePrefix + kind;

    public static string SubjectOf(string tenantId, string jobId) => $"/tenants/{tenantId}/jobs/{jobId}";

    /// <summary>
    /// The event for a job's current state. Its id is "{jobId}.{kind}", the same on every retry, so subscribers can
    /// drop a repeat (Event Grid delivers at least once anyway).
    /// </summary>
    public static CloudEvent Create(JobEventKind kind, JobRecord job)
    {
        var data = new JobEventData
        {
            JobId = job.JobId,
            TenantId = job.TenantId,
            State = job.State,
            Rule = job.RejectionRule,
            Reason = job.Reason,
            ResultBlobName = job.ResultBlobName,
            ReportBlobName = job.ReportBlobName,
            Usage = job.Usage,
        };
        var body = BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(data, SharedJsonContext.Default.JobEventData));
        return new CloudEvent(Source, TypeOf(kind), body, "application/json", CloudEventDataFormat.Json)
        {
            Id = $"{job.JobId}.{kind.ToString().ToLowerInvariant()}",
            Subject = SubjectOf(job.TenantId, job.JobId),
            Time = job.UpdatedAt,
        };
    }

    public static JobEventData ReadData(CloudEvent cloudEvent) =>
        JsonSerializer.Deserialize(cloudEvent.Data!.ToMemory().Span, SharedJsonContext.Default.JobEventData)
        ?? throw new JsonException("The event carries no data.");
}
