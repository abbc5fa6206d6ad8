using System.Runtime.CompilerServices;
using Amqp;
using Amqp.Handler;

namespace CodeFormer.Testing.ServiceBus;

/// <summary>
/// Puts the lock token on the wire. The SDK reads a message's lock token from its 16-byte delivery tag,
/// and AMQPNetLite lets a connection handler choose the tag as each delivery goes out.
/// </summary>
internal sealed class DeliveryTagHandler : IHandler
{
    readonly ConditionalWeakTable<Message, byte[]> tags = new();

    public void Assign(Message message, Guid lockToken) => tags.AddOrUpdate(message, lockToken.ToByteArray());

    public bool CanHandle(EventId id) => id == EventId.SendDelivery;

    public void Handle(Event protocolEvent)
    {
        if (protocolEvent.Id == EventId.SendDelivery
            && protocolEvent.Context is IDelivery { Message: { } message } delivery
            && tags.TryGetValue(message, out var tag))
        {
            delivery.Tag = tag;
        }
    }
}
