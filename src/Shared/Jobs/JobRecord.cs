namespace CodeFormer.Shared.Jobs;

/// <summary>How a job came to exist.</summary>
public enum JobOrigin
{
    /// <summary>A photo dropped into <c>uploads/{tenant}/</c> directly (options from its blob metadata).</summary>
    DirectUpload,
    /// <summary>Created through <c>POST /api/jobs</c> (options from the body), then uploaded through its SAS URL.</summary>
    Api,
}

/// <summary>
/// One job as the store holds it. Immutable: every change goes through <see cref="JobStore"/>, which writes it with
/// the ETag it was read with (optimistic concurrency) and returns the new record with its new ETag.
/// </summary>
public sealed record JobRecord
{
    public required string JobId { get; init; }
    public required string TenantId { get; init; }
    public required JobState State { get; init; }
    public required JobOrigin Origin { get; init; }
    public required JobOptions Options { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The upload: container and blob name (known from creation for API jobs).</summary>
    public required string InputContainer { get; init; }
    public required string InputBlobName { get; init; }

    /// <summary>
    /// API jobs: when the last upload URL issued for it expires. A job still AwaitingUpload after this is overdue: its
    /// photo can no longer arrive unless the client asks again (an Idempotency-Key replay issues a fresh URL).
    /// </summary>
    public DateTimeOffset? UploadExpiresAt { get; init; }

    /// <summary>The upload's header facts, once it passed the checks.</summary>
    public string? InputFormat { get; init; }
    public int? InputWidth { get; init; }
    public int? InputHeight { get; init; }
    public long? InputBytes { get; init; }

    /// <summary>
    /// True once the intake finished its outside effects: for a queued job the message was sent and the accepted event
    /// published; for a rejected one the blob was tagged and the rejected event published. A retried intake then does nothing.
    /// </summary>
    public bool IntakeCompleted { get; init; }

    /// <summary>How many times a worker started it (redeliveries included).</summary>
    public int Attempts { get; init; }

    /// <summary>For <see cref="JobState.Rejected"/>: the rule the upload broke (an ImageRejectionRule name, "InvalidOptions", …).</summary>
    public string? RejectionRule { get; init; }

    /// <summary>For rejected and failed jobs: what happened, in words.</summary>
    public string? Reason { get; init; }

    /// <summary>For succeeded jobs: the result and its JSON report in the results container.</summary>
    public string? ResultBlobName { get; init; }
    public string? ReportBlobName { get; init; }

    public JobUsage? Usage { get; init; }

    /// <summary>The table ETag this record was read or written with; the next write must match it.</summary>
    public string ETag { get; init; } = "";
}
