using Amqp;
using Amqp.Framing;

namespace CodeFormer.Testing.ServiceBus;

/// <summary>
/// One message as the broker holds it: the client's encoding kept verbatim (so every property and the body
/// round-trip untouched) plus the broker-side state that Service Bus stamps on each delivery.
/// </summary>
internal sealed class StoredMessage
{
    public StoredMessage(long sequenceNumber, byte[] encoded, DateTimeOffset enqueuedTime, string? messageId, DateTimeOffset? scheduledEnqueueTime)
    {
        SequenceNumber = sequenceNumber;
        Encoded = encoded;
        EnqueuedTime = enqueuedTime;
        MessageId = messageId;
        ScheduledEnqueueTime = scheduledEnqueueTime;
    }

    public long SequenceNumber { get; }

    public byte[] Encoded { get; }

    public DateTimeOffset EnqueuedTime { get; }

    public string? MessageId { get; }

    public DateTimeOffset? ScheduledEnqueueTime { get; }

    /// <summary>Deliveries so far, this one included (what the receiver sees as DeliveryCount).</summary>
    public int DeliveryCount { get; set; }

    public Guid? LockToken { get; set; }

    public DateTimeOffset LockedUntil { get; set; }

    public string? DeadLetterSource { get; set; }

    /// <summary>Application properties changed by abandon/dead-letter (propertiesToModify, the dead-letter reason).</summary>
    public Dictionary<string, object> PropertyOverrides { get; } = new(StringComparer.Ordinal);

    public static Message Decode(byte[] encoded) => Message.Decode(new ByteBuffer(encoded, 0, encoded.Length, encoded.Length));

    /// <summary>The message as a receiver gets it: the original sections plus the broker's annotations.</summary>
    public Message ToAmqp(DateTimeOffset? lockedUntil)
    {
        var message = Decode(Encoded);
        var header = message.Header ?? new Header { Durable = true };
        // AMQP counts failed attempts before this one; the SDK adds one back.
        header.DeliveryCount = (uint)Math.Max(0, DeliveryCount - 1);
        message.Header = header;

        message.MessageAnnotations ??= new MessageAnnotations();
        message.MessageAnnotations[ServiceBusWire.SequenceNumber] = SequenceNumber;
        message.MessageAnnotations[ServiceBusWire.EnqueuedTime] = EnqueuedTime.UtcDateTime;
        if (lockedUntil is { } until)
        {
            message.MessageAnnotations[ServiceBusWire.LockedUntil] = until.UtcDateTime;
        }

        if (DeadLetterSource is not null)
        {
            message.MessageAnnotations[ServiceBusWire.DeadLetterSource] = DeadLetterSource;
        }

        if (PropertyOverrides.Count > 0)
        {
            message.ApplicationProperties ??= new ApplicationProperties();
            foreach (var (name, value) in PropertyOverrides)
            {
                message.ApplicationProperties[name] = value;
            }
        }

        return message;
    }

    public byte[] EncodeForPeek()
    {
        var buffer = ToAmqp(LockToken is null ? null : LockedUntil).Encode();
        return buffer.Buffer.AsSpan(buffer.Offset, buffer.Length).ToArray();
    }
}
