using Amqp;
using Amqp.Framing;
using Amqp.Listener;

namespace CodeFormer.Testing.ServiceBus;

/// <summary>Attaches the SDK's send and receive links to queues and dead-letter queues.</summary>
internal sealed class EntityLinkProcessor(BrokerCore core) : ILinkProcessor
{
    /// <summary>Service Bus Standard's limit; the SDK sizes batches by what the broker's attach announces.</summary>
    public const ulong MaxMessageSize = 256 * 1024;

    public void Process(AttachContext attachContext)
    {
        var attach = attachContext.Attach;
        var clientReceives = attach.Role;
        var address = ServiceBusWire.NormalizeAddress(clientReceives ? (attach.Source as Source)?.Address : (attach.Target as Target)?.Address);

        MessageStore? store;
        lock (core.Gate)
        {
            store = core.FindStore(address);
        }

        if (store is null)
        {
            attachContext.Complete(new Error(ErrorCode.NotFound)
            {
                Description = $"The messaging entity '{address}' does not exist on the test broker; create it with CreateQueue first.",
            });
            return;
        }

        attach.MaxMessageSize = MaxMessageSize;
        if (clientReceives)
        {
            var receiver = new ReceiverLinkEndpoint(core, store, attachContext.Link, peekLock: attach.SndSettleMode != SenderSettleMode.Settled);
            lock (core.Gate)
            {
                store.AddReceiver(receiver);
            }

            attachContext.Complete(receiver, 0);
            return;
        }

        if (store.DeadLetterStore is null)
        {
            attachContext.Complete(new Error(ErrorCode.NotAllowed) { Description = $"'{address}' is a dead-letter queue; messages cannot be sent to it." });
            return;
        }

        attachContext.Complete(new SenderLinkEndpoint(core, store), SenderLinkEndpoint.Credit);
    }
}
