using Amqp;
using Amqp.Framing;

namespace CodeFormer.Testing.ServiceBus;

/// <summary>A message picked for a receiver, sent by the pump once the broker's lock is released.</summary>
internal sealed record PendingDelivery(ReceiverLinkEndpoint Receiver, Message Message, StoredMessage Stored);

/// <summary>
/// The messages of one address (a queue or its dead-letter queue) and the Service Bus rules over them:
/// visible in sequence order, peek-locks with expiry, abandon, dead-lettering, scheduling, duplicate detection.
/// Every member must be called with <see cref="BrokerCore.Gate"/> held; nothing here touches the network.
/// </summary>
internal sealed class MessageStore
{
    readonly BrokerCore core;
    readonly SortedDictionary<long, StoredMessage> visible = new();
    readonly Dictionary<Guid, StoredMessage> locked = new();
    readonly List<StoredMessage> scheduled = new();
    readonly Dictionary<string, DateTimeOffset> acceptedMessageIds = new(StringComparer.Ordinal);
    readonly List<ReceiverLinkEndpoint> receivers = new();
    int nextReceiver;

    public MessageStore(BrokerCore core, string address, string queueName, TestQueueOptions options, MessageStore? deadLetterStore)
    {
        this.core = core;
        Address = address;
        QueueName = queueName;
        Options = options;
        DeadLetterStore = deadLetterStore;
    }

    public string Address { get; }

    public string QueueName { get; }

    public TestQueueOptions Options { get; }

    /// <summary>Where dead-lettered messages go; null for a dead-letter queue itself.</summary>
    public MessageStore? DeadLetterStore { get; }

    public int VisibleCount => visible.Count;

    public int LockedCount => locked.Count;

    public int ScheduledCount => scheduled.Count;

    public int DroppedDuplicateCount { get; private set; }

    public int CompletedCount { get; private set; }

    public bool IsIdle => visible.Count == 0 && locked.Count == 0 && scheduled.Count == 0;

    public IEnumerable<StoredMessage> AllMessages =>
        visible.Values.Concat(locked.Values).Concat(scheduled).OrderBy(m => m.SequenceNumber);

    public void AddReceiver(ReceiverLinkEndpoint receiver) => receivers.Add(receiver);

    public void RemoveReceiver(ReceiverLinkEndpoint receiver) => receivers.Remove(receiver);

    /// <summary>Accepts one message from a sender. Returns the sequence number, or null when dropped as a duplicate.</summary>
    public long? Enqueue(byte[] encoded, DateTimeOffset now, DateTimeOffset? scheduleOverride = null)
    {
        var message = StoredMessage.Decode(encoded);
        var messageId = message.Properties?.MessageId?.ToString();
        if (IsDuplicate(messageId, now))
        {
            DroppedDuplicateCount++;
            return null;
        }

        var scheduledTime = scheduleOverride ?? ReadScheduledEnqueueTime(message);
        var stored = new StoredMessage(core.NextSequenceNumber(), encoded, now, messageId, scheduledTime);
        if (scheduledTime is { } at && at > now)
        {
            scheduled.Add(stored);
        }
        else
        {
            visible.Add(stored.SequenceNumber, stored);
        }

        return stored.SequenceNumber;
    }

    public bool CancelScheduled(long sequenceNumber) =>
        scheduled.RemoveAll(m => m.SequenceNumber == sequenceNumber) > 0;

    /// <summary>Hands visible messages to receivers that have link credit, locking them in peek-lock mode.</summary>
    public void Dispatch(DateTimeOffset now, List<PendingDelivery> deliveries)
    {
        while (visible.Count > 0 && NextReceiverWithCredit() is { } receiver)
        {
            var stored = visible.First().Value;
            visible.Remove(stored.SequenceNumber);
            receiver.OnDispatched();
            stored.DeliveryCount++;

            Guid lockToken;
            DateTimeOffset? lockedUntil = null;
            if (receiver.PeekLock)
            {
                lockToken = Guid.NewGuid();
                stored.LockToken = lockToken;
                stored.LockedUntil = now + Options.LockDuration;
                lockedUntil = stored.LockedUntil;
                locked.Add(lockToken, stored);
            }
            else
            {
                // Receive-and-delete: the message leaves the queue as it is sent. The tag is still a GUID
                // because the SDK parses every delivery tag as one.
                lockToken = Guid.NewGuid();
            }

            var message = stored.ToAmqp(lockedUntil);
            receiver.Track(message, lockToken);
            core.DeliveryTags.Assign(message, lockToken);
            deliveries.Add(new PendingDelivery(receiver, message, stored));
        }
    }

    /// <summary>Receivers that asked to drain and have nothing more coming: their credit is spent.</summary>
    public void CollectFinishedDrains(List<ReceiverLinkEndpoint> drains)
    {
        foreach (var receiver in receivers)
        {
            if (receiver.DrainRequested && (visible.Count == 0 || receiver.Credit == 0))
            {
                receiver.FinishDrain();
                drains.Add(receiver);
            }
        }
    }

    /// <summary>A receive-and-delete delivery that could not be sent goes back, so the test sees no loss the SDK did not cause.</summary>
    public void ReturnUnsent(ReceiverLinkEndpoint receiver, StoredMessage stored)
    {
        receiver.OnSendFailed();
        if (receiver.PeekLock)
        {
            // The lock stands and expires as usual, exactly as when a delivery is lost in flight.
            return;
        }

        stored.DeliveryCount--;
        visible[stored.SequenceNumber] = stored;
    }

    /// <summary>Expires locks and releases scheduled messages whose time has come.</summary>
    public void AdvanceClock(DateTimeOffset now)
    {
        foreach (var expired in locked.Values.Where(m => m.LockedUntil <= now).ToList())
        {
            ReleaseLock(expired);
        }

        foreach (var due in scheduled.Where(m => m.ScheduledEnqueueTime <= now).ToList())
        {
            scheduled.Remove(due);
            visible.Add(due.SequenceNumber, due);
        }
    }

    public DateTimeOffset? NextDeadline()
    {
        DateTimeOffset? next = null;
        foreach (var message in locked.Values)
        {
            next = Earlier(next, message.LockedUntil);
        }

        foreach (var message in scheduled)
        {
            next = Earlier(next, message.ScheduledEnqueueTime!.Value);
        }

        return next;
    }

    /// <summary>Applies a receiver's settlement; returns the error to answer with, or null when it took effect.</summary>
    public Error? Settle(Guid lockToken, DeliveryState? outcome, DateTimeOffset now)
    {
        if (!TryGetLiveLock(lockToken, now, out var stored))
        {
            return LockLostError(lockToken);
        }

        switch (outcome)
        {
            case Accepted:
                locked.Remove(lockToken);
                CompletedCount++;
                return null;
            case Modified { UndeliverableHere: true }:
                return new Error(ServiceBusWire.NotImplemented) { Description = "Deferral is not modelled by the Service Bus test broker." };
            case Modified modified:
                ApplyOverrides(stored, modified.MessageAnnotations);
                ReleaseLock(stored);
                return null;
            case Rejected rejected:
                locked.Remove(lockToken);
                IDictionary<object, object>? info = rejected.Error?.Info;
                var reason = info?.TryGetValue(new Amqp.Types.Symbol(ServiceBusWire.DeadLetterReasonProperty), out var r) == true ? r as string : null;
                var description = info?.TryGetValue(new Amqp.Types.Symbol(ServiceBusWire.DeadLetterDescriptionProperty), out var d) == true ? d as string : null;
                ApplyOverrides(stored, info, except: [ServiceBusWire.DeadLetterReasonProperty, ServiceBusWire.DeadLetterDescriptionProperty]);
                DeadLetter(stored, reason, description);
                return null;
            default:
                return new Error(ServiceBusWire.NotImplemented) { Description = $"Outcome '{outcome?.GetType().Name ?? "none"}' is not modelled by the Service Bus test broker." };
        }
    }

    /// <summary>Same as a link settlement, by lock token, for the management node's update-disposition.</summary>
    public Error? SettleByStatus(Guid lockToken, string status, string? reason, string? description, IDictionary<object, object>? propertiesToModify, DateTimeOffset now)
    {
        if (!TryGetLiveLock(lockToken, now, out var stored))
        {
            return LockLostError(lockToken);
        }

        switch (status)
        {
            case "completed":
                locked.Remove(lockToken);
                CompletedCount++;
                return null;
            case "abandoned":
                ApplyOverrides(stored, propertiesToModify);
                ReleaseLock(stored);
                return null;
            case "suspended":
                locked.Remove(lockToken);
                ApplyOverrides(stored, propertiesToModify);
                DeadLetter(stored, reason, description);
                return null;
            default:
                return new Error(ServiceBusWire.NotImplemented) { Description = $"Disposition status '{status}' is not modelled by the Service Bus test broker." };
        }
    }

    /// <summary>Takes back a message the receiver released unprocessed; the delivery does not count.</summary>
    public Error? Release(Guid lockToken, DateTimeOffset now)
    {
        if (!TryGetLiveLock(lockToken, now, out var stored))
        {
            return LockLostError(lockToken);
        }

        locked.Remove(lockToken);
        stored.LockToken = null;
        stored.DeliveryCount--;
        visible.Add(stored.SequenceNumber, stored);
        return null;
    }

    /// <summary>Extends a live lock by the queue's LockDuration; null when the lock is gone.</summary>
    public DateTimeOffset? RenewLock(Guid lockToken, DateTimeOffset now)
    {
        if (!TryGetLiveLock(lockToken, now, out var stored))
        {
            return null;
        }

        stored.LockedUntil = now + Options.LockDuration;
        return stored.LockedUntil;
    }

    public static Error LockLostError(Guid lockToken) => new(ServiceBusWire.MessageLockLost)
    {
        Description = $"The lock {lockToken} is invalid: it expired, or the message was already settled or redelivered.",
    };

    bool TryGetLiveLock(Guid lockToken, DateTimeOffset now, out StoredMessage stored)
    {
        if (!locked.TryGetValue(lockToken, out stored!))
        {
            return false;
        }

        if (stored.LockedUntil <= now)
        {
            // Expired, the pump just has not swept it yet: same answer Service Bus gives.
            ReleaseLock(stored);
            return false;
        }

        return true;
    }

    void ReleaseLock(StoredMessage stored)
    {
        locked.Remove(stored.LockToken!.Value);
        stored.LockToken = null;
        if (DeadLetterStore is not null && stored.DeliveryCount >= Options.MaxDeliveryCount)
        {
            DeadLetter(stored, "MaxDeliveryCountExceeded", $"Message could not be consumed after {stored.DeliveryCount} delivery attempts.");
            return;
        }

        visible.Add(stored.SequenceNumber, stored);
    }

    void DeadLetter(StoredMessage stored, string? reason, string? description)
    {
        if (reason is not null)
        {
            stored.PropertyOverrides[ServiceBusWire.DeadLetterReasonProperty] = reason;
        }

        if (description is not null)
        {
            stored.PropertyOverrides[ServiceBusWire.DeadLetterDescriptionProperty] = description;
        }

        stored.LockToken = null;
        if (DeadLetterStore is null)
        {
            // Dead-lettering from the dead-letter queue keeps the message where it is.
            visible.Add(stored.SequenceNumber, stored);
            return;
        }

        stored.DeadLetterSource = QueueName;
        DeadLetterStore.visible.Add(stored.SequenceNumber, stored);
    }

    static void ApplyOverrides(StoredMessage stored, IDictionary<object, object>? properties, string[]? except = null)
    {
        if (properties is null)
        {
            return;
        }

        foreach (var (key, value) in properties)
        {
            var name = key.ToString()!;
            if (except?.Contains(name) != true)
            {
                stored.PropertyOverrides[name] = value;
            }
        }
    }

    bool IsDuplicate(string? messageId, DateTimeOffset now)
    {
        if (Options.DuplicateDetectionWindow is not { } window || messageId is null)
        {
            return false;
        }

        if (acceptedMessageIds.TryGetValue(messageId, out var acceptedAt) && now - acceptedAt < window)
        {
            return true;
        }

        acceptedMessageIds[messageId] = now;
        return false;
    }

    ReceiverLinkEndpoint? NextReceiverWithCredit()
    {
        for (var i = 0; i < receivers.Count; i++)
        {
            var receiver = receivers[(nextReceiver + i) % receivers.Count];
            if (receiver.Credit > 0)
            {
                nextReceiver = (nextReceiver + i + 1) % receivers.Count;
                return receiver;
            }
        }

        return null;
    }

    static DateTimeOffset? ReadScheduledEnqueueTime(Message message) =>
        message.MessageAnnotations?[ServiceBusWire.ScheduledEnqueueTime] is DateTime at
            ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc))
            : null;

    static DateTimeOffset? Earlier(DateTimeOffset? a, DateTimeOffset b) => a is null || b < a ? b : a;
}
