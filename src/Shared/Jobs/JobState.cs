namespace CodeFormer.Shared.Jobs;

/// <summary>Where a job is in its life. Only the transitions in <see cref="JobTransitions"/> are legal.</summary>
public enum JobState
{
    /// <summary>Created through <c>POST /api/jobs</c>; its upload URL was issued, the photo has not arrived.</summary>
    AwaitingUpload,
    /// <summary>The upload passed the header checks and the message is (being) sent to the queue.</summary>
    Queued,
    /// <summary>A worker holds the message and restores the photo.</summary>
    Running,
    Succeeded,
    /// <summary>The worker could not restore it (the reason is recorded), or it was dead-lettered.</summary>
    Failed,
    /// <summary>The upload broke a rule (format, limits, options); nothing was enqueued.</summary>
    Rejected,
    /// <summary>Cancelled by its tenant before a worker started it.</summary>
    Cancelled,
    /// <summary>
    /// An API job whose photo never arrived: still AwaitingUpload after its upload URL expired plus a grace period, so
    /// moved here by the upload sweep. Terminal; an upload that turns up later is ignored (never enqueued).
    /// </summary>
    Expired,
}

/// <summary>The legal moves between states, in one table.</summary>
public static class JobTransitions
{
    private static readonly Dictionary<JobState, JobState[]> Allowed = new()
    {
        // AwaitingUpload → Expired: the sweep, only after the upload URL (and its grace) ran out and no blob exists.
        [JobState.AwaitingUpload] = [JobState.Queued, JobState.Rejected, JobState.Cancelled, JobState.Expired],
        [JobState.Queued] = [JobState.Running, JobState.Cancelled, JobState.Failed],
        // Running → Running: a worker died holding the message; the redelivered message starts a new attempt.
        // Running → Failed also covers the message reaching MaxDeliveryCount.
        [JobState.Running] = [JobState.Running, JobState.Succeeded, JobState.Failed],
        [JobState.Succeeded] = [],
        [JobState.Failed] = [],
        [JobState.Rejected] = [],
        [JobState.Cancelled] = [],
        [JobState.Expired] = [],
    };

    public static bool IsLegal(JobState from, JobState to) => Allowed.TryGetValue(from, out var targets) && targets.Contains(to);

    public static bool IsTerminal(this JobState state) => Allowed[state].Length == 0;

    /// <summary>Throws <see cref="IllegalJobTransitionException"/> unless <paramref name="from"/> → <paramref name="to"/> is legal.</summary>
    public static void EnsureLegal(string jobId, JobState from, JobState to)
    {
        if (!IsLegal(from, to))
        {
            throw new IllegalJobTransitionException(jobId, from, to);
        }
    }
}

/// <summary>A transition the state machine does not allow (for example cancelling a running job).</summary>
public sealed class IllegalJobTransitionException(string jobId, JobState from, JobState to)
    : InvalidOperationException($"Job {jobId} cannot go from {from} to {to}.")
{
    public string JobId { get; } = jobId;
    public JobState From { get; } = from;
    public JobState To { get; } = to;
}
