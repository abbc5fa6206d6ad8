using Amqp.Framing;

namespace CodeFormer.Testing.ServiceBus;

/// <summary>
/// A queue on the test broker, for assertions: counts, the dead-letter queue's content, and waiting until
/// every message has been settled. All members are thread-safe snapshots.
/// </summary>
public sealed class TestQueue
{
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);
    readonly BrokerCore core;
    readonly MessageStore queue;
    readonly MessageStore deadLetterQueue;

    internal TestQueue(BrokerCore core, MessageStore queue, MessageStore deadLetterQueue)
    {
        this.core = core;
        this.queue = queue;
        this.deadLetterQueue = deadLetterQueue;
    }

    public string Name => queue.Address;

    /// <summary>The path that receives this queue's dead letters (<c>NAME/$deadletterqueue</c>).</summary>
    public string DeadLetterPath => deadLetterQueue.Address;

    public TestQueueOptions Options => queue.Options;

    /// <summary>Messages available to a receiver now (neither locked nor scheduled for later).</summary>
    public int ActiveMessageCount => Read(() => queue.VisibleCount);

    /// <summary>Messages under a peek-lock that has neither been settled nor expired.</summary>
    public int LockedMessageCount => Read(() => queue.LockedCount);

    /// <summary>Messages whose ScheduledEnqueueTime is still ahead.</summary>
    public int ScheduledMessageCount => Read(() => queue.ScheduledCount);

    /// <summary>Messages completed (removed) by receivers of this queue.</summary>
    public int CompletedMessageCount => Read(() => queue.CompletedCount);

    /// <summary>Messages acknowledged to their sender but dropped by duplicate detection.</summary>
    public int DroppedDuplicateCount => Read(() => queue.DroppedDuplicateCount);

    /// <summary>Messages in the dead-letter queue (available or locked by a dead-letter receiver).</summary>
    public int DeadLetterMessageCount => Read(() => deadLetterQueue.VisibleCount + deadLetterQueue.LockedCount);

    public IReadOnlyList<DeadLetteredMessage> GetDeadLetteredMessages()
    {
        lock (core.Gate)
        {
            return deadLetterQueue.AllMessages.Select(Describe).ToList();
        }
    }

    /// <summary>
    /// Waits until the queue holds nothing: no available, locked or scheduled message. Throws a
    /// <see cref="TimeoutException"/> naming what is left when that does not happen within <paramref name="timeout"/>.
    /// </summary>
    public async Task WaitUntilIdleAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        while (true)
        {
            lock (core.Gate)
            {
                if (queue.IsIdle)
                {
                    return;
                }
            }

            if (DateTimeOffset.UtcNow >= deadline)
            {
                throw new TimeoutException(
                    $"Queue '{Name}' was not idle after {timeout.TotalSeconds:0.###} s: {ActiveMessageCount} active, " +
                    $"{LockedMessageCount} locked, {ScheduledMessageCount} scheduled.");
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    T Read<T>(Func<T> read)
    {
        lock (core.Gate)
        {
            return read();
        }
    }

    static DeadLetteredMessage Describe(StoredMessage stored)
    {
        var message = stored.ToAmqp(lockedUntil: null);
        var properties = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (message.ApplicationProperties is { } applicationProperties)
        {
            foreach (var (key, value) in applicationProperties.Map)
            {
                properties[key.ToString()!] = value;
            }
        }

        return new DeadLetteredMessage(
            stored.SequenceNumber,
            stored.MessageId,
            (message.BodySection as Data)?.Binary,
            properties.GetValueOrDefault(ServiceBusWire.DeadLetterReasonProperty) as string,
            properties.GetValueOrDefault(ServiceBusWire.DeadLetterDescriptionProperty) as string,
            stored.DeliveryCount,
            properties);
    }
}
