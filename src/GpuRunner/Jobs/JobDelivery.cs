namespace CodeFormer.GpuRunner.Jobs;

/// <summary>One delivery of a queue message, as the processor needs it (independent of the Service Bus types).</summary>
public sealed record JobDelivery(
    BinaryData Body,
    string MessageId,
    int DeliveryCount,
    DateTimeOffset EnqueuedTime,
    IReadOnlyDictionary<string, object> ApplicationProperties);

/// <summary>What to do with the message after processing.</summary>
public enum DeliveryDisposition
{
    /// <summary>Done (succeeded, already terminal, cancelled, or failed and recorded): remove it from the queue.</summary>
    Complete,
    /// <summary>Give it back for another delivery (transient failure, or shutting down).</summary>
    Abandon,
    /// <summary>Move it to the dead-letter queue with <see cref="JobOutcome.Reason"/>.</summary>
    DeadLetter,
}

/// <summary>The processor's decision for one delivery, and for metrics and logs, what happened.</summary>
/// <param name="Outcome">succeeded, failed, retried, abandoned or skipped.</param>
/// <param name="Reason">A short machine-readable reason (dead-letter reason, failure reason), when there is one.</param>
/// <param name="Description">The detail, in words.</param>
public sealed record JobOutcome(DeliveryDisposition Disposition, string Outcome, string? Reason = null, string? Description = null)
{
    public static JobOutcome Succeeded() => new(DeliveryDisposition.Complete, "succeeded");

    public static JobOutcome Skipped(string reason) => new(DeliveryDisposition.Complete, "skipped", reason);

    public static JobOutcome Retry(string reason, string description) => new(DeliveryDisposition.Abandon, "retried", reason, description);

    public static JobOutcome ShuttingDown() => new(DeliveryDisposition.Abandon, "abandoned", "ShuttingDown", "The worker is shutting down; the job goes back to the queue.");

    public static JobOutcome Failed(string reason, string description) => new(DeliveryDisposition.DeadLetter, "failed", reason, description);
}
