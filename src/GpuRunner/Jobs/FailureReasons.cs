using Azure;
using CodeFormer.Engine.Pipeline;

namespace CodeFormer.GpuRunner.Jobs;

/// <summary>
/// The failure reasons the worker records (job row, dead-letter reason, metrics), and which failures are permanent.
/// Permanent: the photo, its options or its upload is the problem, and another try gives the same answer.
/// Transient: storage, Event Grid, timeouts, the engine's own faults (CUDA out of memory): another try may succeed.
/// </summary>
public static class FailureReasons
{
    public const string InvalidMessage = "InvalidMessage";
    public const string JobNotFound = "JobNotFound";
    public const string PhotoRefused = "PhotoRefused";
    public const string InvalidOptions = "InvalidOptions";
    /// <summary>A valid job whose task (colorize, inpaint) this worker has no engine for: another try gives the same answer.</summary>
    public const string TaskNotServed = "TaskNotServed";
    public const string UploadMissing = "UploadMissing";
    public const string TimedOut = "TimedOut";
    public const string ModelFault = "ModelFault";
    public const string Storage = "Storage";
    public const string Events = "Events";
    public const string Transient = "Transient";
    public const string RetriesExhausted = "RetriesExhausted";

    /// <summary>A transient failure's reason, from the exception that carried it.</summary>
    public static string OfTransient(Exception exception) => exception switch
    {
        ModelFaultException => ModelFault,
        EventPublishException => Events,
        RequestFailedException or TimeoutException or HttpRequestException or IOException => Storage,
        _ => Transient,
    };

    /// <summary>The reason a permanent engine failure is recorded under.</summary>
    public static string OfRefusal(PhotoRefusedException refused) =>
        refused.Rule is null && refused.InnerException is ArgumentException ? InvalidOptions : PhotoRefused;
}

/// <summary>A permanent failure found while processing: the job fails with <see cref="Reason"/> and the message dead-letters.</summary>
public sealed class PermanentJobFailureException(string reason, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Reason { get; } = reason;
}

/// <summary>Publishing a job event failed; transient (the topic or the network), so the delivery is retried.</summary>
public sealed class EventPublishException(string message, Exception inner) : Exception(message, inner);
