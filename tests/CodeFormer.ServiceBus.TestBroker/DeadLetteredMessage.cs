namespace CodeFormer.Testing.ServiceBus;

/// <summary>A message in a queue's dead-letter queue, as a test asserts on it.</summary>
/// <param name="Body">The body when it is a single Data section (what ServiceBusMessage sends), else null.</param>
public sealed record DeadLetteredMessage(
    long SequenceNumber,
    string? MessageId,
    byte[]? Body,
    string? DeadLetterReason,
    string? DeadLetterErrorDescription,
    int DeliveryCount,
    IReadOnlyDictionary<string, object?> ApplicationProperties);
