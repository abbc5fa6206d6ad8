namespace CodeFormer.Testing.ServiceBus;

/// <summary>
/// The queue properties the test broker models, with Service Bus's defaults. Tests normally shorten
/// <see cref="LockDuration"/> to a second or two so that lock expiry can be observed quickly.
/// </summary>
public sealed class TestQueueOptions
{
    /// <summary>How long a peek-lock receive holds a message before it becomes available again (Service Bus default: 1 minute).</summary>
    public TimeSpan LockDuration { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Deliveries after which an unsettled message moves to the dead-letter queue (Service Bus default: 10).</summary>
    public int MaxDeliveryCount { get; init; } = 10;

    /// <summary>When set, a message whose MessageId was accepted within this window is acknowledged but dropped.</summary>
    public TimeSpan? DuplicateDetectionWindow { get; init; }

    internal void Validate(string queueName)
    {
        if (LockDuration <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(LockDuration), LockDuration, $"Queue '{queueName}': LockDuration must be positive.");
        }

        if (MaxDeliveryCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDeliveryCount), MaxDeliveryCount, $"Queue '{queueName}': MaxDeliveryCount must be at least 1.");
        }

        if (DuplicateDetectionWindow is { } window && window <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(DuplicateDetectionWindow), window, $"Queue '{queueName}': DuplicateDetectionWindow must be positive when set.");
        }
    }
}
